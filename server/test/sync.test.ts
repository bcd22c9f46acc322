/**
 * /sync and the data around it over real HTTP against a real Hearth (sync.yaml, filter.yaml,
 * typing.yaml, receipts.yaml, read_markers.yaml, presence.yaml, account-data.yaml, tags.yaml,
 * users.yaml): initial and incremental sync, long-polling, ephemeral events, account data and
 * tags, filters, presence, the user directory and the main errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.ts';

const V3 = '/_matrix/client/v3';

interface User {
  userId: string;
  token: string;
}

async function registerUser(ts: TestServer, username: string): Promise<User> {
  const res = await ts.request('POST', `${V3}/register`, { body: { username, password: 'pw-123456', auth: { type: 'm.login.dummy' } } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { userId: res.json.user_id, token: res.json.access_token };
}

describe('sync over HTTP', () => {
  let ts: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let roomId: string;
  let txn = 0;

  const get = (u: User, path: string) => ts.request('GET', `${V3}${path}`, { token: u.token });
  const put = (u: User, path: string, body: unknown) => ts.request('PUT', `${V3}${path}`, { token: u.token, body });
  const post = (u: User, path: string, body: unknown) => ts.request('POST', `${V3}${path}`, { token: u.token, body });
  const sync = async (u: User, query = ''): Promise<any> => {
    const res = await get(u, `/sync${query ? `?${query}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json;
  };
  const send = async (u: User, room: string, body: string): Promise<string> => {
    const res = await put(u, `/rooms/${encodeURIComponent(room)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.event_id;
  };

  before(async () => {
    ts = await startTestServer({ registration: 'open' } as never);
    alice = await registerUser(ts, 'alice');
    bob = await registerUser(ts, 'bob');
    carol = await registerUser(ts, 'carol');
    const created = await post(alice, '/createRoom', { name: 'Sync room', preset: 'private_chat', invite: [bob.userId] });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    roomId = created.json.room_id;
    const joined = await post(bob, `/rooms/${encodeURIComponent(roomId)}/join`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    for (let i = 0; i < 12; i++) await send(alice, roomId, `message ${i}`);
  });

  after(() => ts.close());

  it('initial sync: joined room with timeline, state, summary and next_batch', async () => {
    const s = await sync(bob);
    assert.match(s.next_batch, /^s\d+_\d+$/);
    const room = s.rooms.join[roomId];
    assert.ok(room, 'room in rooms.join');
    assert.equal(room.timeline.events.length, 10);
    assert.equal(room.timeline.limited, true);
    assert.equal(typeof room.timeline.prev_batch, 'string');
    assert.equal(room.timeline.events.at(-1).content.body, 'message 11');
    const stateTypes = new Set(room.state.events.map((e: any) => e.type));
    for (const t of ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.name']) assert.ok(stateTypes.has(t), t);
    assert.equal(room.summary['m.joined_member_count'], 2);
    assert.deepEqual(room.summary['m.heroes'], [alice.userId]);
    assert.deepEqual(room.unread_notifications.highlight_count, 0);
    // The timeline's prev_batch paginates further back.
    const older = await get(bob, `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=2&from=${room.timeline.prev_batch}`);
    assert.equal(older.status, 200);
    assert.equal(older.json.chunk[0].content.body, 'message 1');
  });

  it('initial sync of an invited user shows the invite with stripped state', async () => {
    const invited = await post(alice, `/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: carol.userId });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));
    const s = await sync(carol);
    const inv = s.rooms.invite[roomId];
    assert.ok(inv);
    assert.ok(inv.invite_state.events.some((e: any) => e.type === 'm.room.name' && e.content.name === 'Sync room'));
    assert.equal(s.rooms.join[roomId], undefined);
  });

  it('incremental sync carries only the new message', async () => {
    const first = await sync(bob);
    const eventId = await send(alice, roomId, 'fresh');
    const inc = await sync(bob, `since=${first.next_batch}`);
    const room = inc.rooms.join[roomId];
    assert.deepEqual(
      room.timeline.events.map((e: any) => e.event_id),
      [eventId],
    );
    assert.equal(room.timeline.limited, false);
    const none = await sync(bob, `since=${inc.next_batch}&timeout=0`);
    assert.deepEqual(none.rooms.join, {});
  });

  it('a long-polling sync is woken by a message from another user', async () => {
    const first = await sync(bob);
    const pending = sync(bob, `since=${first.next_batch}&timeout=20000`);
    await new Promise((r) => setTimeout(r, 50));
    const eventId = await send(alice, roomId, 'wake');
    // Like a client, keep polling: other news (e.g. bob's own presence going online) may wake the
    // first long-poll before the message does.
    let woke = await pending;
    for (let i = 0; i < 5 && !woke.rooms.join[roomId]; i++) woke = await sync(bob, `since=${woke.next_batch}&timeout=20000`);
    assert.deepEqual(
      woke.rooms.join[roomId].timeline.events.map((e: any) => e.event_id),
      [eventId],
    );
  });

  it('typing and receipts appear in ephemeral', async () => {
    const first = await sync(bob);
    const room = encodeURIComponent(roomId);
    const typing = await put(alice, `/rooms/${room}/typing/${encodeURIComponent(alice.userId)}`, { typing: true, timeout: 30000 });
    assert.equal(typing.status, 200, JSON.stringify(typing.json));
    const forOther = await put(alice, `/rooms/${room}/typing/${encodeURIComponent(bob.userId)}`, { typing: true, timeout: 30000 });
    assert.equal(forOther.status, 403);
    const eventId = await send(bob, roomId, 'read me');
    const receipt = await post(alice, `/rooms/${room}/receipt/m.read/${encodeURIComponent(eventId)}`, {});
    assert.equal(receipt.status, 200, JSON.stringify(receipt.json));
    const privateReceipt = await post(alice, `/rooms/${room}/receipt/m.read.private/${encodeURIComponent(eventId)}`, {});
    assert.equal(privateReceipt.status, 200);
    const badThread = await post(alice, `/rooms/${room}/receipt/m.read/${encodeURIComponent(eventId)}`, { thread_id: '' });
    assert.equal(badThread.json.errcode, 'M_INVALID_PARAM');
    const badType = await post(alice, `/rooms/${room}/receipt/m.nope/${encodeURIComponent(eventId)}`, {});
    assert.equal(badType.status, 400);

    const inc = await sync(bob, `since=${first.next_batch}`);
    const eph = inc.rooms.join[roomId].ephemeral.events;
    assert.deepEqual(eph.find((e: any) => e.type === 'm.typing').content.user_ids, [alice.userId]);
    const receipts = eph.find((e: any) => e.type === 'm.receipt').content;
    assert.ok(receipts[eventId]['m.read'][alice.userId].ts > 0);
    assert.equal(receipts[eventId]['m.read.private'], undefined, 'private receipts stay private');

    const markers = await post(alice, `/rooms/${room}/read_markers`, { 'm.fully_read': eventId, 'm.read': eventId });
    assert.equal(markers.status, 200);
    const fullyRead = await get(alice, `/user/${encodeURIComponent(alice.userId)}/rooms/${room}/account_data/m.fully_read`);
    assert.deepEqual(fullyRead.json, { event_id: eventId });
  });

  it('account data and tags round-trip and reach sync; other users are refused', async () => {
    const first = await sync(alice);
    const me = encodeURIComponent(alice.userId);
    const room = encodeURIComponent(roomId);
    assert.equal((await put(alice, `/user/${me}/account_data/org.example.cfg`, { theme: 'dark' })).status, 200);
    assert.deepEqual((await get(alice, `/user/${me}/account_data/org.example.cfg`)).json, { theme: 'dark' });
    assert.equal((await get(alice, `/user/${me}/account_data/org.example.none`)).json.errcode, 'M_NOT_FOUND');
    assert.equal((await put(alice, `/user/${me}/rooms/${room}/account_data/org.example.r`, { x: 1 })).status, 200);
    const managed = await put(alice, `/user/${me}/account_data/m.push_rules`, {});
    assert.deepEqual([managed.status, managed.json.errcode], [405, 'M_BAD_JSON']);
    const other = await get(bob, `/user/${me}/account_data/org.example.cfg`);
    assert.deepEqual([other.status, other.json.errcode], [403, 'M_FORBIDDEN']);
    const notJson = await ts.request('PUT', `${V3}/user/${me}/account_data/org.example.cfg`, { token: alice.token, rawBody: '{oops', headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual([notJson.status, notJson.json.errcode], [400, 'M_NOT_JSON']);
    const array = await put(alice, `/user/${me}/account_data/org.example.cfg`, [1, 2]);
    assert.equal(array.status, 400);
    const badRoom = await put(alice, `/user/${me}/rooms/not-a-room/account_data/org.example.r`, { x: 1 });
    assert.equal(badRoom.json.errcode, 'M_INVALID_PARAM');

    assert.equal((await put(alice, `/user/${me}/rooms/${room}/tags/m.favourite`, { order: 0.25 })).status, 200);
    assert.equal((await put(alice, `/user/${me}/rooms/${room}/tags/u.work`, {})).status, 200);
    assert.equal((await ts.request('DELETE', `${V3}/user/${me}/rooms/${room}/tags/u.work`, { token: alice.token })).status, 200);
    assert.deepEqual((await get(alice, `/user/${me}/rooms/${room}/tags`)).json, { tags: { 'm.favourite': { order: 0.25 } } });
    const badOrder = await put(alice, `/user/${me}/rooms/${room}/tags/u.x`, { order: 'first' });
    assert.equal(badOrder.status, 400);

    const inc = await sync(alice, `since=${first.next_batch}`);
    assert.ok(inc.account_data.events.some((e: any) => e.type === 'org.example.cfg' && e.content.theme === 'dark'));
    const roomData = inc.rooms.join[roomId].account_data.events;
    assert.deepEqual(roomData.find((e: any) => e.type === 'm.tag').content, { tags: { 'm.favourite': { order: 0.25 } } });
    assert.ok(roomData.some((e: any) => e.type === 'org.example.r'));
  });

  it('filters: uploaded and inline, with errors for bad ones', async () => {
    const me = encodeURIComponent(bob.userId);
    const filter = { room: { timeline: { limit: 3 }, state: { types: ['m.room.name'] } }, presence: { not_types: ['*'] } };
    const created = await post(bob, `/user/${me}/filter`, filter);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const filterId = created.json.filter_id;
    assert.deepEqual((await get(bob, `/user/${me}/filter/${filterId}`)).json, filter);
    assert.equal((await get(alice, `/user/${me}/filter/${filterId}`)).status, 403);
    assert.equal((await get(bob, `/user/${me}/filter/4242`)).json.errcode, 'M_NOT_FOUND');
    const bad = await post(bob, `/user/${me}/filter`, { room: { timeline: { limit: 'many' } } });
    assert.equal(bad.json.errcode, 'M_BAD_JSON');

    const s = await sync(bob, `filter=${filterId}`);
    const room = s.rooms.join[roomId];
    assert.equal(room.timeline.events.length, 3);
    assert.deepEqual(
      room.state.events.map((e: any) => e.type),
      ['m.room.name'],
    );
    const inline = await sync(bob, `filter=${encodeURIComponent(JSON.stringify({ room: { not_rooms: [roomId] } }))}`);
    assert.equal(inline.rooms.join[roomId], undefined);
    const badInline = await get(bob, `/sync?filter=${encodeURIComponent('{"room":')}`);
    assert.deepEqual([badInline.status, badInline.json.errcode], [400, 'M_BAD_JSON']);
    const unknown = await get(bob, `/sync?filter=999`);
    assert.deepEqual([unknown.status, unknown.json.errcode], [400, 'M_INVALID_PARAM']);
    const badSince = await get(bob, `/sync?since=garbage`);
    assert.deepEqual([badSince.status, badSince.json.errcode], [400, 'M_INVALID_PARAM']);
    const badTimeout = await get(bob, `/sync?timeout=soon`);
    assert.deepEqual([badTimeout.status, badTimeout.json.errcode], [400, 'M_INVALID_PARAM']);
  });

  it('presence: set and get, visible to room members, delivered by sync', async () => {
    const first = await sync(bob, 'set_presence=offline');
    const me = encodeURIComponent(alice.userId);
    const set = await put(alice, `/presence/${me}/status`, { presence: 'unavailable', status_msg: 'at lunch' });
    assert.equal(set.status, 200);
    const got = await get(bob, `/presence/${me}/status`);
    assert.equal(got.json.presence, 'unavailable');
    assert.equal(got.json.status_msg, 'at lunch');
    assert.equal(typeof got.json.last_active_ago, 'number');
    assert.equal((await put(bob, `/presence/${me}/status`, { presence: 'online' })).status, 403);
    assert.equal((await put(alice, `/presence/${me}/status`, { presence: 'asleep' })).status, 400);
    assert.equal((await get(alice, `/presence/${encodeURIComponent('@nobody:localhost')}/status`)).status, 404);
    const inc = await sync(bob, `since=${first.next_batch}&set_presence=offline`);
    const ev = inc.presence.events.find((e: any) => e.sender === alice.userId);
    assert.equal(ev.content.presence, 'unavailable');
  });

  it('user directory: finds users sharing a room, not strangers', async () => {
    const dave = await registerUser(ts, 'dave');
    const found = await post(bob, '/user_directory/search', { search_term: 'ali' });
    assert.equal(found.status, 200);
    assert.ok(found.json.results.some((r: any) => r.user_id === alice.userId));
    assert.equal(found.json.limited, false);
    const stranger = await post(dave, '/user_directory/search', { search_term: 'ali' });
    assert.deepEqual(stranger.json.results, []);
    const missing = await post(bob, '/user_directory/search', {});
    assert.equal(missing.status, 400);
  });

  it('unread counts start at the latest join: leaving, missing messages, and coming back', async () => {
    const created = await post(alice, '/createRoom', { preset: 'private_chat', invite: [carol.userId] });
    const room = created.json.room_id as string;
    const path = `/rooms/${encodeURIComponent(room)}`;
    assert.equal((await post(carol, `${path}/join`, {})).status, 200);
    const unread = async (): Promise<number> => (await sync(carol)).rooms.join[room]?.unread_notifications.notification_count;
    await send(alice, room, 'one');
    await send(alice, room, 'two');
    assert.equal(await unread(), 2);
    // Alice's view of the member counts follows carol out and back in (incremental syncs).
    const aliceSince = (await sync(alice)).next_batch as string;
    const joinedCount = async (since: string): Promise<number> => (await sync(alice, `since=${since}`)).rooms.join[room].summary['m.joined_member_count'];
    assert.equal((await post(carol, `${path}/leave`, {})).status, 200);
    assert.equal(await joinedCount(aliceSince), 1);
    await send(alice, room, 'while carol is away');
    assert.equal((await post(alice, `${path}/invite`, { user_id: carol.userId })).status, 200);
    assert.equal((await post(carol, `${path}/join`, {})).status, 200);
    assert.equal(await joinedCount(aliceSince), 2);
    assert.equal(await unread(), 0, 'nothing before the rejoin is unread, with no receipt sent');
    await send(alice, room, 'three');
    assert.equal(await unread(), 1);
    // A profile change is a join event too: as Synapse counts, it starts the count again.
    assert.equal((await put(carol, `${path}/state/m.room.member/${encodeURIComponent(carol.userId)}`, { membership: 'join', displayname: 'Carol C' })).status, 200);
    assert.equal(await unread(), 0);
    await send(alice, room, 'four');
    assert.equal(await unread(), 1);
  });
});
