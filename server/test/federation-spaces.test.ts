/**
 * Spaces over federation (server-server space_hierarchy.yaml; client-server space_hierarchy.yaml
 * "Server behaviour"), with two real Hearth servers over TLS (federation-harness.ts). A user of A
 * has a public space with two public children (one suggested) and a private one; a user of B, in
 * none of them, reads the space through B's client /hierarchy, which asks A over federation.
 * Also GET /_matrix/federation/v1/hierarchy/{roomId} signed by a fake remote server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeRemote, startFederation, type FederatedServer, type Session } from './federation-harness.ts';

async function createRoom(s: FederatedServer, who: Session, body: Record<string, unknown>): Promise<string> {
  const r = await s.request('POST', '/_matrix/client/v3/createRoom', { token: who.access_token, body });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.room_id;
}

test('space hierarchy over federation', async () => {
  const [a, b] = await startFederation(2);
  const fake = await startFakeRemote();
  try {
    const alice: Session = await a!.registerUser('alice');
    const bob: Session = await b!.registerUser('bob');

    // A room version whose room ids name their server: B learns where to ask from the id alone.
    const space = await createRoom(a!, alice, { preset: 'public_chat', name: 'Family', room_version: '11', creation_content: { type: 'm.space' } });
    const general = await createRoom(a!, alice, { preset: 'public_chat', name: 'General', topic: 'Everything' });
    const photos = await createRoom(a!, alice, { preset: 'public_chat', name: 'Photos' });
    const secret = await createRoom(a!, alice, { preset: 'private_chat', name: 'Secret' });
    // A child only a dead server knows: asking it fails, and that child is just left out.
    const dead = '!dead:127.0.0.1:1';
    const child = async (roomId: string, content: Record<string, unknown>): Promise<void> => {
      const r = await a!.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(space)}/state/m.space.child/${encodeURIComponent(roomId)}`, {
        token: alice.access_token,
        body: { via: [roomId === dead ? '127.0.0.1:1' : a!.serverName], ...content },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    };
    await child(general, { order: 'a', suggested: true });
    await child(photos, { order: 'b' });
    await child(secret, { order: 'c' });
    await child(dead, { order: 'd' });

    const hierarchy = async (query = ''): Promise<{ status: number; json: any }> =>
      b!.request('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(space)}/hierarchy${query}`, { token: bob.access_token });

    // B's client API: the space and its public children, summarised by A.
    const all = await hierarchy();
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.deepEqual(all.json.rooms.map((r: any) => r.room_id), [space, general, photos]);
    assert.equal(all.json.next_batch, undefined);
    const [root, first] = all.json.rooms;
    assert.deepEqual(
      { name: root.name, room_type: root.room_type, join_rule: root.join_rule, num_joined_members: root.num_joined_members, world_readable: root.world_readable, guest_can_join: root.guest_can_join, room_version: root.room_version },
      { name: 'Family', room_type: 'm.space', join_rule: 'public', num_joined_members: 1, world_readable: false, guest_can_join: false, room_version: '11' },
    );
    assert.equal(first.name, 'General');
    assert.equal(first.topic, 'Everything');
    assert.deepEqual(first.children_state, []);
    // children_state: stripped m.space.child events plus origin_server_ts, in the spec's order.
    assert.deepEqual(root.children_state.map((e: any) => e.state_key), [general, photos, secret, dead]);
    for (const e of root.children_state) {
      assert.deepEqual(Object.keys(e).sort(), ['content', 'origin_server_ts', 'sender', 'state_key', 'type']);
      assert.equal(e.type, 'm.space.child');
      assert.equal(e.sender, alice.user_id);
      assert.equal(typeof e.origin_server_ts, 'number');
      assert.ok(Array.isArray(e.content.via));
    }
    // The private child is named in the space's state but never summarised.
    assert.ok(!JSON.stringify(all.json).includes('Secret'));

    // suggested_only.
    const suggested = await hierarchy('?suggested_only=true');
    assert.equal(suggested.status, 200);
    assert.deepEqual(suggested.json.rooms.map((r: any) => r.room_id), [space, general]);
    assert.deepEqual(suggested.json.rooms[0].children_state.map((e: any) => e.state_key), [general]);

    // max_depth 0: only the space.
    const shallow = await hierarchy('?max_depth=0');
    assert.deepEqual(shallow.json.rooms.map((r: any) => r.room_id), [space]);

    // The federation endpoint itself, asked by another server.
    const path = (roomId: string, q = ''): string => `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}${q}`;
    const fed = await fake.request(a!, 'GET', path(space));
    assert.equal(fed.status, 200, JSON.stringify(fed.json));
    assert.equal(fed.json.room.room_id, space);
    assert.equal(fed.json.room.children_state.length, 4);
    assert.deepEqual(fed.json.children.map((r: any) => r.room_id), [general, photos]);
    // Rooms A is not in are left out altogether; the private one is named as inaccessible.
    assert.deepEqual(fed.json.inaccessible_children, [secret]);
    const fedSuggested = await fake.request(a!, 'GET', path(space, '?suggested_only=true'));
    assert.deepEqual(fedSuggested.json.children.map((r: any) => r.room_id), [general]);
    assert.deepEqual(fedSuggested.json.inaccessible_children, []);
    for (const roomId of [secret, '!unknown:example.org']) {
      const r = await fake.request(a!, 'GET', path(roomId));
      assert.equal(r.status, 404, JSON.stringify(r.json));
      assert.equal(r.json.errcode, 'M_NOT_FOUND');
    }
    const bad = await fake.request(a!, 'GET', path(space, '?suggested_only=maybe'));
    assert.equal(bad.status, 400);
    // Unsigned: refused before anything is looked up.
    assert.equal((await a!.request('GET', path(space))).status, 401);

    // A room B cannot reach anywhere: 403, as for any root the user may not see.
    const unknown = await b!.request('GET', `/_matrix/client/v1/rooms/${encodeURIComponent('!nowhere:' + a!.serverName)}/hierarchy`, { token: bob.access_token });
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.errcode, 'M_FORBIDDEN');

    // Once bob has joined the space, B summarises it from its own copy. The state that came with
    // the join is stored outside the timeline (as outliers), and must still name the room.
    const join = await b!.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(space)}?server_name=${encodeURIComponent(a!.serverName)}`, {
      token: bob.access_token,
      body: {},
    });
    assert.equal(join.status, 200, JSON.stringify(join.json));
    const local = await hierarchy('?max_depth=0');
    assert.equal(local.status, 200, JSON.stringify(local.json));
    const [mine] = local.json.rooms;
    assert.deepEqual(
      { name: mine.name, room_type: mine.room_type, join_rule: mine.join_rule, num_joined_members: mine.num_joined_members },
      { name: 'Family', room_type: 'm.space', join_rule: 'public', num_joined_members: 2 },
    );
  } finally {
    await Promise.all([a!.close(), b!.close(), fake.close()]);
  }
});
