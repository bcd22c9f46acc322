// Synapse's admin API (/_synapse/admin) over real HTTP, with the response shapes of Synapse's
// docs (admin_api/*.md) and the flows admin tools rely on: create a user then log in, reset a
// password, deactivate, invite codes through /register, room deletion, reports, server notices.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerAdmin, startTestServer, type TestServer } from './harness.ts';

const SECRET = 's';
const A = '/_synapse/admin';
const enc = encodeURIComponent;

/** Registers a server admin through shared-secret registration (Synapse's register_new_matrix_user). */
async function makeAdmin(s: TestServer, username: string): Promise<{ user_id: string; access_token: string }> {
  const r = await registerAdmin(s, SECRET, username);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

async function login(s: TestServer, user: string, password: string): Promise<{ status: number; json: any }> {
  return s.request('POST', '/_matrix/client/v3/login', { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password } });
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Synapse admin API', () => {
  let s: TestServer;
  let root: { user_id: string; access_token: string };
  let alice: { user_id: string; access_token: string; device_id: string };
  const as = (token: string) => ({
    get: (p: string) => s.request('GET', p, { token }),
    put: (p: string, body: unknown = {}) => s.request('PUT', p, { token, body }),
    post: (p: string, body: unknown = {}) => s.request('POST', p, { token, body }),
    del: (p: string, body: unknown = {}) => s.request('DELETE', p, { token, body }),
  });
  let adm: ReturnType<typeof as>;

  before(async () => {
    s = await startTestServer({ registrationSharedSecret: SECRET });
    root = await makeAdmin(s, 'root');
    adm = as(root.access_token);
    alice = await s.registerUser('alice');
  });
  after(() => s.close());

  it('answers server_version', async () => {
    const r = await s.request('GET', `${A}/v1/server_version`);
    assert.equal(r.status, 200);
    assert.match(r.json.server_version, /^Hearth \d+\.\d+\.\d+/);
  });

  it('refuses non-admins (403 M_FORBIDDEN) and requests without a token (401)', async () => {
    const paths = [`${A}/v2/users`, `${A}/v1/rooms`, `${A}/v1/registration_tokens`, `${A}/v1/event_reports`, `${A}/v1/federation/destinations`, `${A}/v2/users/${enc(alice.user_id)}`];
    for (const p of paths) {
      const r = await s.request('GET', p, { token: alice.access_token });
      assert.deepEqual([r.status, r.json.errcode], [403, 'M_FORBIDDEN'], p);
      const anon = await s.request('GET', p);
      assert.deepEqual([anon.status, anon.json.errcode], [401, 'M_MISSING_TOKEN'], p);
    }
    const put = await s.request('PUT', `${A}/v1/users/${enc(alice.user_id)}/admin`, { token: alice.access_token, body: { admin: true } });
    assert.equal(put.status, 403);
  });

  it('creates a user with PUT v2/users (201), who can then log in; a second PUT modifies (200)', async () => {
    const id = '@bob:localhost';
    const created = await adm.put(`${A}/v2/users/${enc(id)}`, {
      password: 'bobpw',
      displayname: 'Bob',
      threepids: [{ medium: 'email', address: 'bob@example.org' }],
      external_ids: [],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(Object.keys(created.json).sort(), [
      'admin', 'appservice_id', 'avatar_url', 'consent_server_notice_sent', 'consent_ts', 'consent_version', 'creation_ts', 'deactivated',
      'displayname', 'erased', 'external_ids', 'is_guest', 'last_seen_ts', 'locked', 'name', 'shadow_banned', 'suspended', 'threepids', 'user_type',
    ]);
    assert.equal(created.json.name, id);
    assert.equal(created.json.displayname, 'Bob');
    assert.equal(created.json.admin, false);
    assert.equal(created.json.deactivated, false);
    // Seconds, as Synapse's "Query User Account" reports it.
    assert.ok(Math.abs(created.json.creation_ts - Date.now() / 1000) < 60);

    const li = await login(s, 'bob', 'bobpw');
    assert.equal(li.status, 200, JSON.stringify(li.json));
    assert.equal(li.json.user_id, id);

    const modified = await adm.put(`${A}/v2/users/${enc(id)}`, { displayname: 'Bobby', admin: true, user_type: 'bot' });
    assert.equal(modified.status, 200);
    assert.deepEqual([modified.json.displayname, modified.json.admin, modified.json.user_type], ['Bobby', true, 'bot']);
    // The new admin flag holds for the session Bob already had.
    assert.equal((await as(li.json.access_token).get(`${A}/v2/users`)).status, 200);
    assert.deepEqual((await adm.get(`${A}/v1/users/${enc(id)}/admin`)).json, { admin: true });
    assert.equal((await adm.put(`${A}/v1/users/${enc(id)}/admin`, { admin: false })).status, 200);
    assert.equal((await as(li.json.access_token).get(`${A}/v2/users`)).status, 403);

    const bad = await adm.put(`${A}/v2/users/${enc(id)}`, { user_type: 'wizard' });
    assert.deepEqual([bad.status, bad.json.errcode], [400, 'M_INVALID_PARAM']);
    const remote = await adm.put(`${A}/v2/users/${enc('@x:elsewhere')}`, { password: 'x' });
    assert.equal(remote.status, 400);
    const unknown = await adm.get(`${A}/v2/users/${enc('@nobody:localhost')}`);
    assert.deepEqual([unknown.status, unknown.json.errcode], [404, 'M_NOT_FOUND']);
    const self = await adm.put(`${A}/v1/users/${enc(root.user_id)}/admin`, { admin: false });
    assert.equal(self.status, 400);
  });

  it('lists users with Synapse filters, ordering and pagination', async () => {
    for (const n of ['carol', 'dave', 'erin']) await adm.put(`${A}/v2/users/${enc(`@${n}:localhost`)}`, { password: 'pw', displayname: `${n.toUpperCase()} Person` });
    const all = await adm.get(`${A}/v2/users`);
    assert.equal(all.status, 200);
    assert.equal(all.json.total, all.json.users.length);
    assert.equal(all.json.next_token, undefined);
    assert.deepEqual(Object.keys(all.json.users[0]).sort(), [
      'admin', 'avatar_url', 'creation_ts', 'deactivated', 'displayname', 'erased', 'is_guest', 'last_seen_ts', 'locked', 'name', 'shadow_banned', 'user_type',
    ]);
    const names = all.json.users.map((u: any) => u.name);
    assert.deepEqual(names, [...names].sort());
    // creation_ts in ms in the list, as Synapse's.
    assert.ok(Math.abs(all.json.users[0].creation_ts - Date.now()) < 60_000);

    const page = await adm.get(`${A}/v2/users?limit=2`);
    assert.deepEqual([page.json.users.length, page.json.next_token, page.json.total], [2, '2', all.json.total]);
    const page2 = await adm.get(`${A}/v2/users?limit=2&from=${page.json.next_token}`);
    assert.equal(page2.json.users[0].name, names[2]);

    const byName = await adm.get(`${A}/v2/users?name=dave%20p`);
    assert.deepEqual(byName.json.users.map((u: any) => u.name), ['@dave:localhost']);
    const byId = await adm.get(`${A}/v2/users?user_id=car`);
    assert.deepEqual(byId.json.users.map((u: any) => u.name), ['@carol:localhost']);
    const admins = await adm.get(`${A}/v2/users?admins=true`);
    assert.ok(admins.json.users.every((u: any) => u.admin === true));
    assert.ok(admins.json.users.some((u: any) => u.name === root.user_id));
    const backwards = await adm.get(`${A}/v2/users?order_by=name&dir=b`);
    assert.deepEqual(backwards.json.users.map((u: any) => u.name), [...names].reverse());
    const byDisplay = await adm.get(`${A}/v2/users?order_by=displayname&name=person`);
    assert.deepEqual(byDisplay.json.users.map((u: any) => u.displayname), ['CAROL Person', 'DAVE Person', 'ERIN Person']);

    const badOrder = await adm.get(`${A}/v2/users?order_by=shoe_size`);
    assert.deepEqual([badOrder.status, badOrder.json.errcode], [400, 'M_INVALID_PARAM']);
    const badBool = await adm.get(`${A}/v2/users?guests=maybe`);
    assert.equal(badBool.status, 400);
  });

  it('resets a password (other sessions logged out) and deactivates with erase', async () => {
    const li = await login(s, 'carol', 'pw');
    assert.equal(li.status, 200);
    const reset = await adm.post(`${A}/v1/reset_password/${enc('@carol:localhost')}`, { new_password: 'newpw' });
    assert.deepEqual([reset.status, reset.json], [200, {}]);
    assert.equal((await login(s, 'carol', 'pw')).status, 403);
    assert.equal((await login(s, 'carol', 'newpw')).status, 200);
    const old = await s.request('GET', '/_matrix/client/v3/account/whoami', { token: li.json.access_token });
    assert.equal(old.status, 401);

    const deact = await adm.post(`${A}/v1/deactivate/${enc('@carol:localhost')}`, { erase: true });
    assert.deepEqual([deact.status, deact.json], [200, { id_server_unbind_result: 'success' }]);
    const denied = await login(s, 'carol', 'newpw');
    assert.equal(denied.status, 403);
    const hidden = await adm.get(`${A}/v2/users?user_id=carol`);
    assert.equal(hidden.json.total, 0);
    const shown = await adm.get(`${A}/v2/users?user_id=carol&deactivated=true`);
    assert.deepEqual([shown.json.users[0].deactivated, shown.json.users[0].erased, shown.json.users[0].displayname], [true, true, null]);
    assert.equal((await adm.post(`${A}/v1/deactivate/${enc('@ghost:localhost')}`)).status, 404);

    // Reactivation needs a password, then the account logs in again.
    const noPw = await adm.put(`${A}/v2/users/${enc('@carol:localhost')}`, { deactivated: false });
    assert.equal(noPw.status, 400);
    const back = await adm.put(`${A}/v2/users/${enc('@carol:localhost')}`, { deactivated: false, password: 'again' });
    assert.equal(back.json.deactivated, false);
    assert.equal((await login(s, 'carol', 'again')).status, 200);
  });

  it('shows sessions (whois) and manages devices', async () => {
    const id = '@dave:localhost';
    const one = await login(s, 'dave', 'pw');
    const two = await login(s, 'dave', 'pw');
    await s.request('GET', '/_matrix/client/v3/account/whoami', { token: one.json.access_token, headers: { 'User-Agent': 'test-agent' } });

    const who = await adm.get(`${A}/v1/whois/${enc(id)}`);
    assert.equal(who.json.user_id, id);
    const conn = who.json.devices[one.json.device_id].sessions[0].connections[0];
    assert.deepEqual(Object.keys(conn).sort(), ['ip', 'last_seen', 'user_agent']);
    assert.equal(conn.user_agent, 'test-agent');
    // The spec's client-server variant lets users ask about themselves.
    const selfWho = await s.request('GET', `/_matrix/client/v3/admin/whois/${enc(id)}`, { token: one.json.access_token });
    assert.equal(selfWho.status, 200);
    assert.equal((await s.request('GET', `/_matrix/client/v3/admin/whois/${enc(root.user_id)}`, { token: one.json.access_token })).status, 403);

    const list = await adm.get(`${A}/v2/users/${enc(id)}/devices`);
    assert.equal(list.json.total, 2);
    const d = list.json.devices.find((x: any) => x.device_id === one.json.device_id);
    assert.deepEqual(Object.keys(d).sort(), ['dehydrated', 'device_id', 'last_seen_ip', 'last_seen_ts', 'last_seen_user_agent', 'user_id']);
    assert.equal(d.user_id, id);

    assert.equal((await adm.put(`${A}/v2/users/${enc(id)}/devices/${enc(one.json.device_id)}`, { display_name: 'Phone' })).status, 200);
    assert.equal((await adm.get(`${A}/v2/users/${enc(id)}/devices/${enc(one.json.device_id)}`)).json.display_name, 'Phone');
    assert.equal((await adm.get(`${A}/v2/users/${enc(id)}/devices/NOPE`)).status, 404);

    assert.equal((await adm.del(`${A}/v2/users/${enc(id)}/devices/${enc(one.json.device_id)}`)).status, 200);
    assert.equal((await s.request('GET', '/_matrix/client/v3/account/whoami', { token: one.json.access_token })).status, 401);
    assert.equal((await adm.post(`${A}/v2/users/${enc(id)}/delete_devices`, { devices: [two.json.device_id] })).status, 200);
    assert.equal((await adm.get(`${A}/v2/users/${enc(id)}/devices`)).json.total, 0);
  });

  it('answers username_available and joined_rooms', async () => {
    assert.deepEqual((await adm.get(`${A}/v1/username_available?username=newbie`)).json, { available: true });
    const taken = await adm.get(`${A}/v1/username_available?username=alice`);
    assert.deepEqual([taken.status, taken.json.errcode], [400, 'M_USER_IN_USE']);
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: {} });
    const joined = await adm.get(`${A}/v1/users/${enc(alice.user_id)}/joined_rooms`);
    assert.ok(joined.json.joined_rooms.includes(room.json.room_id));
    assert.equal(joined.json.total, joined.json.joined_rooms.length);
  });

  it('lists, describes, blocks and hands over rooms', async () => {
    const frank = await s.registerUser('frank');
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.access_token,
      body: { name: 'Family Chat', topic: 'Dinner plans', room_alias_name: 'family', preset: 'public_chat', visibility: 'public' },
    });
    const roomId = room.json.room_id as string;
    await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: frank.access_token, body: {} });

    const list = await adm.get(`${A}/v1/rooms?search_term=family`);
    assert.equal(list.status, 200);
    assert.deepEqual([list.json.total_rooms, list.json.offset], [1, 0]);
    const entry = list.json.rooms[0];
    assert.deepEqual(Object.keys(entry).sort(), [
      'canonical_alias', 'creator', 'encryption', 'federatable', 'guest_access', 'history_visibility', 'join_rules', 'joined_local_members',
      'joined_members', 'name', 'public', 'room_id', 'room_type', 'state_events', 'version',
    ]);
    assert.deepEqual(
      [entry.room_id, entry.name, entry.canonical_alias, entry.joined_members, entry.joined_local_members, entry.creator, entry.public, entry.join_rules],
      [roomId, 'Family Chat', '#family:localhost', 2, 2, alice.user_id, true, 'public'],
    );
    const page = await adm.get(`${A}/v1/rooms?limit=1&order_by=joined_members`);
    assert.equal(page.json.rooms.length, 1);
    assert.equal(page.json.next_batch, 1);
    assert.equal(page.json.rooms[0].room_id, roomId);
    assert.equal((await adm.get(`${A}/v1/rooms?order_by=colour`)).status, 400);

    const details = await adm.get(`${A}/v1/rooms/${enc(roomId)}`);
    assert.deepEqual([details.json.topic, details.json.forgotten, details.json.joined_local_devices], ['Dinner plans', false, 2]);
    assert.equal((await adm.get(`${A}/v1/rooms/${enc('!unknown:localhost')}`)).status, 404);
    const members = await adm.get(`${A}/v1/rooms/${enc(roomId)}/members`);
    assert.deepEqual(members.json, { members: [alice.user_id, frank.user_id].sort(), total: 2 });
    const state = await adm.get(`${A}/v1/rooms/${enc(roomId)}/state`);
    assert.ok(state.json.state.some((e: any) => e.type === 'm.room.create' && e.state_key === ''));
    const names = await adm.get(`${A}/v1/rooms/${enc(roomId)}/state?type=m.room.name`);
    assert.deepEqual(names.json.state.map((e: any) => e.content.name), ['Family Chat']);

    // make_room_admin: Frank gets Alice's power.
    assert.equal((await adm.post(`${A}/v1/rooms/${enc(roomId)}/make_room_admin`, { user_id: frank.user_id })).status, 200);
    const pl = await s.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, { token: frank.access_token });
    assert.ok(pl.json.users[frank.user_id] >= 100, JSON.stringify(pl.json));

    // Blocking keeps new members out.
    assert.deepEqual((await adm.get(`${A}/v1/rooms/${enc(roomId)}/block`)).json, { block: false });
    assert.deepEqual((await adm.put(`${A}/v1/rooms/${enc(roomId)}/block`, { block: true })).json, { block: true });
    assert.deepEqual((await adm.get(`${A}/v1/rooms/${enc(roomId)}/block`)).json, { block: true, user_id: root.user_id });
    const gina = await s.registerUser('gina');
    const refused = await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: gina.access_token, body: {} });
    assert.deepEqual([refused.status, refused.json.errcode], [403, 'M_FORBIDDEN']);
    await adm.put(`${A}/v1/rooms/${enc(roomId)}/block`, { block: false });
    assert.equal((await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: gina.access_token, body: {} })).status, 200);
  });

  it('deletes a room: local members leave, joins are blocked, history is purged', async () => {
    const hank = await s.registerUser('hank');
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { name: 'Doomed', room_alias_name: 'doomed', preset: 'public_chat' } });
    const roomId = room.json.room_id as string;
    await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: hank.access_token, body: {} });
    await s.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t1`, { token: hank.access_token, body: { msgtype: 'm.text', body: 'hello' } });

    const del = await adm.del(`${A}/v2/rooms/${enc(roomId)}`, { block: true, purge: true });
    assert.equal(del.status, 200);
    assert.equal(typeof del.json.delete_id, 'string');
    const status = await waitFor(async () => {
      const r = await adm.get(`${A}/v2/rooms/delete_status/${enc(del.json.delete_id)}`);
      return r.json.status === 'complete' || r.json.status === 'failed' ? r.json : undefined;
    }, 'the deletion');
    assert.equal(status.status, 'complete', JSON.stringify(status));
    assert.deepEqual(Object.keys(status).sort(), ['delete_id', 'room_id', 'shutdown_room', 'status']);
    assert.deepEqual(status.shutdown_room.kicked_users.sort(), [alice.user_id, hank.user_id].sort());
    assert.deepEqual(status.shutdown_room, { ...status.shutdown_room, failed_to_kick_users: [], local_aliases: ['#doomed:localhost'], new_room_id: null });
    const byRoom = await adm.get(`${A}/v2/rooms/${enc(roomId)}/delete_status`);
    assert.deepEqual(byRoom.json.results.map((t: any) => t.delete_id), [del.json.delete_id]);

    const joined = await adm.get(`${A}/v1/users/${enc(hank.user_id)}/joined_rooms`);
    assert.ok(!joined.json.joined_rooms.includes(roomId));
    const rejoin = await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: hank.access_token, body: {} });
    assert.equal(rejoin.status, 403);
    assert.equal((await adm.get(`${A}/v1/rooms/${enc(roomId)}`)).status, 404);
    assert.equal((await s.request('GET', `/_matrix/client/v3/directory/room/${enc('#doomed:localhost')}`)).status, 404);
    // Syncing after the purge still works for a former member.
    assert.equal((await s.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: hank.access_token })).status, 200);
    assert.equal((await adm.get(`${A}/v2/rooms/delete_status/nope`)).status, 404);
  });

  it('deletes a room moving its members and aliases into a new room', async () => {
    const ivy = await s.registerUser('ivy');
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', { token: ivy.access_token, body: { room_alias_name: 'moving' } });
    const roomId = room.json.room_id as string;
    const del = await adm.del(`${A}/v2/rooms/${enc(roomId)}`, { new_room_user_id: root.user_id, message: 'Moved', purge: false });
    const status = await waitFor(async () => {
      const r = await adm.get(`${A}/v2/rooms/delete_status/${enc(del.json.delete_id)}`);
      return r.json.status === 'complete' || r.json.status === 'failed' ? r.json : undefined;
    }, 'the deletion');
    assert.equal(status.status, 'complete', JSON.stringify(status));
    const newRoom = status.shutdown_room.new_room_id as string;
    assert.match(newRoom, /^!/);
    assert.deepEqual(status.shutdown_room.local_aliases, ['#moving:localhost']);
    assert.deepEqual((await adm.get(`${A}/v1/users/${enc(ivy.user_id)}/joined_rooms`)).json.joined_rooms, [newRoom]);
    const alias = await s.request('GET', `/_matrix/client/v3/directory/room/${enc('#moving:localhost')}`);
    assert.equal(alias.json.room_id, newRoom);
    const messages = await s.request('GET', `/_matrix/client/v3/rooms/${enc(newRoom)}/messages?dir=b&limit=20`, { token: ivy.access_token });
    assert.ok(messages.json.chunk.some((e: any) => e.type === 'm.room.message' && e.content.body === 'Moved'));
    // Without purge the old room is still known, and forgotten by everyone local.
    assert.equal((await adm.get(`${A}/v1/rooms/${enc(roomId)}`)).json.forgotten, true);
  });

  it('lists, shows and deletes event reports', async () => {
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { name: 'Reported' } });
    const roomId = room.json.room_id as string;
    const sent = await s.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/r1`, { token: alice.access_token, body: { msgtype: 'm.text', body: 'rude' } });
    const rep = await s.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/report/${enc(sent.json.event_id)}`, { token: alice.access_token, body: { reason: 'spam', score: -100 } });
    assert.equal(rep.status, 200);

    const list = await adm.get(`${A}/v1/event_reports?room_id=${enc(roomId)}`);
    assert.equal(list.json.total, 1);
    const r = list.json.event_reports[0];
    assert.deepEqual(Object.keys(r).sort(), ['canonical_alias', 'event_id', 'id', 'name', 'reason', 'received_ts', 'room_id', 'score', 'sender', 'user_id']);
    assert.deepEqual([r.event_id, r.reason, r.score, r.name, r.sender, r.user_id, r.canonical_alias], [sent.json.event_id, 'spam', -100, 'Reported', alice.user_id, alice.user_id, null]);
    const one = await adm.get(`${A}/v1/event_reports/${r.id}`);
    assert.equal(one.json.event_json.event_id, sent.json.event_id);
    assert.equal(one.json.event_json.content.body, 'rude');
    assert.equal((await adm.get(`${A}/v1/event_reports/abc`)).status, 400);
    assert.deepEqual((await adm.del(`${A}/v1/event_reports/${r.id}`)).json, {});
    assert.equal((await adm.get(`${A}/v1/event_reports/${r.id}`)).status, 404);
  });

  it('sends server notices from the notices user, in one tagged room per user', async () => {
    const body = { user_id: alice.user_id, content: { msgtype: 'm.text', body: 'Maintenance tonight' } };
    const first = await adm.post(`${A}/v1/send_server_notice`, body);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.match(first.json.event_id, /^\$/);
    const again = await adm.put(`${A}/v1/send_server_notice/txn1`, { ...body, content: { msgtype: 'm.text', body: 'Second' } });
    assert.deepEqual((await adm.put(`${A}/v1/send_server_notice/txn1`, body)).json, again.json);

    const sync = await s.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: alice.access_token });
    const invites = Object.entries(sync.json.rooms?.invite ?? {}) as [string, any][];
    const invite = invites.find(([, v]) => v.invite_state.events.some((e: any) => e.type === 'm.room.member' && e.sender === '@notices:localhost'));
    assert.ok(invite, 'the user is invited to the notices room');
    const roomId = invite![0];
    const tags = await s.request('GET', `/_matrix/client/v3/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/tags`, { token: alice.access_token });
    assert.deepEqual(tags.json.tags, { 'm.server_notice': {} });
    assert.equal((await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: alice.access_token, body: {} })).status, 200);
    const msgs = await s.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50`, { token: alice.access_token });
    const bodies = msgs.json.chunk.filter((e: any) => e.type === 'm.room.message').map((e: any) => e.content.body);
    assert.deepEqual(bodies, ['Second', 'Maintenance tonight']);
    // Nobody but the notices user may speak there.
    const speak = await s.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/x`, { token: alice.access_token, body: { msgtype: 'm.text', body: 'hi' } });
    assert.equal(speak.status, 403);
    // The notices user cannot log in.
    assert.equal((await login(s, 'notices', '')).status, 403);
    assert.equal((await adm.post(`${A}/v1/send_server_notice`, { user_id: '@x:elsewhere', content: {} })).status, 400);
  });

  it('answers federation destinations with an empty list until federation is tracked', async () => {
    assert.deepEqual((await adm.get(`${A}/v1/federation/destinations`)).json, { destinations: [], total: 0 });
    assert.equal((await adm.get(`${A}/v1/federation/destinations/example.org`)).status, 404);
    assert.equal((await adm.post(`${A}/v1/federation/destinations/example.org/reset_connection`)).status, 404);
  });

  it('lists the media used in a room', async () => {
    const room = await s.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: {} });
    const roomId = room.json.room_id as string;
    await s.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/m1`, {
      token: alice.access_token,
      body: { msgtype: 'm.image', body: 'cat.png', url: 'mxc://localhost/cat', info: { thumbnail_url: 'mxc://other.org/thumb' } },
    });
    const media = await adm.get(`${A}/v1/room/${enc(roomId)}/media`);
    assert.deepEqual(media.json, { local: ['mxc://localhost/cat'], remote: ['mxc://other.org/thumb'] });
  });

  it('lists and deletes a user media through the media repository', async () => {
    const up = await s.request('POST', '/_matrix/media/v3/upload?filename=note.txt', { token: alice.access_token, rawBody: 'hello', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(up.status, 200, JSON.stringify(up.json));
    const mediaId = (up.json.content_uri as string).split('/').pop()!;
    const list = await adm.get(`${A}/v1/users/${enc(alice.user_id)}/media`);
    const m = list.json.media.find((x: any) => x.media_id === mediaId);
    assert.deepEqual([m.media_length, m.media_type, m.upload_name, m.quarantined_by], [5, 'text/plain', 'note.txt', null]);
    assert.deepEqual((await adm.del(`${A}/v1/media/localhost/${mediaId}`)).json, { deleted_media: [mediaId], total: 1 });
    const gone = await s.request('GET', `/_matrix/client/v1/media/download/localhost/${mediaId}`, { token: alice.access_token });
    assert.equal(gone.status, 404);
  });
});

