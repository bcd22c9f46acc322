/**
 * The space hierarchy (client-server space_hierarchy.yaml) over real HTTP:
 * GET /_matrix/client/v1/rooms/{roomId}/hierarchy against the real rooms services and a real
 * sql.js database. Rooms are set up through the rooms services directly and tokens are
 * `tok-<user id>`. Checks nested spaces, ordering, suggested_only, max_depth, pagination,
 * loops, who may see which room, the room fields, and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as spacesApi from '../api/client/spaces.ts';
import type { JsonObject } from '../core/events/types.ts';
import type { CreateRoomRequest } from '../services/rooms/create.ts';
import { compareChildren, SpaceHierarchy, type ChildStateEvent } from '../services/rooms/hierarchy.ts';
import { listenApp, openTempDatabase, testRooms, userIdTokenAuth } from './in-process-app.ts';

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';
const CAROL = '@carol:localhost';

async function startFixture() {
  const temp = await openTempDatabase('spaces');
  const { store, sender, creator, membership } = testRooms(temp.db, { keySeed: 5 });
  const hierarchy = new SpaceHierarchy({ rooms: store });
  const app = await listenApp((routes) => spacesApi.register(routes, { auth: userIdTokenAuth(), hierarchy }));

  return {
    hierarchy,
    membership,
    createRoom: async (userId: string, req: CreateRoomRequest = {}) => (await creator.createRoom(userId, req)).roomId,
    createSpace: async (userId: string, req: CreateRoomRequest = {}) =>
      (await creator.createRoom(userId, { ...req, creation_content: { type: 'm.space' } })).roomId,
    state: async (roomId: string, userId: string, type: string, stateKey: string, content: JsonObject) =>
      (await sender.send({ roomId, sender: userId, type, stateKey, content })).eventId,
    addChild: async (space: string, child: string, extra: JsonObject = {}) =>
      (await sender.send({ roomId: space, sender: ALICE, type: 'm.space.child', stateKey: child, content: { via: ['localhost'], ...extra } })).eventId,
    async get(roomId: string, userId: string | null, query: Record<string, string> = {}, version = 'v1') {
      const qs = new URLSearchParams(query).toString();
      const path = `/_matrix/client/${version}/rooms/${encodeURIComponent(roomId)}/hierarchy${qs ? `?${qs}` : ''}`;
      return app.request('GET', path, userId ? { token: `tok-${userId}` } : {});
    },
    async close() {
      await app.close();
      await temp.close();
    },
  };
}

const ids = (json: any): string[] => json.rooms.map((r: any) => r.room_id);

test('compareChildren follows the spec example', () => {
  const ev = (state_key: string, origin_server_ts: number, order?: string): ChildStateEvent => ({
    type: 'm.space.child',
    state_key,
    sender: ALICE,
    origin_server_ts,
    content: order === undefined ? { via: ['example.org'] } : { order, via: ['example.org'] },
  });
  const children = [
    ev('!b:example.org', 1640341000000, ' '),
    ev('!a:example.org', 1640141000000, 'aaaa'),
    ev('!c:example.org', 1640841000000, 'first'),
    ev('!e:example.org', 1640641000000),
    ev('!d:example.org', 1640741000000),
  ];
  const shuffled = [children[3]!, children[1]!, children[4]!, children[0]!, children[2]!];
  assert.deepEqual(
    shuffled.sort(compareChildren).map((c) => c.state_key),
    ['!b:example.org', '!a:example.org', '!c:example.org', '!e:example.org', '!d:example.org'],
  );
  // An invalid order (too long, or outside \x20–\x7E) counts as no order.
  const bad = [ev('!x:e', 2, 'é'), ev('!y:e', 1)];
  assert.deepEqual(bad.sort(compareChildren).map((c) => c.state_key), ['!y:e', '!x:e']);
});

test('GET /hierarchy', async (t) => {
  const fx = await startFixture();
  t.after(() => fx.close());

  // space (public) ─┬─ sub (public space, order "a") ── leaf (public)
  //                 ├─ general (public, order "b", suggested)
  //                 ├─ secret (private, order "c")
  //                 └─ gone (via: [], so not a child)
  const space = await fx.createSpace(ALICE, { preset: 'public_chat', name: 'Family', topic: 'Everything family', room_alias_name: 'family' });
  const sub = await fx.createSpace(ALICE, { preset: 'public_chat', name: 'Sub' });
  const leaf = await fx.createRoom(ALICE, { preset: 'public_chat', name: 'Leaf' });
  const general = await fx.createRoom(ALICE, { preset: 'public_chat', name: 'General' });
  const secret = await fx.createRoom(ALICE, { preset: 'private_chat', name: 'Secret' });
  const gone = await fx.createRoom(ALICE, { preset: 'public_chat', name: 'Gone' });
  await fx.addChild(space, sub, { order: 'a' });
  await fx.addChild(space, general, { order: 'b', suggested: true });
  await fx.addChild(space, secret, { order: 'c' });
  await fx.addChild(space, gone, { via: [] });
  await fx.addChild(sub, leaf);
  // A loop: sub lists space as its child.
  await fx.addChild(sub, space);
  await fx.membership.join(BOB, space);

  await t.test('depth first, children in order, rooms the user cannot see left out', async () => {
    const res = await fx.get(space, BOB);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(ids(res.json), [space, sub, leaf, general]);
    assert.equal(res.json.next_batch, undefined);
    // Alice is in every room.
    assert.deepEqual(ids((await fx.get(space, ALICE)).json), [space, sub, leaf, general, secret]);
  });

  await t.test('room fields and stripped children_state', async () => {
    const res = await fx.get(space, BOB);
    const root = res.json.rooms[0];
    assert.equal(root.name, 'Family');
    assert.equal(root.topic, 'Everything family');
    assert.equal(root.canonical_alias, '#family:localhost');
    assert.equal(root.room_type, 'm.space');
    assert.equal(root.join_rule, 'public');
    assert.equal(root.num_joined_members, 2);
    assert.equal(root.world_readable, false);
    assert.equal(root.guest_can_join, false);
    assert.equal(root.room_version, '11');
    assert.deepEqual(
      root.children_state.map((c: any) => c.state_key),
      [sub, general, secret],
    );
    const child = root.children_state[1];
    assert.deepEqual(Object.keys(child).sort(), ['content', 'origin_server_ts', 'sender', 'state_key', 'type']);
    assert.equal(child.type, 'm.space.child');
    assert.equal(child.sender, ALICE);
    assert.deepEqual(child.content, { via: ['localhost'], order: 'b', suggested: true });
    const leafRoom = res.json.rooms.find((r: any) => r.room_id === leaf);
    assert.deepEqual(leafRoom.children_state, []);
    assert.equal(leafRoom.room_type, undefined);
  });

  await t.test('suggested_only', async () => {
    const res = await fx.get(space, BOB, { suggested_only: 'true' });
    assert.deepEqual(ids(res.json), [space, general]);
    assert.deepEqual(
      res.json.rooms[0].children_state.map((c: any) => c.state_key),
      [general],
    );
  });

  await t.test('max_depth', async () => {
    assert.deepEqual(ids((await fx.get(space, BOB, { max_depth: '0' })).json), [space]);
    const one = await fx.get(space, BOB, { max_depth: '1' });
    assert.deepEqual(ids(one.json), [space, sub, general]);
    // children_state is still reported at the depth limit.
    assert.equal(one.json.rooms[1].children_state.length, 2);
  });

  await t.test('pagination with limit and from', async () => {
    const seen: string[] = [];
    let from: string | undefined;
    let pages = 0;
    do {
      const res = await fx.get(space, BOB, from ? { limit: '1', from } : { limit: '1' });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.ok(res.json.rooms.length <= 1);
      seen.push(...ids(res.json));
      from = res.json.next_batch;
      pages++;
    } while (from !== undefined && pages < 10);
    assert.deepEqual(seen, [space, sub, leaf, general]);

    const first = await fx.get(space, BOB, { limit: '2' });
    const token = first.json.next_batch as string;
    assert.equal(typeof token, 'string');
    const changed = await fx.get(space, BOB, { limit: '2', from: token, suggested_only: 'true' });
    assert.equal(changed.status, 400);
    assert.equal(changed.json.errcode, 'M_INVALID_PARAM');
    const depth = await fx.get(space, BOB, { limit: '2', from: token, max_depth: '1' });
    assert.equal(depth.status, 400);
    const otherUser = await fx.get(space, ALICE, { from: token });
    assert.equal(otherUser.status, 400);
    const unknown = await fx.get(space, BOB, { from: 'nonsense' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.errcode, 'M_INVALID_PARAM');
    const rest = await fx.get(space, BOB, { limit: '2', from: token });
    assert.deepEqual(ids(rest.json), [leaf, general]);
  });

  await t.test('forbidden root: private, unknown', async () => {
    const res = await fx.get(secret, BOB);
    assert.equal(res.status, 403);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
    const unknown = await fx.get('!nowhere:localhost', BOB);
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.errcode, 'M_FORBIDDEN');
    // Not a member, but the room is public: allowed.
    assert.equal((await fx.get(general, CAROL)).status, 200);
  });

  await t.test('invited, world_readable and restricted rooms are visible', async () => {
    const s = await fx.createSpace(ALICE, { preset: 'private_chat' });
    const invited = await fx.createRoom(ALICE, { preset: 'private_chat' });
    const readable = await fx.createRoom(ALICE, { preset: 'private_chat' });
    const restricted = await fx.createRoom(ALICE, { preset: 'private_chat' });
    await fx.state(readable, ALICE, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
    await fx.state(restricted, ALICE, 'm.room.join_rules', '', { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: s }] });
    for (const c of [invited, readable, restricted]) await fx.addChild(s, c);
    await fx.membership.invite(ALICE, s, BOB);
    await fx.membership.invite(ALICE, invited, BOB);
    // Bob is invited to the space (so he sees it) but not joined, so restricted is hidden.
    const before = await fx.get(s, BOB);
    assert.equal(before.status, 200);
    assert.deepEqual(new Set(ids(before.json)), new Set([s, invited, readable]));
    await fx.membership.join(BOB, s);
    const after = await fx.get(s, BOB);
    assert.deepEqual(new Set(ids(after.json)), new Set([s, invited, readable, restricted]));
    const r = after.json.rooms.find((x: any) => x.room_id === restricted);
    assert.equal(r.join_rule, 'restricted');
    assert.deepEqual(r.allowed_room_ids, [s]);
    assert.equal(after.json.rooms.find((x: any) => x.room_id === readable).world_readable, true);
    // Carol has no relation to the space.
    assert.equal((await fx.get(s, CAROL)).status, 403);
  });

  await t.test('bad query parameters, auth and versions', async () => {
    const bad: Record<string, string>[] = [{ limit: '0' }, { limit: 'ten' }, { max_depth: '-1' }, { suggested_only: 'yes' }];
    for (const q of bad) {
      const res = await fx.get(space, BOB, q);
      assert.equal(res.status, 400, JSON.stringify(q));
      assert.equal(res.json.errcode, 'M_INVALID_PARAM');
    }
    assert.equal((await fx.get(space, null)).status, 401);
    const v3 = await fx.get(space, BOB, {}, 'v3');
    assert.equal(v3.status, 404);
    assert.equal(v3.json.errcode, 'M_UNRECOGNIZED');
  });
});

test('federation answer: servers see the private rooms their users are joined or invited to', async (t) => {
  const fx = await startFixture();
  t.after(() => fx.close());
  const DAN = '@dan:remote.example';
  const space = await fx.createSpace(ALICE, { preset: 'private_chat', name: 'Private' });
  const child = await fx.createRoom(ALICE, { preset: 'private_chat' });
  await fx.addChild(space, child);
  await fx.membership.invite(ALICE, child, BOB);
  await fx.membership.join(BOB, child);
  await fx.state(space, ALICE, 'm.room.member', DAN, { membership: 'invite' });

  // localhost has joined members in both rooms; remote.example an invite to the space only.
  const ours = fx.hierarchy.forServer('localhost', space, false);
  assert.equal(ours.room.num_joined_members, 1);
  assert.deepEqual(ours.children.map((c) => [c.room_id, c.num_joined_members]), [[child, 2]]);
  const invited = fx.hierarchy.forServer('remote.example', space, false);
  assert.equal(invited.room.room_id, space);
  assert.deepEqual(invited.children, []);
  assert.deepEqual(invited.inaccessible_children, [child]);
  assert.throws(() => fx.hierarchy.forServer('other.example', space, false), { errcode: 'M_NOT_FOUND' });

  // With federation, a room none of our users is joined to is not summarised from its stale
  // state: it is asked for over federation (here: nobody answers).
  const asked: string[] = [];
  fx.hierarchy.useFederation({
    serverName: 'localhost',
    request: async (server, roomId) => {
      asked.push(`${server} ${roomId}`);
      throw new Error('down');
    },
  });
  assert.deepEqual(ids((await fx.get(space, ALICE)).json), [space, child]);
  await fx.membership.leave(BOB, child);
  await fx.membership.leave(ALICE, child);
  assert.deepEqual(ids((await fx.get(space, ALICE)).json), [space]);
  assert.deepEqual(asked, []);
});
