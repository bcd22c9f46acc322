/**
 * Aliases, the published room directory and room upgrades over real HTTP (directory.yaml,
 * list_public_rooms.yaml, room_upgrades.yaml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRoomsFixture, C, enc, uid } from './rooms-fixture.ts';

test('aliases: create, resolve, list, delete with permissions', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat', room_alias_name: 'main' })).json.room_id;
    const a = enc('#family:localhost');
    const put = await alice('PUT', `${C}/directory/room/${a}`, { room_id: roomId });
    assert.equal(put.status, 200);
    const dup = await bob('PUT', `${C}/directory/room/${a}`, { room_id: roomId });
    assert.equal(dup.status, 409);
    const remote = await alice('PUT', `${C}/directory/room/${enc('#x:elsewhere.org')}`, { room_id: roomId });
    assert.equal(remote.status, 400);
    const missing = await alice('PUT', `${C}/directory/room/${enc('#y:localhost')}`, {});
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    const noRoom = await alice('PUT', `${C}/directory/room/${enc('#z:localhost')}`, { room_id: '!nope:localhost' });
    assert.equal(noRoom.status, 404);
    const get = await f.request('GET', `${C}/directory/room/${a}`);
    assert.deepEqual(get.json, { room_id: roomId, servers: ['localhost'] });
    assert.equal((await f.request('GET', `${C}/directory/room/${enc('#none:localhost')}`)).status, 404);
    const list = await alice('GET', `${C}/rooms/${enc(roomId)}/aliases`);
    assert.deepEqual(list.json.aliases, ['#family:localhost', '#main:localhost']);
    assert.equal((await f.as('carol')('GET', `${C}/rooms/${enc(roomId)}/aliases`)).status, 403);
    // Bob joined but has no power to delete Alice's alias.
    await bob('POST', `${C}/join/${enc(roomId)}`, {});
    assert.equal((await bob('DELETE', `${C}/directory/room/${a}`)).status, 403);
    assert.equal((await alice('DELETE', `${C}/directory/room/${a}`)).status, 200);
    assert.equal((await alice('DELETE', `${C}/directory/room/${a}`)).status, 404);
    // Deleting the canonical alias updates m.room.canonical_alias.
    assert.equal((await alice('DELETE', `${C}/directory/room/${enc('#main:localhost')}`)).status, 200);
    const canonical = await alice('GET', `${C}/rooms/${enc(roomId)}/state/m.room.canonical_alias`);
    assert.equal(canonical.json.alias, undefined);
  } finally {
    await f.close();
  }
});

test('public room directory: visibility, listing, search, paging', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const pub = (await alice('POST', `${C}/createRoom`, { visibility: 'public', name: 'Garden club', topic: 'roses', room_alias_name: 'garden' })).json.room_id;
    const priv = (await alice('POST', `${C}/createRoom`, { name: 'Secret' })).json.room_id;
    const pub2 = (await alice('POST', `${C}/createRoom`, { visibility: 'public', name: 'Chess' })).json.room_id;
    assert.equal((await f.request('GET', `${C}/directory/list/room/${enc(pub)}`)).json.visibility, 'public');
    assert.equal((await f.request('GET', `${C}/directory/list/room/${enc(priv)}`)).json.visibility, 'private');
    assert.equal((await f.request('GET', `${C}/directory/list/room/${enc('!nope:localhost')}`)).status, 404);
    const list = await f.request('GET', `${C}/publicRooms`);
    assert.equal(list.status, 200);
    assert.equal(list.json.total_room_count_estimate, 2);
    const garden = list.json.chunk.find((e: any) => e.room_id === pub);
    assert.deepEqual(garden, {
      room_id: pub,
      num_joined_members: 1,
      world_readable: false,
      guest_can_join: false,
      name: 'Garden club',
      topic: 'roses',
      canonical_alias: '#garden:localhost',
      join_rule: 'public',
    });
    const search = await alice('POST', `${C}/publicRooms`, { filter: { generic_search_term: 'ROSE' } });
    assert.deepEqual(search.json.chunk.map((e: any) => e.room_id), [pub]);
    const page1 = await f.request('GET', `${C}/publicRooms?limit=1`);
    assert.equal(page1.json.chunk.length, 1);
    const page2 = await f.request('GET', `${C}/publicRooms?limit=1&since=${page1.json.next_batch}`);
    assert.equal(page2.json.chunk.length, 1);
    assert.notEqual(page2.json.chunk[0].room_id, page1.json.chunk[0].room_id);
    assert.equal(page2.json.prev_batch, 'o0');
    assert.equal((await f.request('GET', `${C}/publicRooms?since=bogus`)).status, 400);
    assert.equal((await alice('POST', `${C}/publicRooms`, { limit: 'x' })).status, 400);
    // Publishing needs power in the room.
    await f.as('bob')('POST', `${C}/join/${enc(pub2)}`, {});
    assert.equal((await f.as('bob')('PUT', `${C}/directory/list/room/${enc(pub2)}`, { visibility: 'private' })).status, 403);
    assert.equal((await alice('PUT', `${C}/directory/list/room/${enc(pub2)}`, { visibility: 'private' })).status, 200);
    assert.equal((await alice('PUT', `${C}/directory/list/room/${enc(priv)}`, { visibility: 'hidden' })).status, 400);
    assert.equal((await f.request('GET', `${C}/publicRooms`)).json.chunk.length, 1);
  } finally {
    await f.close();
  }
});

test('room upgrade: tombstone, predecessor, copied state and power levels, moved aliases', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    for (const [from, to] of [
      ['6', '10'],
      ['10', '12'],
      ['12', '11'],
    ]) {
      const old = (
        await alice('POST', `${C}/createRoom`, {
          room_version: from,
          visibility: 'public',
          name: `Room ${from}`,
          topic: 't',
          room_alias_name: `up${from}`,
          power_level_content_override: from === '12' ? { users: { [uid('bob')]: 50 } } : { users: { [uid('alice')]: 100, [uid('bob')]: 50 } },
        })
      ).json.room_id;
      await bob('POST', `${C}/join/${enc(old)}`, {});
      await f.as('carol')('POST', `${C}/join/${enc(old)}`, {});
      assert.equal((await bob('POST', `${C}/rooms/${enc(old)}/upgrade`, { new_version: to })).status, 403, 'bob lacks tombstone power');
      const up = await alice('POST', `${C}/rooms/${enc(old)}/upgrade`, { new_version: to });
      assert.equal(up.status, 200, JSON.stringify(up.json));
      const nu: string = up.json.replacement_room;
      const tomb = await alice('GET', `${C}/rooms/${enc(old)}/state/m.room.tombstone`);
      assert.equal(tomb.json.replacement_room, nu);
      const create = await alice('GET', `${C}/rooms/${enc(nu)}/state/m.room.create`);
      assert.equal(create.json.room_version, to);
      assert.equal(create.json.predecessor.room_id, old);
      assert.equal((await alice('GET', `${C}/rooms/${enc(nu)}/state/m.room.name`)).json.name, `Room ${from}`);
      const pl = (await alice('GET', `${C}/rooms/${enc(nu)}/state/m.room.power_levels`)).json;
      assert.equal(pl.users[uid('bob')], 50);
      if (to === '12') assert.equal(pl.users[uid('alice')], undefined, 'v12 creators are not in users');
      else assert.equal(pl.users[uid('alice')], 100);
      assert.equal((await alice('GET', `${C}/directory/room/${enc(`#up${from}:localhost`)}`)).json.room_id, nu);
      assert.equal((await f.request('GET', `${C}/directory/list/room/${enc(nu)}`)).json.visibility, 'public');
      assert.equal((await f.request('GET', `${C}/directory/list/room/${enc(old)}`)).json.visibility, 'private');
      const oldPl = (await alice('GET', `${C}/rooms/${enc(old)}/state/m.room.power_levels`)).json;
      assert.equal(oldPl.events_default, 50);
      assert.equal(oldPl.invite, 50);
      // Carol (level 0) can no longer talk in the old room; Bob can join the new one (public).
      assert.equal((await f.as('carol')('PUT', `${C}/rooms/${enc(old)}/send/m.room.message/x${from}`, { body: 'x' })).status, 403);
      assert.equal((await bob('POST', `${C}/join/${enc(nu)}`, {})).status, 200);
    }
    const someRoom = (await alice('POST', `${C}/createRoom`, {})).json.room_id;
    const bad = await alice('POST', `${C}/rooms/${enc(someRoom)}/upgrade`, { new_version: '99' });
    assert.equal(bad.json.errcode, 'M_UNSUPPORTED_ROOM_VERSION');
    assert.equal((await alice('POST', `${C}/rooms/${enc(someRoom)}/upgrade`, {})).json.errcode, 'M_MISSING_PARAM');
    assert.equal((await alice('POST', `${C}/rooms/${enc('!nope:localhost')}/upgrade`, { new_version: '10' })).status, 403);
  } finally {
    await f.close();
  }
});
