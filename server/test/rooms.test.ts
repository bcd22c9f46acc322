/**
 * Room creation, state and members over real HTTP (create_room.yaml, rooms.yaml, room_state.yaml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRoomsFixture, C, enc, uid } from './rooms-fixture.ts';

test('createRoom: every preset in room versions 1, 6, 10, 11 and 12', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    for (const version of ['1', '6', '10', '11', '12']) {
      for (const preset of ['private_chat', 'trusted_private_chat', 'public_chat']) {
        const cr = await alice('POST', `${C}/createRoom`, { preset, room_version: version, name: `r${version}`, topic: 'about', invite: [uid('bob')] });
        assert.equal(cr.status, 200, `${version}/${preset}: ${JSON.stringify(cr.json)}`);
        const roomId: string = cr.json.room_id;
        if (version === '12') assert.match(roomId, /^![A-Za-z0-9_-]{43}$/);
        else assert.match(roomId, /^!.+:localhost$/);
        const st = await alice('GET', `${C}/rooms/${enc(roomId)}/state`);
        assert.equal(st.status, 200);
        const byType = new Map<string, any>(st.json.map((e: any) => [`${e.type}|${e.state_key}`, e]));
        const create = byType.get('m.room.create|');
        assert.equal(create.content.room_version, version);
        if (['1', '6', '10'].includes(version)) assert.equal(create.content.creator, uid('alice'));
        else assert.equal(create.content.creator, undefined);
        assert.equal(byType.get('m.room.join_rules|').content.join_rule, preset === 'public_chat' ? 'public' : 'invite');
        assert.equal(byType.get('m.room.history_visibility|').content.history_visibility, 'shared');
        assert.equal(byType.get('m.room.guest_access|').content.guest_access, preset === 'public_chat' ? 'forbidden' : 'can_join');
        assert.equal(byType.get('m.room.name|').content.name, `r${version}`);
        assert.equal(byType.get('m.room.topic|').content.topic, 'about');
        assert.equal(byType.get(`m.room.member|${uid('bob')}`).content.membership, 'invite');
        const pl = byType.get('m.room.power_levels|').content;
        if (version === '12') {
          assert.equal(pl.users[uid('alice')], undefined, 'v12 creators are not in users');
          assert.ok(pl.events['m.room.tombstone'] > pl.state_default);
          if (preset === 'trusted_private_chat') assert.deepEqual(create.content.additional_creators, [uid('bob')]);
        } else {
          assert.equal(pl.users[uid('alice')], 100);
          if (preset === 'trusted_private_chat') assert.equal(pl.users[uid('bob')], 100);
        }
      }
    }
  } finally {
    await f.close();
  }
});

test('createRoom: event order, initial_state, overrides, is_direct and errors', async () => {
  const f = await startRoomsFixture({ profiles: { [uid('alice')]: { displayname: 'Alice' } } });
  try {
    const alice = f.as('alice');
    const cr = await alice('POST', `${C}/createRoom`, {
      room_version: '10',
      room_alias_name: 'order',
      name: 'Named',
      initial_state: [
        { type: 'm.room.name', content: { name: 'overridden' } },
        { type: 'm.room.join_rules', content: { join_rule: 'public' } },
        { type: 'org.example.custom', state_key: 'k', content: { x: 1 } },
      ],
      power_level_content_override: { events_default: 10 },
      invite: [uid('bob')],
      is_direct: true,
    });
    assert.equal(cr.status, 200, JSON.stringify(cr.json));
    const roomId = cr.json.room_id;
    const msgs = await alice('GET', `${C}/rooms/${enc(roomId)}/messages?dir=f&limit=50`);
    const order = msgs.json.chunk.map((e: any) => `${e.type}${e.state_key ? '|' + e.state_key : ''}`);
    assert.deepEqual(order, [
      'm.room.create',
      `m.room.member|${uid('alice')}`,
      'm.room.power_levels',
      'm.room.canonical_alias',
      'm.room.history_visibility',
      'm.room.guest_access',
      'm.room.join_rules',
      'org.example.custom|k',
      'm.room.name',
      `m.room.member|${uid('bob')}`,
    ]);
    const chunk = msgs.json.chunk;
    assert.equal(chunk[1].content.displayname, 'Alice');
    assert.equal(chunk[2].content.events_default, 10);
    assert.equal(chunk[3].content.alias, '#order:localhost');
    assert.equal(chunk[6].content.join_rule, 'public');
    assert.equal(chunk[8].content.name, 'Named');
    assert.equal(chunk[9].content.is_direct, true);
    // Every event is a proper PDU chain: depth grows by one.
    const alias = await alice('GET', `${C}/directory/room/${enc('#order:localhost')}`);
    assert.equal(alias.json.room_id, roomId);

    // Errors.
    const taken = await alice('POST', `${C}/createRoom`, { room_alias_name: 'order' });
    assert.equal(taken.status, 400);
    assert.equal(taken.json.errcode, 'M_ROOM_IN_USE');
    const badVersion = await alice('POST', `${C}/createRoom`, { room_version: '99' });
    assert.equal(badVersion.status, 400);
    assert.equal(badVersion.json.errcode, 'M_UNSUPPORTED_ROOM_VERSION');
    const badJson = await f.request('POST', `${C}/createRoom`, { rawBody: '{nope', token: 'tok-alice' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.errcode, 'M_NOT_JSON');
    const badType = await alice('POST', `${C}/createRoom`, { name: 5 });
    assert.equal(badType.json.errcode, 'M_BAD_JSON');
    const badInvite = await alice('POST', `${C}/createRoom`, { invite: ['bob'] });
    assert.equal(badInvite.json.errcode, 'M_INVALID_PARAM');
    const badPreset = await alice('POST', `${C}/createRoom`, { preset: 'party' });
    assert.equal(badPreset.status, 400);
    const invalidState = await alice('POST', `${C}/createRoom`, {
      power_level_content_override: { events: { 'm.room.name': 200 } },
      room_version: '10',
      name: 'x',
    });
    assert.equal(invalidState.status, 400);
    assert.equal(invalidState.json.errcode, 'M_INVALID_ROOM_STATE');
    const noAuth = await f.request('POST', `${C}/createRoom`, { body: {} });
    assert.equal(noAuth.status, 401);
    assert.equal(noAuth.json.errcode, 'M_MISSING_TOKEN');
  } finally {
    await f.close();
  }
});

test('createRoom defaults to the configured room version', async () => {
  const f = await startRoomsFixture({ defaultRoomVersion: '11' });
  try {
    const cr = await f.as('alice')('POST', `${C}/createRoom`, {});
    const create = await f.as('alice')('GET', `${C}/rooms/${enc(cr.json.room_id)}/state/m.room.create`);
    assert.equal(create.json.room_version, '11');
  } finally {
    await f.close();
  }
});

test('state: get and put, with and without state key, format=event, permissions', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat', room_version: '10' })).json.room_id;
    const r = enc(roomId);
    const put = await alice('PUT', `${C}/rooms/${r}/state/m.room.name`, { name: 'Kitchen' });
    assert.equal(put.status, 200);
    assert.match(put.json.event_id, /^\$/);
    const again = await alice('PUT', `${C}/rooms/${r}/state/m.room.name/`, { name: 'Kitchen' });
    assert.equal(again.json.event_id, put.json.event_id, 'same content is not sent twice');
    const get = await alice('GET', `${C}/rooms/${r}/state/m.room.name/`);
    assert.deepEqual(get.json, { name: 'Kitchen' });
    const asEvent = await alice('GET', `${C}/rooms/${r}/state/m.room.name?format=event`);
    assert.equal(asEvent.json.event_id, put.json.event_id);
    assert.equal(asEvent.json.type, 'm.room.name');
    const keyed = await alice('PUT', `${C}/rooms/${r}/state/org.example.k/${enc('a/b')}`, { v: 1 });
    assert.equal(keyed.status, 200);
    const keyedGet = await alice('GET', `${C}/rooms/${r}/state/org.example.k/${enc('a/b')}`);
    assert.deepEqual(keyedGet.json, { v: 1 });
    const missing = await alice('GET', `${C}/rooms/${r}/state/m.room.topic`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errcode, 'M_NOT_FOUND');

    // Bob is not a member: 403 to read and write.
    const bobRead = await bob('GET', `${C}/rooms/${r}/state`);
    assert.equal(bobRead.status, 403);
    assert.equal(bobRead.json.errcode, 'M_FORBIDDEN');
    const bobJoin = await bob('POST', `${C}/rooms/${r}/join`, {});
    assert.equal(bobJoin.status, 200);
    const bobWrite = await bob('PUT', `${C}/rooms/${r}/state/m.room.name`, { name: 'Mine' });
    assert.equal(bobWrite.status, 403, 'users_default cannot set state_default state');
    assert.equal(bobWrite.json.errcode, 'M_FORBIDDEN');
    const bogus = await alice('PUT', `${C}/rooms/${r}/state/m.room.name`, [1, 2]);
    assert.equal(bogus.status, 400);
    const unknown = await alice('GET', `${C}/rooms/${enc('!nope:localhost')}/state`);
    assert.equal(unknown.status, 403);
    const malformed = await alice('GET', `${C}/rooms/nope/state`);
    assert.equal(malformed.status, 400);
    const badAlias = await alice('PUT', `${C}/rooms/${r}/state/m.room.canonical_alias`, { alias: '#nothere:localhost' });
    assert.equal(badAlias.status, 400);
    assert.equal(badAlias.json.errcode, 'M_BAD_ALIAS');
  } finally {
    await f.close();
  }
});

test('members, joined_members, joined_rooms', async () => {
  const f = await startRoomsFixture({ profiles: { [uid('bob')]: { displayname: 'Bob', avatar_url: 'mxc://x/y' } } });
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const roomId = (await alice('POST', `${C}/createRoom`, { preset: 'public_chat', invite: [uid('carol')] })).json.room_id;
    const r = enc(roomId);
    await bob('POST', `${C}/join/${r}`, {});
    const members = await alice('GET', `${C}/rooms/${r}/members`);
    assert.equal(members.status, 200);
    assert.deepEqual(members.json.chunk.map((e: any) => `${e.state_key}=${e.content.membership}`).sort(), [
      `${uid('alice')}=join`,
      `${uid('bob')}=join`,
      `${uid('carol')}=invite`,
    ]);
    const onlyInvites = await alice('GET', `${C}/rooms/${r}/members?membership=invite`);
    assert.deepEqual(onlyInvites.json.chunk.map((e: any) => e.state_key), [uid('carol')]);
    const notJoin = await alice('GET', `${C}/rooms/${r}/members?not_membership=join`);
    assert.equal(notJoin.json.chunk.length, 1);
    // `at`: before Bob joined.
    const early = await alice('GET', `${C}/rooms/${r}/messages?dir=f&limit=3`);
    const at = await alice('GET', `${C}/rooms/${r}/members?at=${early.json.end}`);
    assert.deepEqual(at.json.chunk.map((e: any) => e.state_key), [uid('alice')]);
    const badAt = await alice('GET', `${C}/rooms/${r}/members?at=zzz`);
    assert.equal(badAt.status, 400);
    const joined = await alice('GET', `${C}/rooms/${r}/joined_members`);
    assert.deepEqual(joined.json.joined[uid('bob')], { display_name: 'Bob', avatar_url: 'mxc://x/y' });
    assert.equal(Object.keys(joined.json.joined).length, 2);
    const carolJoined = await f.as('carol')('GET', `${C}/rooms/${r}/joined_members`);
    assert.equal(carolJoined.status, 403);
    const rooms = await bob('GET', `${C}/joined_rooms`);
    assert.deepEqual(rooms.json.joined_rooms, [roomId]);
  } finally {
    await f.close();
  }
});
