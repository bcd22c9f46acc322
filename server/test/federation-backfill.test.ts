/**
 * Backfilled history (services/federation/backfill.ts; server-server backfill.yaml, client-server
 * message_pagination.yaml and search.yaml): on two Hearth servers, a message redacted on A before
 * B's user joined is served redacted on B after B paginates back — the redaction and its target
 * arrive in different backfill rounds, newest first, so the target finds a redaction already
 * held — and a backfilled message is found by B's /search. Without servers: backfill skips the
 * servers the room's m.room.server_acl denies, and a round reports its outcome ('pending' when
 * the room has backward extremities but nothing came, 'complete' when there are none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFederation, type FederatedServer, until, type Session } from './federation-harness.ts';
import { FederationBackfill, type BackfillDeps } from '../services/federation/backfill.ts';
import { getRoomVersion } from '../core/room-versions.ts';

const room = (id: string): string => encodeURIComponent(id);

let txn = 0;
async function send(s: FederatedServer, who: Session, roomId: string, body: string): Promise<string> {
  const r = await s.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/send/m.room.message/t${++txn}`, { token: who.access_token, body: { msgtype: 'm.text', body } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.event_id;
}

test('B paginates back: a redaction made before B joined applies, backfilled messages are searchable', async () => {
  const [a, b] = await startFederation(2, { settings: { federationRetryMinMs: 200 } });
  try {
    const [alice, bob]: Session[] = await Promise.all([a!.registerUser('alice'), b!.registerUser('bob')]);
    const created = await a!.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'private_chat', name: 'Family' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId: string = created.json.room_id;

    // History B will not have: the secret, more than one backfill round (20 events) of chatter,
    // then the secret's redaction.
    const secret = await send(a!, alice, roomId, 'the secret recipe');
    await send(a!, alice, roomId, 'pineapple pizza on friday');
    for (let i = 0; i < 22; i++) await send(a!, alice, roomId, `chatter ${i}`);
    const redacted = await a!.request('PUT', `/_matrix/client/v3/rooms/${room(roomId)}/redact/${encodeURIComponent(secret)}/r${++txn}`, {
      token: alice.access_token,
      body: { reason: 'oops' },
    });
    assert.equal(redacted.status, 200, JSON.stringify(redacted.json));

    assert.equal((await a!.request('POST', `/_matrix/client/v3/rooms/${room(roomId)}/invite`, { token: alice.access_token, body: { user_id: bob.user_id } })).status, 200);
    const joined = await b!.request('POST', `/_matrix/client/v3/join/${room(roomId)}`, { token: bob.access_token, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.json));

    // Bob pages back to the start of the room.
    const seen: any[] = [];
    let from: string | undefined;
    for (let page = 0; page < 30; page++) {
      const r = await b!.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/messages?dir=b&limit=8${from ? `&from=${from}` : ''}`, { token: bob.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      seen.push(...r.json.chunk);
      if (!r.json.end) break;
      from = r.json.end;
    }
    assert.equal(seen.at(-1)?.type, 'm.room.create', 'pagination reaches the start of the room');
    const target = seen.find((e) => e.event_id === secret);
    assert.ok(target, 'the redacted message was backfilled');
    assert.deepEqual(target.content, {}, 'served redacted');
    assert.equal(target.unsigned?.redacted_because?.event_id, redacted.json.event_id);
    assert.ok(seen.some((e) => e.content?.body === 'pineapple pizza on friday'));

    // The same event fetched alone is redacted too.
    const single = await b!.request('GET', `/_matrix/client/v3/rooms/${room(roomId)}/event/${encodeURIComponent(secret)}`, { token: bob.access_token });
    assert.equal(single.status, 200, JSON.stringify(single.json));
    assert.deepEqual(single.json.content, {});

    // Backfilled history is indexed (the index is written just after the backfill write).
    const hits = await until('the backfilled message in search', async () => {
      const r = await b!.request('POST', '/_matrix/client/v3/search', { token: bob.access_token, body: { search_categories: { room_events: { search_term: 'pineapple' } } } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const results = r.json.search_categories.room_events.results as any[];
      return results.length > 0 ? results : undefined;
    });
    assert.equal(hits[0].result.content.body, 'pineapple pizza on friday');
    const none = await b!.request('POST', '/_matrix/client/v3/search', { token: bob.access_token, body: { search_categories: { room_events: { search_term: 'recipe' } } } });
    assert.equal(none.json.search_categories.room_events.results.length, 0, 'a redacted message is not found');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

/** Deps for rounds without servers: `oldest` is the room's oldest timeline event, nothing held. */
function stubDeps(oldest: { type: string; prev_events: string[] }, fetch: BackfillDeps['fetch'], extra: Partial<BackfillDeps> = {}): BackfillDeps {
  const version = getRoomVersion('10')!;
  const acl = { type: 'm.room.server_acl', state_key: '', content: { allow: ['*'], deny: ['bad.example'] } };
  return {
    serverName: 'home.example',
    store: {
      eventsBetween: () => [{ pdu: oldest }],
      getDagEvents: () => new Map(),
    },
    sender: { cache: { get: () => ({ version, joined: new Set(['@a:bad.example', '@b:bad.example', '@c:good.example']), state: new Map([['m.room.server_acl\u0000', acl]]) }) } },
    pdus: { verifyRoomEvents: async () => ({ pdus: [], keys: {} }), storeVerifiedOutliers: async () => new Set() },
    fetch,
    ...extra,
  } as unknown as BackfillDeps;
}

test('backfill skips servers the room server ACL denies', async () => {
  const asked: string[] = [];
  const deps = stubDeps({ type: 'm.room.message', prev_events: ['$missing'] }, async (destination) => {
    asked.push(destination);
    throw new Error('down');
  });
  assert.equal(await new FederationBackfill(deps).backfill('!r:home.example', 10), 'pending', 'nothing came, older history exists');
  assert.deepEqual(asked, ['good.example']);
});

test('a backfill round reports its outcome: complete at the create event, pending past its timeout', async () => {
  let asked = 0;
  const complete = stubDeps({ type: 'm.room.create', prev_events: [] }, async () => {
    asked++;
    return {};
  });
  assert.equal(await new FederationBackfill(complete).backfill('!r:home.example', 10), 'complete');
  assert.equal(asked, 0, 'no backward extremities: nobody asked');

  let answer!: (v: { pdus?: unknown }) => void;
  const slow = stubDeps({ type: 'm.room.message', prev_events: ['$missing'] }, () => new Promise((resolve) => (answer = resolve)), { timeoutMs: 50 });
  const backfill = new FederationBackfill(slow);
  assert.equal(await backfill.backfill('!r:home.example', 10), 'pending');
  answer({ pdus: [] }); // the round, still running, ends with nothing stored
});
