/**
 * Storage care over real HTTP on a TLS-federating Hearth: Synapse's purge_history API (shape,
 * validation, what stays: state, current state, the latest event; what goes: older messages with
 * their relations and search index rows), Hearth's /_hearth/api/v1/storage (sizes and history,
 * purge then compaction, the remote media cache), the data surviving a restart, and the remote
 * room complexity limit with the resident's federation endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRemoteRoomComplexity, checkReportedRoomComplexity, COMPLEXITY_ERROR, fetchRemoteRoomComplexity, roomComplexity } from '../services/admin/storage-care.ts';
import { MatrixError } from '../errors.ts';
import { startFakeRemote, startFederatedServer, tlsRequest, type FakeRemote, type FederatedServer } from './federation-harness.ts';
import { registerAdmin } from './harness.ts';
import { startAdminClient, USER_TOKEN, type AdminClient } from './storage-care-fixture.ts';

const A = '/_synapse/admin/v1';
const enc = encodeURIComponent;

describe('storage care', () => {
  let server: FederatedServer;
  let hearthAdmin: AdminClient;
  let fake: FakeRemote;
  let admin: { user_id: string; access_token: string };
  let alice: { user_id: string; access_token: string };

  before(async () => {
    server = await startFederatedServer({ settings: { registrationSharedSecret: 's' } });
    admin = (await registerAdmin(server, 's')).json;
    alice = await server.registerUser('alice');
    [hearthAdmin, fake] = await Promise.all([startAdminClient(server), startFakeRemote()]);
  });

  after(async () => {
    await hearthAdmin.close();
    await fake.close();
    await server.close();
  });

  const createRoom = async (body: Record<string, unknown> = {}): Promise<string> => {
    const r = await server.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.room_id;
  };
  let txn = 0;
  const send = async (roomId: string, type: string, content: Record<string, unknown>): Promise<string> => {
    const r = await server.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/${type}/t${++txn}`, { token: alice.access_token, body: content });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.event_id;
  };
  const say = (roomId: string, body: string): Promise<string> => send(roomId, 'm.room.message', { msgtype: 'm.text', body });
  const timeline = async (roomId: string): Promise<any[]> => {
    const r = await server.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=200`, { token: alice.access_token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.chunk.reverse();
  };
  const bodies = (events: any[]): string[] => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
  const searchCount = async (term: string): Promise<number> => {
    const r = await server.request('POST', '/_matrix/client/v3/search', { token: alice.access_token, body: { search_categories: { room_events: { search_term: term } } } });
    return r.json.search_categories.room_events.count as number;
  };
  const synapse = (method: string, path: string, body?: unknown, token = admin.access_token) => server.request(method, path, { token, body });

  it('purges messages before an event (Synapse purge_history) and keeps state and what came after', async () => {
    const roomId = await createRoom({ name: 'Holiday plans' });
    const early: string[] = [];
    for (let i = 1; i <= 10; i++) early.push(await say(roomId, `alpha ${i}`));
    await send(roomId, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: early[1], key: '👍' } });
    const topic = await server.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.access_token, body: { topic: 'Summer' } });
    assert.equal(topic.status, 200);
    const cut = await say(roomId, 'alpha 11');
    for (let i = 12; i <= 15; i++) await say(roomId, `alpha ${i}`);
    // The search index is filled asynchronously; wait until the old messages are in it.
    for (let i = 0; i < 100 && (await searchCount('alpha')) < 15; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await searchCount('alpha'), 15);

    const started = await synapse('POST', `${A}/purge_history/${enc(roomId)}`, { purge_up_to_event_id: cut, delete_local_events: true });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    assert.deepEqual(Object.keys(started.json), ['purge_id']);
    const status = await synapse('GET', `${A}/purge_history_status/${enc(started.json.purge_id)}`);
    assert.deepEqual(status.json, { status: 'complete' });

    const events = await timeline(roomId);
    assert.deepEqual(bodies(events), ['alpha 11', 'alpha 12', 'alpha 13', 'alpha 14', 'alpha 15']);
    assert.ok(!events.some((e) => e.type === 'm.reaction'));
    // Every state event stays, and current state still reads.
    for (const type of ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name', 'm.room.topic']) {
      assert.ok(events.some((e) => e.type === type), `${type} kept`);
    }
    const name = await server.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name`, { token: alice.access_token });
    assert.deepEqual(name.json, { name: 'Holiday plans' });
    assert.equal((await server.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(early[0]!)}`, { token: alice.access_token })).status, 404);
    assert.equal(await searchCount('alpha'), 5);
    // The room goes on.
    await say(roomId, 'alpha 16');
    assert.deepEqual(bodies(await timeline(roomId)).slice(-1), ['alpha 16']);
  });

  it('keeps local events unless delete_local_events is set, as Synapse does', async () => {
    const roomId = await createRoom();
    for (let i = 0; i < 3; i++) await say(roomId, `local ${i}`);
    const started = await synapse('POST', `${A}/purge_history/${enc(roomId)}`, { purge_up_to_ts: Date.now() + 60_000 });
    assert.equal(started.status, 200);
    assert.deepEqual((await synapse('GET', `${A}/purge_history_status/${enc(started.json.purge_id)}`)).json, { status: 'complete' });
    assert.deepEqual(bodies(await timeline(roomId)), ['local 0', 'local 1', 'local 2']);
  });

  it('recounts unread notifications in /sync once the history they were for is purged', async () => {
    const bob = await server.registerUser('bob');
    const roomId = await createRoom({ preset: 'public_chat' });
    assert.equal((await server.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.access_token, body: {} })).status, 200);
    for (let i = 1; i <= 4; i++) await say(roomId, `beta ${i}`);
    const cut = await say(roomId, 'beta 5');
    await say(roomId, 'beta 6');
    const unread = async (): Promise<number> => {
      const r = await server.request('GET', '/_matrix/client/v3/sync', { token: bob.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.rooms.join[roomId].unread_notifications.notification_count as number;
    };
    assert.equal(await unread(), 6);
    const started = await synapse('POST', `${A}/purge_history/${enc(roomId)}`, { purge_up_to_event_id: cut, delete_local_events: true });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    assert.equal(await unread(), 2);
  });

  it('answers Synapse purge_history errors with its status codes', async () => {
    const roomId = await createRoom();
    const other = await createRoom();
    const elsewhere = await say(other, 'elsewhere');
    const path = `${A}/purge_history/${enc(roomId)}`;
    assert.equal((await synapse('POST', path, {})).json.errcode, 'M_BAD_JSON');
    assert.equal((await synapse('POST', path, { purge_up_to_ts: 'soon' })).json.errcode, 'M_BAD_JSON');
    const unknown = await synapse('POST', `${path}/${enc('$nope')}`, {});
    assert.deepEqual([unknown.status, unknown.json.errcode], [404, 'M_NOT_FOUND']);
    const wrongRoom = await synapse('POST', path, { purge_up_to_event_id: elsewhere });
    assert.deepEqual([wrongRoom.status, wrongRoom.json.error], [400, 'Event is for wrong room.']);
    assert.equal((await synapse('POST', `${A}/purge_history/${enc('!unknown:localhost')}`, { purge_up_to_ts: 1 })).status, 404);
    assert.equal((await synapse('POST', path, { purge_up_to_ts: 1 }, alice.access_token)).status, 403);
    assert.equal((await synapse('GET', `${A}/purge_history_status/unknown`)).status, 404);
  });

  it('shows sizes and their history, purges with compaction, and compacts on demand (Hearth admin API)', async () => {
    const sizes = await hearthAdmin.request('GET', '/_hearth/api/v1/storage?days=7');
    assert.equal(sizes.status, 200, JSON.stringify(sizes.json));
    assert.ok(sizes.json.current.databaseBytes > 0);
    assert.ok(sizes.json.current.totalBytes >= sizes.json.current.databaseBytes + sizes.json.current.mediaBytes);
    assert.ok(sizes.json.history.length >= 1, 'the sampler recorded the start');
    assert.deepEqual(Object.keys(sizes.json.history[0]).sort(), ['databaseBytes', 'mediaBytes', 'totalBytes', 'ts']);
    assert.equal(sizes.json.maxRemoteRoomComplexity, null);

    const roomId = await createRoom();
    for (let i = 0; i < 20; i++) await say(roomId, `beta ${i} ${'long text '.repeat(50)}`);
    const purged = await hearthAdmin.request('POST', '/_hearth/api/v1/storage/purge-history', { body: { roomId, keepLatest: 3 } });
    assert.equal(purged.status, 200, JSON.stringify(purged.json));
    assert.equal(purged.json.purgedEvents, 17);
    assert.ok(purged.json.compaction.bytesAfter < purged.json.compaction.bytesBefore, JSON.stringify(purged.json.compaction));
    assert.deepEqual(bodies(await timeline(roomId)).map((b) => b.split(' ').slice(0, 2).join(' ')), ['beta 17', 'beta 18', 'beta 19']);

    const compacted = await hearthAdmin.request('POST', '/_hearth/api/v1/storage/compact', { body: {} });
    assert.equal(compacted.status, 200);
    assert.deepEqual(Object.keys(compacted.json).sort(), ['bytesAfter', 'bytesBefore', 'durationMs']);
    const media = await hearthAdmin.request('POST', '/_hearth/api/v1/storage/purge-remote-media', { body: { olderThanDays: 0 } });
    assert.equal(media.status, 200, JSON.stringify(media.json));
    assert.equal(media.json.deletedMedia, 0);

    const bad = async (path: string, body: unknown): Promise<string> => (await hearthAdmin.request('POST', `/_hearth/api/v1/storage/${path}`, { body })).json.errcode;
    assert.equal(await bad('purge-history', { roomId, keepLatest: 3, beforeTs: 5 }), 'M_BAD_JSON');
    assert.equal(await bad('purge-history', { roomId }), 'M_BAD_JSON');
    assert.equal(await bad('purge-history', { keepLatest: 3 }), 'M_MISSING_PARAM');
    assert.equal(await bad('purge-history', { roomId: '!unknown:localhost', keepLatest: 1 }), 'M_NOT_FOUND');
    assert.equal(await bad('purge-remote-media', { olderThanDays: -1 }), 'M_BAD_JSON');
    const forbidden = await hearthAdmin.request('POST', '/_hearth/api/v1/storage/compact', { body: {}, token: USER_TOKEN });
    assert.equal(forbidden.status, 403);
    assert.equal((await hearthAdmin.request('GET', '/_hearth/api/v1/storage?days=0')).json.errcode, 'M_INVALID_PARAM');
  });

  it('keeps purged history purged and the size history across a restart', async () => {
    const roomId = await createRoom();
    for (let i = 0; i < 5; i++) await say(roomId, `gamma ${i}`);
    const purged = await hearthAdmin.request('POST', '/_hearth/api/v1/storage/purge-history', { body: { roomId, keepLatest: 2 } });
    assert.equal(purged.json.purgedEvents, 3);
    await server.restart();
    assert.deepEqual(bodies(await timeline(roomId)), ['gamma 3', 'gamma 4']);
    const sizes = await hearthAdmin.request('GET', '/_hearth/api/v1/storage');
    assert.ok(sizes.json.history.length >= 1);
  });

  it('limits the complexity of remote rooms as Synapse does, and reports ours to other servers', async () => {
    assert.deepEqual(roomComplexity(1234), { v1: 2.47 });
    assert.doesNotThrow(() => checkRemoteRoomComplexity(10_000, undefined));
    assert.doesNotThrow(() => checkRemoteRoomComplexity(500, 1));
    assert.doesNotThrow(() => checkReportedRoomComplexity(undefined, 1));
    assert.throws(() => checkReportedRoomComplexity(1.5, 1), /unable to join rooms this large/);
    assert.throws(
      () => checkRemoteRoomComplexity(510, 1),
      (e: unknown) => e instanceof MatrixError && e.status === 400 && e.errcode === 'M_RESOURCE_LIMIT_EXCEEDED' && e.message === COMPLEXITY_ERROR,
    );

    const publicRoom = await createRoom({ preset: 'public_chat', name: 'Town square' });
    const privateRoom = await createRoom({ preset: 'private_chat' });
    const path = (roomId: string): string => `/_matrix/federation/unstable/rooms/${enc(roomId)}/complexity`;
    const state = await server.request('GET', `/_matrix/client/v3/rooms/${enc(publicRoom)}/state`, { token: alice.access_token });
    const pub = await fake.request(server, 'GET', path(publicRoom));
    assert.equal(pub.status, 200, JSON.stringify(pub.json));
    assert.deepEqual(pub.json, roomComplexity(state.json.length));
    const priv = await fake.request(server, 'GET', path(privateRoom));
    assert.deepEqual([priv.status, priv.json.errcode], [404, 'M_INVALID_PARAM']);
    // What the joining side asks, through a client that signs as the fake remote.
    const client = {
      request: async <T>(_destination: string, method: 'GET', p: string): Promise<T> => {
        const r = await fake.request(server, method, p);
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        return r.json as T;
      },
    };
    assert.equal(await fetchRemoteRoomComplexity(client, server.serverName, publicRoom), pub.json.v1);
    assert.equal(await fetchRemoteRoomComplexity(client, server.serverName, privateRoom), undefined);
    const unsigned = await tlsRequest(server.fedUrl + path(publicRoom));
    assert.equal(unsigned.status, 401);
  });
});
