// Migration 0020-search-by-position.sqlite.sql: a search index written in the 0008 layout (FTS4
// rows under event_search_meta ids) is rebuilt under docids derived from the events' stream
// positions, and the store then finds every entry with its event, room, sender and key, drops
// entries whose event is gone, orders backfilled (negative) positions correctly and keeps
// indexing and removing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS_DIR } from '../../paths.ts';
import type { SearchKey, SearchQuery } from '../search.ts';
import type { SqlJsDatabase } from './database.ts';
import { loadMigrations, runMigrations } from './migrations.ts';
import { openSqlJsDatabase } from './open.ts';
import { createSqlJsSearch, deleteSearchEntriesOf } from './search.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';

const ROOM = '!garden:localhost';
const OTHER_ROOM = '!kitchen:localhost';
const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';

interface OldEntry {
  id: number;
  eventId: string;
  roomId: string;
  sender: string;
  type: string;
  position: number;
  key: SearchKey;
  value: string;
  /** False: only in the index (its event was purged without the index noticing). */
  inEvents?: boolean;
}

const OLD_ENTRIES: OldEntry[] = [
  { id: 1, eventId: '$name', roomId: ROOM, sender: ALICE, type: 'm.room.name', position: 3, key: 'content.name', value: 'Tomato garden' },
  { id: 2, eventId: '$topic', roomId: ROOM, sender: ALICE, type: 'm.room.topic', position: 4, key: 'content.topic', value: 'Tomatoes and beans' },
  { id: 3, eventId: '$msg', roomId: ROOM, sender: BOB, type: 'm.room.message', position: 7, key: 'content.body', value: 'the tomatoes are ripe' },
  { id: 4, eventId: '$kitchen', roomId: OTHER_ROOM, sender: BOB, type: 'm.room.message', position: 8, key: 'content.body', value: 'tomato soup tonight' },
  // Backfilled history sits at negative positions.
  { id: 5, eventId: '$old', roomId: ROOM, sender: ALICE, type: 'm.room.message', position: -2, key: 'content.body', value: 'first tomato seedlings' },
  { id: 6, eventId: '$older', roomId: ROOM, sender: BOB, type: 'm.room.message', position: -3, key: 'content.body', value: 'buying tomato seeds' },
  { id: 7, eventId: '$purged', roomId: ROOM, sender: BOB, type: 'm.room.message', position: 9, key: 'content.body', value: 'tomato thief', inEvents: false },
];

function query(overrides: Partial<SearchQuery> = {}): SearchQuery {
  return { terms: { must: [['tomato']], mustNot: [] }, roomIds: [ROOM, OTHER_ROOM], keys: ['content.body', 'content.name', 'content.topic'], order: 'recent', limit: 20, ...overrides };
}

test('migration 0020 moves the search index to stream-position docids', async (t) => {
  const db = await openSqlJsDatabase({ dataDir: tempDataDir(t, 'search-migration'), migrationsDir: null });
  // Closed here, not in t.after: the data folder's own after hook would remove it first.
  try {
    await convertAndSearch(db);
  } finally {
    await db.close();
  }
});

async function convertAndSearch(db: SqlJsDatabase): Promise<void> {
  const migrations = loadMigrations(MIGRATIONS_DIR);
  await runMigrations(db, migrations.filter((m) => m.version < 20), () => 0, () => {});

  await db.write((w) => {
    for (const e of OLD_ENTRIES) {
      if (e.inEvents !== false) {
        w.run(
          `INSERT INTO events (event_id, room_id, stream_pos, depth, type, state_key, sender, origin_server_ts, state_group, json)
           VALUES (?, ?, ?, 1, ?, ?, ?, 1000, 1, '{}')`,
          [e.eventId, e.roomId, e.position, e.type, e.type === 'm.room.message' ? null : '', e.sender],
        );
      }
      w.run(
        'INSERT INTO event_search_meta (id, event_id, room_id, key, type, sender, stream_pos, origin_server_ts) VALUES (?, ?, ?, ?, ?, ?, ?, 1000)',
        [e.id, e.eventId, e.roomId, e.key, e.type, e.sender, e.position],
      );
      w.run('INSERT INTO event_search (docid, value) VALUES (?, ?)', [e.id, e.value]);
    }
  });

  assert.deepEqual(await runMigrations(db, migrations, () => 0, () => {}), migrations.filter((m) => m.version >= 20).map((m) => m.version));
  assert.equal(db.read((r) => r.get("SELECT 1 AS x FROM sqlite_master WHERE name = 'event_search_meta'")), undefined);
  const search = createSqlJsSearch(db);

  // Newest first; the entry without an event is gone.
  const recent = search.search(query());
  assert.deepEqual(
    recent.hits.map((h) => [h.eventId, h.roomId, h.key, h.sender, h.position, h.value]),
    OLD_ENTRIES.filter((e) => e.inEvents !== false)
      .sort((a, b) => b.position - a.position)
      .map((e) => [e.eventId, e.roomId, e.key, e.sender, e.position, e.value]),
  );
  assert.equal(recent.count, 6);

  // Filters on key, room and sender, and the recency cursor across negative positions.
  assert.deepEqual(search.search(query({ keys: ['content.topic'] })).hits.map((h) => h.eventId), ['$topic']);
  assert.deepEqual(search.search(query({ roomIds: [OTHER_ROOM] })).hits.map((h) => h.eventId), ['$kitchen']);
  assert.deepEqual(search.search(query({ senders: [BOB], order: 'rank' })).hits.map((h) => h.eventId).sort(), ['$kitchen', '$msg', '$older']);
  assert.deepEqual(search.search(query({ after: { rank: 0, position: 3 } })).hits.map((h) => h.eventId), ['$old', '$older']);

  // The store keeps working on the converted index: replace, add, remove.
  await search.index([
    { key: 'content.body', position: 7, value: 'the cucumbers are ripe' },
  ]);
  assert.deepEqual(search.search(query({ terms: { must: [['ripe']], mustNot: [] } })).hits.map((h) => h.value), ['the cucumbers are ripe']);
  await search.removeEvent('$old');
  // A room purge removes the room's entries as sqljs/admin.ts does.
  await db.write((w) => deleteSearchEntriesOf(w, 'events.room_id = ?', [OTHER_ROOM]));
  assert.deepEqual(search.search(query()).hits.map((h) => h.eventId), ['$topic', '$name', '$older']);
}
