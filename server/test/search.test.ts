/**
 * Server-side search (client-server search.yaml) over real HTTP: POST /search against the real
 * rooms services and a real sql.js database (FTS4 index, migration 0008). Rooms are set up
 * through the rooms services directly and tokens are `tok-<user id>`, so this suite does not
 * depend on registration; it checks matching, visibility, ordering, pagination, context,
 * groups, redaction, encryption and the edge's errors. Also: the index survives a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as searchApi from '../api/client/search.ts';
import type { JsonObject } from '../core/events/types.ts';
import { Bus } from '../services/bus.ts';
import { ClientEventFormatter } from '../services/rooms/client-event.ts';
import type { CreateRoomRequest } from '../services/rooms/create.ts';
import type { MembershipService } from '../services/rooms/membership.ts';
import { parseSearchTerm, SearchService } from '../services/rooms/search.ts';
import { createSqlJsSearch } from '../storage/sqljs/search.ts';
import { startTestServer } from './harness.ts';
import { listenApp, openTempDatabase, testRooms, userIdTokenAuth, type InProcessApp } from './in-process-app.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import type { Database } from '../storage/storage.ts';

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';
const CAROL = '@carol:localhost';

interface Fixture {
  db: Database;
  dataDir: string;
  createRoom(userId: string, req?: CreateRoomRequest): Promise<string>;
  send(roomId: string, userId: string, body: string, type?: string, content?: JsonObject): Promise<string>;
  state(roomId: string, userId: string, type: string, content: JsonObject, stateKey?: string): Promise<string>;
  redact(roomId: string, userId: string, eventId: string): Promise<void>;
  membership: MembershipService;
  search(userId: string, criteria: Record<string, unknown>, nextBatch?: string): Promise<{ status: number; json: any }>;
  request: InProcessApp['request'];
  close(opts?: { keepData?: boolean }): Promise<void>;
}

async function startFixture(dataDir?: string, migrationsDir?: string): Promise<Fixture> {
  const temp = await openTempDatabase('search', { dataDir, migrationsDir });
  const db = temp.db;
  const bus = new Bus((_e, err) => console.error(err));
  const { store, sender, creator, membership } = testRooms(db, {
    keySeed: 7,
    bus,
    getProfile: (u) => ({ displayname: u.slice(1, u.indexOf(':')).toUpperCase() }),
  });
  const formatter = new ClientEventFormatter(store, sender.cache, Date.now);
  const search = new SearchService({ index: createSqlJsSearch(db), rooms: store, formatEvents: (r, v) => formatter.format(r, v) });
  // Without the search tables (a data folder from before migration 0008) nothing is indexed live.
  if (migrationsDir === undefined) bus.on('eventPersisted', (p) => void search.onEventPersisted(p));
  const app = await listenApp((routes) => searchApi.register(routes, { auth: userIdTokenAuth(), search }));
  const { request } = app;

  return {
    db,
    dataDir: temp.dataDir,
    membership,
    async createRoom(userId, req = {}) {
      return (await creator.createRoom(userId, req)).roomId;
    },
    async send(roomId, userId, body, type = 'm.room.message', content) {
      return (await sender.send({ roomId, sender: userId, type, content: content ?? { msgtype: 'm.text', body } })).eventId;
    },
    async state(roomId, userId, type, content, stateKey = '') {
      return (await sender.send({ roomId, sender: userId, type, stateKey, content })).eventId;
    },
    async redact(roomId, userId, eventId) {
      await sender.send({ roomId, sender: userId, type: 'm.room.redaction', content: { redacts: eventId }, redacts: eventId, applyRedaction: true });
    },
    search(userId, criteria, nextBatch) {
      const q = nextBatch !== undefined ? `?next_batch=${encodeURIComponent(nextBatch)}` : '';
      return request('POST', `/_matrix/client/v3/search${q}`, { token: `tok-${userId}`, body: { search_categories: { room_events: criteria } } });
    },
    request,
    async close(opts = {}) {
      await app.close();
      await search.close();
      await temp.close(opts);
    },
  };
}

const bodies = (json: any): string[] => json.search_categories.room_events.results.map((r: any) => r.result.content.body);

test('parseSearchTerm: words, phrases, exclusions', () => {
  assert.deepEqual(parseSearchTerm('martians and men'), { must: [['martians'], ['and'], ['men']], mustNot: [] });
  assert.deepEqual(parseSearchTerm('"red fox" -cat -"big dog" e-mail'), { must: [['red', 'fox'], ['e', 'mail']], mustNot: [['cat'], ['big', 'dog']] });
  assert.deepEqual(parseSearchTerm(' *** "" - '), { must: [], mustNot: [] });
  assert.deepEqual(parseSearchTerm('"unterminated phrase'), { must: [['unterminated', 'phrase']], mustNot: [] });
});

test('POST /search', async (t) => {
  const fx = await startFixture();
  t.after(() => fx.close());

  const room = await fx.createRoom(ALICE, { preset: 'public_chat', name: 'Garden club' });
  await fx.membership.join(BOB, room);
  const first = await fx.send(room, ALICE, 'The quick brown fox');
  await fx.send(room, BOB, 'jumps over the lazy dog');
  const third = await fx.send(room, ALICE, 'Martians and men, quickly');

  await t.test('finds a message, with rank, count and highlights', async () => {
    const res = await fx.search(BOB, { search_term: 'fox' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const re = res.json.search_categories.room_events;
    assert.equal(re.results.length, 1);
    assert.equal(re.results[0].result.event_id, first);
    assert.equal(re.results[0].result.room_id, room);
    assert.equal(re.results[0].result.sender, ALICE);
    assert.ok(re.results[0].rank > 0);
    assert.equal(re.count, 1);
    assert.ok(re.highlights.includes('fox'));
    assert.equal(re.next_batch, undefined);
  });

  await t.test('prefix matching, case and diacritics folding, phrases and exclusion', async () => {
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: 'MARTIAN' })).json), ['Martians and men, quickly']);
    const quick = await fx.search(BOB, { search_term: 'quick', order_by: 'recent' });
    assert.deepEqual(bodies(quick.json), ['Martians and men, quickly', 'The quick brown fox']);
    assert.ok(quick.json.search_categories.room_events.highlights.includes('quickly'));
    await fx.send(room, ALICE, 'Un café crème');
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: 'cafe' })).json), ['Un café crème']);
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: '"brown fox"' })).json), ['The quick brown fox']);
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: '"fox brown"' })).json), []);
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: 'quick -martians' })).json), ['The quick brown fox']);
    // FTS syntax in the term is just text, never an error.
    assert.equal((await fx.search(BOB, { search_term: 'NEAR/2 "( * OR AND' })).status, 200);
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: '   ' })).json), []);
  });

  await t.test('keys: room name and topic are searchable, and keys restrict', async () => {
    const byName = await fx.search(BOB, { search_term: 'garden' });
    const ev = byName.json.search_categories.room_events.results.map((r: any) => r.result);
    assert.equal(ev.length, 1);
    assert.equal(ev[0].type, 'm.room.name');
    await fx.state(room, ALICE, 'm.room.topic', { topic: 'Tomatoes', 'm.topic': { 'm.text': [{ body: 'Tomatoes and zucchini' }] } });
    const topic = await fx.search(BOB, { search_term: 'zucchini' });
    assert.equal(topic.json.search_categories.room_events.results[0].result.type, 'm.room.topic');
    assert.equal((await fx.search(BOB, { search_term: 'garden', keys: ['content.body'] })).json.search_categories.room_events.results.length, 0);
    assert.equal((await fx.search(BOB, { search_term: 'garden', keys: ['content.name'] })).json.search_categories.room_events.results.length, 1);
  });

  await t.test('a user who is not in the room gets nothing', async () => {
    const res = await fx.search(CAROL, { search_term: 'fox' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.search_categories.room_events.results, []);
    assert.equal(res.json.search_categories.room_events.count, 0);
  });

  await t.test('history visibility at the event, and rooms the user left', async () => {
    const priv = await fx.createRoom(ALICE, { preset: 'private_chat' });
    await fx.state(priv, ALICE, 'm.room.history_visibility', { history_visibility: 'joined' });
    await fx.send(priv, ALICE, 'secret before carol');
    await fx.membership.invite(ALICE, priv, CAROL);
    await fx.membership.join(CAROL, priv);
    await fx.send(priv, ALICE, 'secret while carol is here');
    assert.deepEqual(bodies((await fx.search(CAROL, { search_term: 'secret' })).json), ['secret while carol is here']);
    await fx.membership.leave(CAROL, priv);
    await fx.send(priv, ALICE, 'secret after carol left');
    assert.deepEqual(bodies((await fx.search(CAROL, { search_term: 'secret' })).json), ['secret while carol is here']);
    assert.equal(bodies((await fx.search(ALICE, { search_term: 'secret' })).json).length, 3);
    // Bob was never in that room.
    assert.deepEqual(bodies((await fx.search(BOB, { search_term: 'secret' })).json), []);
  });

  await t.test('order_by rank vs recent', async () => {
    const r = await fx.createRoom(ALICE);
    await fx.send(r, ALICE, 'zebra zebra zebra');
    await fx.send(r, ALICE, 'a zebra crossed the long road while many other words went by');
    const rank = bodies((await fx.search(ALICE, { search_term: 'zebra', filter: { rooms: [r] } })).json);
    assert.deepEqual(rank, ['zebra zebra zebra', 'a zebra crossed the long road while many other words went by']);
    const recent = bodies((await fx.search(ALICE, { search_term: 'zebra', order_by: 'recent', filter: { rooms: [r] } })).json);
    assert.deepEqual(recent, ['a zebra crossed the long road while many other words went by', 'zebra zebra zebra']);
  });

  await t.test('pagination with next_batch, in both orders', async () => {
    const r = await fx.createRoom(ALICE);
    for (let i = 1; i <= 5; i++) await fx.send(r, ALICE, `page item ${i}`);
    for (const order_by of ['recent', 'rank']) {
      const criteria = { search_term: 'page', order_by, filter: { rooms: [r], limit: 2 } };
      const seen: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const res = await fx.search(ALICE, criteria, next);
        assert.equal(res.status, 200, JSON.stringify(res.json));
        const re = res.json.search_categories.room_events;
        assert.ok(re.results.length <= 2);
        assert.equal(re.count, 5);
        seen.push(...bodies(res.json));
        next = re.next_batch;
        pages++;
      } while (next !== undefined && pages < 10);
      assert.equal(pages, 3, order_by);
      assert.deepEqual([...seen].sort(), ['page item 1', 'page item 2', 'page item 3', 'page item 4', 'page item 5']);
      if (order_by === 'recent') assert.deepEqual(seen, ['page item 5', 'page item 4', 'page item 3', 'page item 2', 'page item 1']);
    }
    const wrong = await fx.search(ALICE, { search_term: 'page' }, 'not-a-token');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.errcode, 'M_INVALID_PARAM');
  });

  await t.test('event_context with profiles', async () => {
    const res = await fx.search(BOB, {
      search_term: 'lazy',
      event_context: { before_limit: 1, after_limit: 1, include_profile: true },
    });
    const r0 = res.json.search_categories.room_events.results[0];
    assert.equal(r0.result.content.body, 'jumps over the lazy dog');
    assert.deepEqual(
      r0.context.events_before.map((e: any) => e.event_id),
      [first],
    );
    assert.deepEqual(
      r0.context.events_after.map((e: any) => e.event_id),
      [third],
    );
    assert.equal(typeof r0.context.start, 'string');
    assert.equal(typeof r0.context.end, 'string');
    assert.equal(r0.context.profile_info[ALICE].displayname, 'ALICE');
    assert.equal(r0.context.profile_info[BOB].displayname, 'BOB');
    const noProfile = await fx.search(BOB, { search_term: 'lazy', event_context: { before_limit: 0, after_limit: 0 } });
    const c = noProfile.json.search_categories.room_events.results[0].context;
    assert.deepEqual(c.events_before, []);
    assert.deepEqual(c.events_after, []);
    assert.equal(c.profile_info, undefined);
  });

  await t.test('filter by senders and rooms, groups, include_state', async () => {
    const other = await fx.createRoom(BOB);
    await fx.send(other, BOB, 'quick thinking in another room');
    const res = await fx.search(BOB, {
      search_term: 'quick',
      groupings: { group_by: [{ key: 'room_id' }, { key: 'sender' }] },
      include_state: true,
    });
    const re = res.json.search_categories.room_events;
    assert.equal(re.results.length, 3);
    assert.deepEqual(Object.keys(re.groups.room_id).sort(), [room, other].sort());
    assert.equal(re.groups.room_id[other].results.length, 1);
    assert.equal(re.groups.sender[ALICE].results.length, 2);
    assert.ok(re.state[room].some((e: any) => e.type === 'm.room.create'));
    const bySender = await fx.search(BOB, { search_term: 'quick', filter: { senders: [BOB] } });
    assert.deepEqual(bodies(bySender.json), ['quick thinking in another room']);
    const notRoom = await fx.search(BOB, { search_term: 'quick', filter: { not_rooms: [room] } });
    assert.deepEqual(bodies(notRoom.json), ['quick thinking in another room']);
    const types = await fx.search(BOB, { search_term: 'garden', filter: { types: ['m.room.message'] } });
    assert.deepEqual(bodies(types.json), []);
  });

  await t.test('group next_batch pages within the group', async () => {
    const r = await fx.createRoom(ALICE);
    for (let i = 1; i <= 3; i++) await fx.send(r, ALICE, `grouped word ${i}`);
    const criteria = { search_term: 'grouped', order_by: 'recent', filter: { limit: 1 }, groupings: { group_by: [{ key: 'room_id' }] } };
    const res = await fx.search(ALICE, criteria);
    const token = res.json.search_categories.room_events.groups.room_id[r].next_batch;
    assert.equal(typeof token, 'string');
    const next = await fx.search(ALICE, criteria, token);
    assert.deepEqual(bodies(next.json), ['grouped word 2']);
  });

  await t.test('redacted events leave the index; encrypted events are never found', async () => {
    const r = await fx.createRoom(ALICE);
    const id = await fx.send(r, ALICE, 'embarrassing typo');
    assert.equal(bodies((await fx.search(ALICE, { search_term: 'embarrassing' })).json).length, 1);
    await fx.redact(r, ALICE, id);
    assert.deepEqual(bodies((await fx.search(ALICE, { search_term: 'embarrassing' })).json), []);
    const row = fx.db.read((q) => q.get("SELECT COUNT(*) AS n FROM event_search WHERE event_search MATCH 'embarrassing'"));
    assert.equal(Number(row?.n), 0);

    await fx.state(r, ALICE, 'm.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' });
    await fx.send(r, ALICE, '', 'm.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'hidden', body: 'hidden', session_id: 'x', sender_key: 'y', device_id: 'D' });
    assert.deepEqual(bodies((await fx.search(ALICE, { search_term: 'hidden' })).json), []);
  });

  await t.test('bad requests', async () => {
    const token = `tok-${ALICE}`;
    const notJson = await fx.request('POST', '/_matrix/client/v3/search', { token, rawBody: '{nope' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.errcode, 'M_NOT_JSON');
    const missing = await fx.request('POST', '/_matrix/client/v3/search', { token, body: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    const noTerm = await fx.request('POST', '/_matrix/client/v3/search', { token, body: { search_categories: { room_events: {} } } });
    assert.equal(noTerm.status, 400);
    const badOrder = await fx.search(ALICE, { search_term: 'x', order_by: 'newest' });
    assert.equal(badOrder.status, 400);
    assert.equal(badOrder.json.errcode, 'M_BAD_JSON');
    const badKey = await fx.search(ALICE, { search_term: 'x', keys: ['content.url'] });
    assert.equal(badKey.status, 400);
    const badLimit = await fx.search(ALICE, { search_term: 'x', event_context: { before_limit: -1 } });
    assert.equal(badLimit.status, 400);
    const unauth = await fx.request('POST', '/_matrix/client/v3/search', { body: { search_categories: {} } });
    assert.equal(unauth.status, 401);
    const empty = await fx.request('POST', '/_matrix/client/r0/search', { token, body: { search_categories: {} } });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json, { search_categories: {} });
  });
});

test('the search index is journaled: it survives a restart', async (t) => {
  const fx = await startFixture();
  const dataDir = fx.dataDir;
  const room = await fx.createRoom(ALICE);
  await fx.send(room, ALICE, 'persistent pumpkin');
  await fx.close({ keepData: true });
  const again = await startFixture(dataDir);
  t.after(() => again.close());
  assert.deepEqual(bodies((await again.search(ALICE, { search_term: 'pumpkin' })).json), ['persistent pumpkin']);
});

test('migration 0008 indexes the events stored before it', async (t) => {
  const old = mkdtempSync(join(tmpdir(), 'hearth-search-migrations-'));
  t.after(() => rmSync(old, { recursive: true, force: true }));
  // Every migration but the search ones (later ones are needed by the current code that writes
  // the events); 0020 rewrites what 0008 made, so it runs after it.
  for (const f of readdirSync(MIGRATIONS_DIR)) if (![8, 20].includes(Number(f.slice(0, 4)))) copyFileSync(join(MIGRATIONS_DIR, f), join(old, f));
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-search-'));
  mkdirSync(dataDir, { recursive: true });
  const before = await startFixture(dataDir, old);
  const room = await before.createRoom(ALICE, { name: 'Old orchard' });
  await before.send(room, ALICE, 'an old apple');
  const gone = await before.send(room, ALICE, 'an old pear');
  await before.redact(room, ALICE, gone);
  await before.close({ keepData: true });

  const after = await startFixture(dataDir);
  t.after(() => after.close());
  assert.deepEqual(bodies((await after.search(ALICE, { search_term: 'apple' })).json), ['an old apple']);
  assert.deepEqual(bodies((await after.search(ALICE, { search_term: 'pear' })).json), []);
  const name = await after.search(ALICE, { search_term: 'orchard' });
  assert.equal(name.json.search_categories.room_events.results[0].result.type, 'm.room.name');
  await after.send(room, ALICE, 'a new apple');
  assert.equal(bodies((await after.search(ALICE, { search_term: 'apple' })).json).length, 2);
});

// The same flows through the real homeserver (registration, createRoom, send) once homeserver.ts
// mounts search, reporting and spaces; skipped until then.
test('end to end through the homeserver: search, report, hierarchy', async (t) => {
  const hs = await startTestServer({ registration: 'open' });
  t.after(() => hs.close());
  const probe = await hs.request('POST', '/_matrix/client/v3/search', { body: {} });
  const create = await hs.request('POST', '/_matrix/client/v3/createRoom', { body: {} });
  if (probe.json?.errcode === 'M_UNRECOGNIZED' || create.json?.errcode === 'M_UNRECOGNIZED') {
    t.skip('search or createRoom is not mounted in homeserver.ts yet');
    return;
  }
  const alice = await hs.registerUser('alice');
  const bob = await hs.registerUser('bob');
  const room = await hs.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.access_token,
    body: { preset: 'private_chat', name: 'Kitchen', creation_content: { type: 'm.space' } },
  });
  assert.equal(room.status, 200, JSON.stringify(room.json));
  const roomId = room.json.room_id as string;
  const sent = await hs.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
    token: alice.access_token,
    body: { msgtype: 'm.text', body: 'dinner is at seven' },
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.json));
  const criteria = { search_categories: { room_events: { search_term: 'dinner' } } };

  const mine = await hs.request('POST', '/_matrix/client/v3/search', { token: alice.access_token, body: criteria });
  assert.equal(mine.status, 200, JSON.stringify(mine.json));
  assert.deepEqual(
    mine.json.search_categories.room_events.results.map((r: any) => r.result.event_id),
    [sent.json.event_id],
  );
  const theirs = await hs.request('POST', '/_matrix/client/v3/search', { token: bob.access_token, body: criteria });
  assert.deepEqual(theirs.json.search_categories.room_events.results, []);

  const reportPath = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/report/${encodeURIComponent(sent.json.event_id)}`;
  assert.equal((await hs.request('POST', reportPath, { token: bob.access_token, body: { reason: 'x' } })).status, 404);
  assert.equal((await hs.request('POST', reportPath, { token: alice.access_token, body: {} })).status, 200);

  const hierarchyPath = `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/hierarchy`;
  const h = await hs.request('GET', hierarchyPath, { token: alice.access_token });
  assert.equal(h.status, 200, JSON.stringify(h.json));
  assert.equal(h.json.rooms[0].room_id, roomId);
  assert.equal((await hs.request('GET', hierarchyPath, { token: bob.access_token })).json.errcode, 'M_FORBIDDEN');
});