describe('Synapse admin API: registration tokens', () => {
  let s: TestServer;
  let adm: (m: string, p: string, body?: unknown) => Promise<{ status: number; json: any }>;
  before(async () => {
    s = await startTestServer({ registrationSharedSecret: SECRET, registration: 'token' });
    const root = await makeAdmin(s, 'root');
    adm = (m, p, body) => s.request(m, `${A}/v1/registration_tokens${p}`, { token: root.access_token, body });
  });
  after(() => s.close());

  const register = async (username: string, token: string): Promise<number> => {
    const first = await s.request('POST', '/_matrix/client/v3/register', { body: { username, password: 'pw' } });
    assert.equal(first.status, 401);
    const r = await s.request('POST', '/_matrix/client/v3/register', {
      body: { username, password: 'pw', auth: { type: 'm.login.registration_token', token, session: first.json.session } },
    });
    return r.status;
  };

  it('creates, reads, updates and deletes tokens with Synapse shapes', async () => {
    const gen = await adm('POST', '/new', {});
    assert.equal(gen.status, 200);
    assert.deepEqual(Object.keys(gen.json).sort(), ['completed', 'expiry_time', 'pending', 'token', 'uses_allowed']);
    assert.match(gen.json.token, /^[A-Za-z0-9._~-]{16}$/);
    assert.deepEqual([gen.json.uses_allowed, gen.json.pending, gen.json.completed, gen.json.expiry_time], [null, 0, 0, null]);
    assert.match((await adm('POST', '/new', { length: 5 })).json.token, /^[A-Za-z0-9._~-]{5}$/);

    const named = await adm('POST', '/new', { token: 'family-2024', uses_allowed: 3, expiry_time: Date.now() + 3_600_000 });
    assert.equal(named.json.token, 'family-2024');
    assert.equal((await adm('POST', '/new', { token: 'family-2024' })).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await adm('POST', '/new', { token: 'bad token!' })).status, 400);
    assert.equal((await adm('POST', '/new', { uses_allowed: -1 })).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await adm('POST', '/new', { expiry_time: 1 })).json.errcode, 'M_INVALID_PARAM');

    const updated = await adm('PUT', '/family-2024', { uses_allowed: 5, expiry_time: null });
    assert.deepEqual([updated.json.uses_allowed, updated.json.expiry_time], [5, null]);
    assert.equal((await adm('GET', '/family-2024')).json.uses_allowed, 5);
    assert.equal((await adm('GET', '/nope')).status, 404);
    assert.equal((await adm('PUT', '/nope', { uses_allowed: 1 })).status, 404);

    const expired = await adm('POST', '/new', { token: 'used-up', uses_allowed: 0 });
    assert.equal(expired.status, 200);
    const valid = await adm('GET', '?valid=true');
    assert.ok(!valid.json.registration_tokens.some((t: any) => t.token === 'used-up'));
    const invalid = await adm('GET', '?valid=false');
    assert.deepEqual(invalid.json.registration_tokens.map((t: any) => t.token), ['used-up']);
    assert.ok((await adm('GET', '')).json.registration_tokens.length >= 4);

    assert.deepEqual((await adm('DELETE', '/used-up')).json, {});
    assert.equal((await adm('DELETE', '/used-up')).status, 404);
  });

  it('lets exactly uses_allowed registrations through /register', async () => {
    const t = (await adm('POST', '/new', { uses_allowed: 2 })).json.token as string;
    assert.equal(await register('tok1', t), 200);
    assert.equal(await register('tok2', t), 200);
    assert.equal(await register('tok3', t), 401);
    const after = (await adm('GET', `/${t}`)).json;
    assert.deepEqual([after.completed, after.pending], [2, 0]);
    assert.equal((await login(s, 'tok2', 'pw')).status, 200);
  });
});
