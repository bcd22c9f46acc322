/**
 * Three Hearth servers over real TLS (federation-harness.ts), the issue's three-server scenarios
 * (spec: server-server "Joining Rooms", "Room State Resolution", "Backfilling and retrieving
 * missing events", "Soft failure"): a room on A that B's user joins; B's user gives it an alias on
 * B; C's user joins through that alias and paginates back into history older than its join
 * (client-driven backfill); topics set on A and B at the same moment resolve to the same state
 * everywhere; a ban on A is enforced on B and C, and B rejects an event C signs after the ban;
 * backfilled history obeys the history visibility at each event, and with the only resident
 * server down /messages still answers, quickly, with what C holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFederation, tlsRequest, type FederatedServer, until, type Session } from './federation-harness.ts';
import { loadOrCreateSigningKey } from '../services/federation/server-keys.ts';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { buildEvent } from '../core/events/build.ts';
import { wireForm } from '../core/events/hashes.ts';
import { getRoomVersion } from '../core/room-versions.ts';
import { signRequest } from '../services/federation/request-auth.ts';

const room = (id: string): string => encodeURIComponent(id);

/** Message bodies of a /messages page, oldest first. */
function bodiesOf(chunk: { type: string; content: { body?: string } }[]): string[] {
  return chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body!).reverse();
}

async function bodies(s: FederatedServer, who: Session, roomId: string): Promise<string[]> {
  const r = await s.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/messages?dir=b&limit=100`, { token: who.access_token });
  return r.status === 200 ? bodiesOf(r.json.chunk) : [];
}

let txn = 0;
async function send(s: FederatedServer, who: Session, roomId: string, body: string): Promise<{ status: number; json: any }> {
  return s.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/send/m.room.message/t${++txn}`, { token: who.access_token, body: { msgtype: 'm.text', body } });
}

