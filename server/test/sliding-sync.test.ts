/**
 * Simplified sliding sync (MSC4186) over real HTTP against a real Hearth: the /versions flag,
 * lists sorted by recency with counts and ranges, required_state wildcards, `$ME` and `$LAZY`,
 * incremental responses with only the changed rooms, long-polling, room subscriptions, timeline
 * expansion, invites, list filters, the to_device/e2ee/account_data/receipts/typing extensions,
 * and the errors (unknown pos, bad body).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.ts';

const V3 = '/_matrix/client/v3';
const SS = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

interface User {
  user_id: string;
  access_token: string;
  device_id: string;
}

/** What Element X asks of its room list (matrix-rust-sdk's defaults, trimmed). */
const LIST_STATE = [
  ['m.room.create', ''],
  ['m.room.name', ''],
  ['m.room.encryption', ''],
  ['m.room.member', '$LAZY'],
  ['m.room.member', '$ME'],
];

describe('simplified sliding sync over HTTP', () => {
  let ts: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  const room: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  let txn = 0;

  const call = (u: User, method: string, path: string, body?: unknown) => ts.request(method, `${V3}${path}`, { token: u.access_token, body });
  const ok = async (u: User, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await call(u, method, path, body);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const send = async (u: User, roomId: string, body: string): Promise<string> =>
    (await ok(u, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body })).event_id;
  const sliding = async (u: User, body: Record<string, unknown>, query = ''): Promise<any> => {
    const res = await ts.request('POST', `${SS}${query}`, { token: u.access_token, body });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json;
  };
  const list = (range: [number, number], extra: Record<string, unknown> = {}) => ({
    all: { ranges: [range], required_state: LIST_STATE, timeline_limit: 2, ...extra },
  });

  before(async () => {
    ts = await startTestServer();
    alice = await ts.registerUser('alice');
    bob = await ts.registerUser('bob');
    carol = await ts.registerUser('carol');
    // Created a, b, c; then activity in b, a, c order... so the newest is c, then a, then b.
    room.a = (await ok(alice, 'POST', '/createRoom', { name: 'Alpha', preset: 'private_chat', invite: [bob.user_id] })).room_id;
    room.b = (await ok(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.user_id], is_direct: true })).room_id;
    room.c = (await ok(alice, 'POST', '/createRoom', { name: 'Gamma', preset: 'private_chat' })).room_id;
    await ok(bob, 'POST', `/rooms/${encodeURIComponent(room.a)}/join`, {});
    await ok(bob, 'POST', `/rooms/${encodeURIComponent(room.b)}/join`, {});
    await send(bob, room.b, 'b1');
    await send(alice, room.a, 'a1');
    await send(bob, room.a, 'a2');
    await send(alice, room.c, 'c1');
  });

  after(() => ts.close());

  it('is advertised in /versions', async () => {
    const res = await ts.request('GET', '/_matrix/client/versions');
    assert.equal(res.json.unstable_features['org.matrix.simplified_msc3575'], true);
  });

  it('answers an initial request with the list window sorted by recency, counts and required_state', async () => {
    const res = await sliding(alice, { conn_id: 'room-list', lists: list([0, 1]) });
    assert.equal(typeof res.pos, 'string');
    assert.deepEqual(res.lists, { all: { count: 3 } });
    assert.deepEqual(Object.keys(res.rooms).sort(), [room.a, room.c].sort());
    const a = res.rooms[room.a];
    const c = res.rooms[room.c];
    assert.ok(c.bump_stamp > a.bump_stamp, 'c had the latest message');
    assert.equal(a.initial, true);
    assert.equal(a.membership, 'join');
    assert.equal(a.name, 'Alpha');
    assert.equal(a.joined_count, 2);
    assert.equal(a.invited_count, 0);
    assert.equal(a.notification_count, 1);
    assert.equal(a.num_live, 0);
    assert.equal(a.limited, true);
    assert.match(a.prev_batch, /^t\d+$/);
    assert.deepEqual(a.timeline.map((e: any) => e.content.body), ['a1', 'a2']);
    assert.equal(a.timeline[0].room_id, undefined);
    // required_state: the asked types, $ME, and ($LAZY) the members of the timeline's senders.
    const keys = a.required_state.map((e: any) => `${e.type}|${e.state_key}`).sort();
    assert.deepEqual(keys, ['m.room.create|', 'm.room.member|' + alice.user_id, 'm.room.member|' + bob.user_id, 'm.room.name|'].sort());
    // A room without a name gets heroes.
    const wide = await sliding(alice, { conn_id: 'heroes', lists: list([0, 2]) });
    assert.deepEqual(wide.rooms[room.b].heroes, [{ user_id: bob.user_id, displayname: 'bob' }]);
    assert.equal(wide.rooms[room.b].name, undefined);
  });

  it('honours the * wildcard for types and state keys', async () => {
    const res = await sliding(alice, {
      conn_id: 'wild',
      room_subscriptions: { [room.a]: { required_state: [['*', '*']], timeline_limit: 0 } },
    });
    const types = new Set(res.rooms[room.a].required_state.map((e: any) => e.type));
    for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.member', 'm.room.name']) assert.ok(types.has(t), t);
    assert.deepEqual(res.rooms[room.a].timeline, []);
    const members = await sliding(alice, {
      conn_id: 'wild',
      room_subscriptions: { [room.a]: { required_state: [['m.room.member', '*']], timeline_limit: 0 } },
    });
    const state = members.rooms[room.a].required_state;
    assert.deepEqual(state.map((e: any) => e.state_key).sort(), [alice.user_id, bob.user_id].sort());
    assert.ok(state.every((e: any) => e.type === 'm.room.member'));
    // The MSC's later form: include everything but the create event.
    const later = await sliding(alice, {
      conn_id: 'later',
      room_subscriptions: { [room.a]: { required_state: { include: [{}], exclude: [{ type: 'm.room.create' }] }, timeline_limit: 0 } },
    });
    const laterTypes = new Set(later.rooms[room.a].required_state.map((e: any) => e.type));
    assert.ok(laterTypes.has('m.room.power_levels') && !laterTypes.has('m.room.create'));
  });

  it('sends only the rooms that changed since pos, and new rooms entering the window as initial', async () => {
    const first = await sliding(alice, { conn_id: 'inc', lists: list([0, 1]) });
    const quiet = await sliding(alice, { conn_id: 'inc', lists: list([0, 1]) }, `?pos=${first.pos}&timeout=0`);
    assert.deepEqual(quiet.rooms, {});
    assert.deepEqual(quiet.lists, { all: { count: 3 } });
    assert.notEqual(quiet.pos, first.pos);

    // Room b (outside the window) gets a message: it moves to the top and is sent in full.
    await send(bob, room.b, 'b2');
    const moved = await sliding(alice, { conn_id: 'inc', lists: list([0, 1]) }, `?pos=${quiet.pos}&timeout=0`);
    assert.deepEqual(Object.keys(moved.rooms), [room.b]);
    assert.equal(moved.rooms[room.b].initial, true);
    assert.equal(moved.rooms[room.b].num_live, 1);
    assert.equal(moved.rooms[room.b].is_dm, undefined);

    // Room b again: now only the new event, not initial.
    await send(bob, room.b, 'b3');
    const delta = await sliding(alice, { conn_id: 'inc', lists: list([0, 1]) }, `?pos=${moved.pos}&timeout=0`);
    const b = delta.rooms[room.b];
    assert.equal(b.initial, undefined);
    assert.deepEqual(b.timeline.map((e: any) => e.content.body), ['b3']);
    assert.equal(b.num_live, 1);
    assert.equal(b.limited, false);
    assert.deepEqual(b.required_state.map((e: any) => `${e.type}|${e.state_key}`), [`m.room.member|${bob.user_id}`]);

    // The same pos may be used again (a retried request), with the same answer.
    const retry = await sliding(alice, { conn_id: 'inc', lists: list([0, 1]) }, `?pos=${moved.pos}&timeout=0`);
    assert.deepEqual(Object.keys(retry.rooms), [room.b]);
    // The pos of the MSC's later form, in the body, works too.
    const inBody = await sliding(alice, { conn_id: 'inc', pos: retry.pos, timeout: 0, lists: list([0, 1]) });
    assert.deepEqual(inBody.rooms, {});
  });

  it('wakes a long-poll when a message arrives', async () => {
    const first = await sliding(alice, { conn_id: 'poll', lists: list([0, 2]) });
    const started = Date.now();
    const pending = sliding(alice, { conn_id: 'poll', lists: list([0, 2]) }, `?pos=${first.pos}&timeout=20000`);
    await new Promise((r) => setTimeout(r, 150));
    await send(bob, room.a, 'wake up');
    const res = await pending;
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(Object.keys(res.rooms), [room.a]);
    assert.deepEqual(res.rooms[room.a].timeline.map((e: any) => e.content.body), ['wake up']);
    assert.equal(res.rooms[room.a].initial, undefined);
    // The push count of that message may follow in its own write: take it before the idle check.
    await new Promise((r) => setTimeout(r, 200));
    const settled = await sliding(alice, { conn_id: 'poll', lists: list([0, 2]) }, `?pos=${res.pos}&timeout=0`);
    // Nothing new: the long-poll runs to its timeout and answers with no rooms.
    const t0 = Date.now();
    const idle = await sliding(alice, { conn_id: 'poll', lists: list([0, 2]) }, `?pos=${settled.pos}&timeout=300`);
    assert.ok(Date.now() - t0 >= 250);
    assert.deepEqual(idle.rooms, {});
  });

  it('serves room subscriptions, ignores rooms the user cannot see, and expands timelines', async () => {
    const sub = (limit: number) => ({
      [room.b]: { required_state: [['m.room.create', '']], timeline_limit: limit },
      '!unknown:localhost': { required_state: [], timeline_limit: 5 },
    });
    const first = await sliding(carol, { conn_id: 's', room_subscriptions: sub(1) });
    assert.deepEqual(first.rooms, {}, 'carol is not in room b');
    const res = await sliding(alice, { conn_id: 's', room_subscriptions: sub(1) });
    assert.deepEqual(Object.keys(res.rooms), [room.b]);
    assert.equal(res.rooms[room.b].lists, undefined);
    assert.equal(res.rooms[room.b].timeline.length, 1);
    // A larger timeline_limit sends the latest events again, flagged as an expanded timeline.
    const more = await sliding(alice, { conn_id: 's', room_subscriptions: sub(3) }, `?pos=${res.pos}&timeout=0`);
    const b = more.rooms[room.b];
    assert.equal(b.unstable_expanded_timeline, true);
    assert.equal(b.expanded_timeline, true);
    assert.deepEqual(b.timeline.map((e: any) => e.content.body), ['b1', 'b2', 'b3']);
    assert.equal(b.num_live, 0);
  });

  it('lists invites with their stripped state, and filters lists', async () => {
    const invited = (await ok(alice, 'POST', '/createRoom', { name: 'For Carol', preset: 'private_chat', invite: [carol.user_id], is_direct: true })).room_id;
    const res = await sliding(carol, {
      conn_id: 'inv',
      lists: {
        invites: { ranges: [[0, 9]], required_state: [], timeline_limit: 1, filters: { is_invite: true } },
        joined: { ranges: [[0, 9]], required_state: [], timeline_limit: 1, filters: { is_invite: false } },
      },
    });
    assert.deepEqual(res.lists, { invites: { count: 1 }, joined: { count: 0 } });
    const r = res.rooms[invited];
    assert.equal(r.membership, 'invite');
    assert.equal(r.initial, true);
    assert.equal(r.is_dm, true);
    assert.deepEqual(r.lists, ['invites']);
    assert.ok(r.invite_state.some((e: any) => e.type === 'm.room.name' && e.content.name === 'For Carol'));
    assert.ok(r.invite_state.some((e: any) => e.type === 'm.room.member' && e.state_key === carol.user_id && e.content.membership === 'invite'));
    assert.deepEqual(r.stripped_state, r.invite_state);
    assert.equal(r.timeline, undefined);

    // Joining sends the room again, in full.
    await ok(carol, 'POST', `/rooms/${encodeURIComponent(invited)}/join`, {});
    const joined = await sliding(
      carol,
      { conn_id: 'inv', lists: { joined: { ranges: [[0, 9]], required_state: [['m.room.name', '']], timeline_limit: 1, filters: { is_invite: false } } } },
      `?pos=${res.pos}&timeout=0`,
    );
    assert.equal(joined.rooms[invited].initial, true);
    assert.equal(joined.rooms[invited].membership, 'join');
    assert.equal(joined.rooms[invited].name, 'For Carol');

    // Leaving: the room is sent once more with the leave, then drops out of the list.
    const joinedList = { joined: { ranges: [[0, 9]], required_state: [], timeline_limit: 1, filters: { is_invite: false } } };
    await ok(carol, 'POST', `/rooms/${encodeURIComponent(invited)}/leave`, {});
    const left = await sliding(carol, { conn_id: 'inv', lists: joinedList }, `?pos=${joined.pos}&timeout=0`);
    assert.equal(left.rooms[invited].membership, 'leave');
    assert.equal(left.rooms[invited].timeline.at(-1).content.membership, 'leave');
    assert.deepEqual(left.lists, { joined: { count: 1 } });
    const gone = await sliding(carol, { conn_id: 'inv', lists: joinedList }, `?pos=${left.pos}&timeout=0`);
    assert.deepEqual(gone.rooms, {});
    assert.deepEqual(gone.lists, { joined: { count: 0 } });

    // is_dm follows m.direct; room_types/not_room_types the create event's type.
    await ok(alice, 'PUT', `/user/${encodeURIComponent(alice.user_id)}/account_data/m.direct`, { [bob.user_id]: [room.b] });
    const dms = await sliding(alice, {
      conn_id: 'dm',
      lists: {
        dms: { ranges: [[0, 9]], required_state: [], timeline_limit: 0, filters: { is_dm: true } },
        spaces: { ranges: [[0, 9]], required_state: [], timeline_limit: 0, filters: { room_types: ['m.space'] } },
        rooms: { ranges: [[0, 9]], required_state: [], timeline_limit: 0, filters: { not_room_types: ['m.space'], is_dm: false } },
      },
    });
    assert.deepEqual(dms.lists, { dms: { count: 1 }, spaces: { count: 0 }, rooms: { count: 3 } });
    assert.equal(dms.rooms[room.b].is_dm, true);
  });

  it('carries the to_device, e2ee, account_data, receipts and typing extensions', async () => {
    const extensions = (since?: string) => ({
      to_device: { enabled: true, ...(since ? { since } : {}) },
      e2ee: { enabled: true },
      account_data: { enabled: true },
      receipts: { enabled: true, rooms: ['*'], lists: ['*'] },
      typing: { enabled: true },
    });
    await ok(alice, 'POST', '/keys/upload', {
      one_time_keys: { 'curve25519:AAAAAQ': 'a1', 'curve25519:AAAAAg': 'a2' },
      fallback_keys: { 'signed_curve25519:AAAAFB': { key: 'f1', fallback: true, signatures: {} } },
    });
    await ok(alice, 'PUT', `/user/${encodeURIComponent(alice.user_id)}/rooms/${encodeURIComponent(room.a)}/account_data/org.example.pin`, { pinned: true });
    const first = await sliding(alice, { conn_id: 'ext', lists: list([0, 9]), extensions: extensions() });
    const e = first.extensions;
    assert.deepEqual(e.to_device.events, []);
    assert.match(e.to_device.next_batch, /^\d+$/);
    assert.equal(e.e2ee.device_one_time_keys_count.curve25519, 2);
    assert.deepEqual(e.e2ee.device_unused_fallback_key_types, ['signed_curve25519']);
    assert.equal(e.e2ee.device_lists, undefined, 'device lists only on incremental responses');
    assert.ok(e.account_data.global.some((ev: any) => ev.type === 'm.direct'));
    assert.deepEqual(e.account_data.rooms[room.a], [{ type: 'org.example.pin', content: { pinned: true } }]);
    assert.deepEqual(e.typing.rooms, {});

    // Bob: a to-device message, a receipt, typing, a renamed device; Alice: account data.
    await ok(bob, 'PUT', `/sendToDevice/m.test/td${++txn}`, { messages: { [alice.user_id]: { [alice.device_id]: { hello: 'alice' } } } });
    const lastInA = await send(alice, room.a, 'read me');
    await ok(bob, 'POST', `/rooms/${encodeURIComponent(room.a)}/receipt/m.read/${encodeURIComponent(lastInA)}`, {});
    await ok(bob, 'PUT', `/rooms/${encodeURIComponent(room.a)}/typing/${encodeURIComponent(bob.user_id)}`, { typing: true, timeout: 30000 });
    await ok(bob, 'PUT', `/devices/${encodeURIComponent(bob.device_id)}`, { display_name: 'phone' });
    await ok(alice, 'PUT', `/user/${encodeURIComponent(alice.user_id)}/account_data/org.example.global`, { n: 1 });

    const next = await sliding(alice, { conn_id: 'ext', lists: list([0, 9]), extensions: extensions(e.to_device.next_batch) }, `?pos=${first.pos}&timeout=0`);
    const x = next.extensions;
    assert.deepEqual(x.to_device.events, [{ sender: bob.user_id, type: 'm.test', content: { hello: 'alice' } }]);
    assert.deepEqual(x.e2ee.device_lists, { changed: [bob.user_id], left: [] });
    assert.deepEqual(x.account_data.global, [{ type: 'org.example.global', content: { n: 1 } }]);
    assert.deepEqual(x.account_data.rooms, {});
    assert.equal(x.receipts.rooms[room.a].type, 'm.receipt');
    assert.ok(x.receipts.rooms[room.a].content[lastInA]['m.read'][bob.user_id].ts > 0);
    assert.deepEqual(x.typing.rooms[room.a], { type: 'm.typing', content: { user_ids: [bob.user_id] } });

    // Acknowledged to-device messages are gone; typing stops are sent as they happen.
    await ok(bob, 'PUT', `/rooms/${encodeURIComponent(room.a)}/typing/${encodeURIComponent(bob.user_id)}`, { typing: false });
    const last = await sliding(alice, { conn_id: 'ext', lists: list([0, 9]), extensions: extensions(x.to_device.next_batch) }, `?pos=${next.pos}&timeout=0`);
    assert.deepEqual(last.extensions.to_device.events, []);
    assert.deepEqual(last.extensions.typing.rooms[room.a], { type: 'm.typing', content: { user_ids: [] } });
    assert.deepEqual(last.extensions.receipts.rooms, {});
  });

  it('answers an unknown pos with 400 M_UNKNOWN_POS and bad input with 400', async () => {
    const unknown = await ts.request('POST', `${SS}?pos=nope_1`, { token: alice.access_token, body: { lists: list([0, 0]) } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.errcode, 'M_UNKNOWN_POS');
    // A pos of another connection is unknown on this one; a new connection replaces an old one.
    const one = await sliding(alice, { conn_id: 'one' });
    const other = await ts.request('POST', `${SS}?pos=${one.pos}`, { token: alice.access_token, body: { conn_id: 'two' } });
    assert.equal(other.json.errcode, 'M_UNKNOWN_POS');
    await sliding(alice, { conn_id: 'one' });
    const replaced = await ts.request('POST', `${SS}?pos=${one.pos}`, { token: alice.access_token, body: { conn_id: 'one' } });
    assert.equal(replaced.json.errcode, 'M_UNKNOWN_POS');
    // A device keeps its 10 most recently used connections: an 11th drops the oldest.
    const conns: any[] = [];
    for (let i = 0; i <= 10; i++) conns.push(await sliding(alice, { conn_id: `c${i}` }));
    const dropped = await ts.request('POST', `${SS}?pos=${conns[0].pos}&timeout=0`, { token: alice.access_token, body: { conn_id: 'c0' } });
    assert.equal(dropped.json.errcode, 'M_UNKNOWN_POS');
    await sliding(alice, { conn_id: 'c1' }, `?pos=${conns[1].pos}&timeout=0`);

    const badRange = await ts.request('POST', SS, { token: alice.access_token, body: { lists: { l: { ranges: [[0]], required_state: [], timeline_limit: 1 } } } });
    assert.equal(badRange.status, 400);
    assert.equal(badRange.json.errcode, 'M_BAD_JSON');
    const missing = await ts.request('POST', SS, { token: alice.access_token, body: { lists: { l: { ranges: [[0, 1]], required_state: [] } } } });
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    const badTimeout = await ts.request('POST', `${SS}?timeout=soon`, { token: alice.access_token, body: {} });
    assert.equal(badTimeout.json.errcode, 'M_INVALID_PARAM');
    const noAuth = await ts.request('POST', SS, { body: {} });
    assert.equal(noAuth.status, 401);
  });
});