async function stateContent(s: FederatedServer, who: Session, roomId: string, type: string, key = ''): Promise<any> {
  const r = await s.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/state/${type}/${encodeURIComponent(key)}`, { token: who.access_token });
  return r.status === 200 ? r.json : undefined;
}

async function membership(s: FederatedServer, who: Session, roomId: string, userId: string): Promise<string | undefined> {
  return (await stateContent(s, who, roomId, 'm.room.member', userId))?.membership;
}

test('three servers: join by alias, backfill, concurrent state, ban', async () => {
  const [a, b, c] = await startFederation(3, { settings: { federationRetryMinMs: 200 } });
  try {
    const [alice, bob, carol]: Session[] = await Promise.all([a!.registerUser('alice'), b!.registerUser('bob'), c!.registerUser('carol')]);

    // A's room, B's user joins on invite.
    const created = await a!.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'public_chat', name: 'Family' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId: string = created.json.room_id;
    assert.equal((await a!.request('POST', `/_matrix/client/v3/rooms/${room(roomId)}/invite`, { token: alice.access_token, body: { user_id: bob.user_id } })).status, 200);
    const bobJoin = await b!.request('POST', `/_matrix/client/v3/join/${room(roomId)}`, { token: bob.access_token, body: {} });
    assert.equal(bobJoin.status, 200, JSON.stringify(bobJoin.json));
    await until('A to see bob joined', async () => ((await membership(a!, alice, roomId, bob.user_id)) === 'join' ? true : undefined));

    // History C's server will not have when its user joins.
    for (let i = 1; i <= 3; i++) assert.equal((await send(a!, alice, roomId, `before C ${i}`)).status, 200);
    await until('B to get the history', async () => ((await bodies(b!, bob, roomId)).length === 3 ? true : undefined));

    // B's user publishes #family on B; C's user joins through it.
    const alias = `#family:${b!.serverName}`;
    const put = await b!.request('PUT', `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`, { token: bob.access_token, body: { room_id: roomId } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const carolJoin = await c!.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(alias)}`, { token: carol.access_token, body: {} });
    assert.equal(carolJoin.status, 200, JSON.stringify(carolJoin.json));
    assert.equal(carolJoin.json.room_id, roomId);
    await until('A and B to see carol joined', async () =>
      (await membership(a!, alice, roomId, carol.user_id)) === 'join' && (await membership(b!, bob, roomId, carol.user_id)) === 'join' ? true : undefined);

    // C's messages reach A and B.
    assert.equal((await send(c!, carol, roomId, 'hello from C')).status, 200);
    await until('A and B to get carol\'s message', async () =>
      (await bodies(a!, alice, roomId)).includes('hello from C') && (await bodies(b!, bob, roomId)).includes('hello from C') ? true : undefined);

    // Backfill: carol paginates back past her join and gets the earlier history, in order
    // (the room's history is shared), page by page with small limits.
    const seen: { type: string; content: { body?: string } }[] = [];
    let from: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await c!.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/messages?dir=b&limit=3${from ? `&from=${from}` : ''}`, { token: carol.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      seen.push(...r.json.chunk);
      if (!r.json.end) break;
      from = r.json.end;
    }
    assert.deepEqual(bodiesOf(seen), ['before C 1', 'before C 2', 'before C 3', 'hello from C']);
    const types = seen.map((e) => e.type).reverse();
    assert.equal(types[0], 'm.room.create', 'pagination reaches the start of the room');
    assert.equal(new Set(seen.map((e: any) => e.event_id)).size, seen.length, 'each event once');

    // Concurrent state: A and B set the topic at the same moment; all three converge.
    const pl = await stateContent(a!, alice, roomId, 'm.room.power_levels');
    const raised = await a!.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/state/m.room.power_levels/`, {
      token: alice.access_token,
      body: { ...pl, users: { ...pl.users, [bob.user_id]: 50 } },
    });
    assert.equal(raised.status, 200, JSON.stringify(raised.json));
    await until('B to see bob\'s power', async () => ((await stateContent(b!, bob, roomId, 'm.room.power_levels'))?.users?.[bob.user_id] === 50 ? true : undefined));
    const [ta, tb] = await Promise.all([
      a!.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/state/m.room.topic/`, { token: alice.access_token, body: { topic: 'from A' } }),
      b!.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/state/m.room.topic/`, { token: bob.access_token, body: { topic: 'from B' } }),
    ]);
    assert.equal(ta.status, 200, JSON.stringify(ta.json));
    assert.equal(tb.status, 200, JSON.stringify(tb.json));
    const topic = await until('the three servers to agree on the topic', async () => {
      const [x, y, z] = await Promise.all([
        stateContent(a!, alice, roomId, 'm.room.topic'),
        stateContent(b!, bob, roomId, 'm.room.topic'),
        stateContent(c!, carol, roomId, 'm.room.topic'),
      ]);
      return x?.topic !== undefined && x.topic === y?.topic && y.topic === z?.topic ? x.topic : undefined;
    });
    assert.ok(topic === 'from A' || topic === 'from B', topic);

    // A's admin bans carol: enforced on B and C.
    const ban = await a!.request('POST', `/_matrix/client/v3/rooms/${room(roomId)}/ban`, { token: alice.access_token, body: { user_id: carol.user_id, reason: 'test' } });
    assert.equal(ban.status, 200, JSON.stringify(ban.json));
    await until('B and C to see the ban', async () =>
      (await membership(b!, bob, roomId, carol.user_id)) === 'ban' && (await membership(c!, carol, roomId, carol.user_id)) === 'ban' ? true : undefined);
    const refused = await send(c!, carol, roomId, 'after the ban');
    assert.equal(refused.status, 403, JSON.stringify(refused.json));

    // C signs an event for carol after the ban anyway; B rejects it and never shows it.
    const version = getRoomVersion('12')!;
    const key = loadOrCreateSigningKey(c!.dataDir);
    const signing = signingKeyFromSeed(key.seed, key.keyId.slice('ed25519:'.length));
    const bState = (await b!.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/state`, { token: bob.access_token })).json as any[];
    const latest = (await b!.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/messages?dir=b&limit=1`, { token: bob.access_token })).json.chunk[0];
    const idOf = (type: string, k = ''): string => bState.find((e) => e.type === type && e.state_key === k).event_id;
    const forged = buildEvent(version, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'sneaking in' },
      sender: carol.user_id,
      room_id: roomId,
      prev_events: [latest.event_id],
      auth_events: [idOf('m.room.power_levels'), idOf('m.room.member', carol.user_id)],
      depth: 1000,
      origin_server_ts: Date.now(),
    }, { serverName: c!.serverName, signingKey: signing });
    const path = `/_matrix/federation/v1/send/forged${Date.now()}`;
    const body = { origin: c!.serverName, origin_server_ts: Date.now(), pdus: [wireForm(version, forged)] };
    const authorization = signRequest({ method: 'PUT', uri: path, origin: c!.serverName, destination: b!.serverName, content: body }, signing);
    const sent = await tlsRequest(b!.fedUrl + path, { method: 'PUT', headers: { Authorization: authorization, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.ok(sent.json.pdus[forged.event_id]?.error, `B accepted the banned user's event: ${JSON.stringify(sent.json)}`);
    assert.ok(!(await bodies(b!, bob, roomId)).includes('sneaking in'));

    // Backfill respects history visibility at each event, and a resident server that is down
    // leaves /messages answering with what C holds.
    const second = await a!.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'public_chat' } });
    const room2: string = second.json.room_id;
    assert.equal((await send(a!, alice, room2, 'shared history')).status, 200);
    const hv = await a!.request('PUT', `/_matrix/client/v3/rooms/${room(room2)}/state/m.room.history_visibility/`, { token: alice.access_token, body: { history_visibility: 'joined' } });
    assert.equal(hv.status, 200);
    assert.equal((await send(a!, alice, room2, 'members only')).status, 200);
    const joined2 = await c!.request('POST', `/_matrix/client/v3/join/${room(room2)}?server_name=${encodeURIComponent(a!.serverName)}`, { token: carol.access_token, body: {} });
    assert.equal(joined2.status, 200, JSON.stringify(joined2.json));
    await a!.hs.stop();
    const startedAt = Date.now();
    const whileDown = await c!.request('GET', `/_matrix/client/v3/rooms/${room(room2)}/messages?dir=b&limit=10`, { token: carol.access_token });
    assert.equal(whileDown.status, 200, JSON.stringify(whileDown.json));
    assert.deepEqual(whileDown.json.chunk.map((e: any) => e.type), ['m.room.member'], 'only what C holds');
    assert.ok(Date.now() - startedAt < 5_000, 'bounded latency');
    assert.equal(typeof whileDown.json.end, 'string', 'older history exists elsewhere: the client may ask again');
    const nothingMore = await c!.request('GET', `/_matrix/client/v3/rooms/${room(room2)}/messages?dir=b&limit=10&from=${encodeURIComponent(whileDown.json.end)}`, { token: carol.access_token });
    assert.deepEqual([nothingMore.json.chunk, nothingMore.json.end], [[], undefined], 'an empty page ends it while nobody answers');
    await a!.restart();
    const afterRestart = await c!.request('GET', `/_matrix/client/v3/rooms/${room(room2)}/messages?dir=b&limit=10`, { token: carol.access_token });
    assert.equal(afterRestart.status, 200, JSON.stringify(afterRestart.json));
    assert.deepEqual(bodiesOf(afterRestart.json.chunk), ['shared history'], 'the message sent while history was joined-only stays hidden');
  } finally {
    await Promise.all([a!.close(), b!.close(), c!.close()]);
  }
});
