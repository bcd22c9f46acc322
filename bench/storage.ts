// Storage benchmark: acknowledged (fsync'd) write transactions per second with 1 and 50
// concurrent writers, then checkpoint duration, reopen time and process RSS with 100k and 1M
// Matrix-shaped events stored. Run: node --import tsx bench/storage.ts [--quick] (skips 1M).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqlJsDatabase } from '../server/storage/sqljs/open.ts';
import type { SqlJsDatabase } from '../server/storage/sqljs/database.ts';

const quick = process.argv.includes('--quick');
const WRITE_SECONDS = 3;
const BATCH = 1000;
const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-storage-'));

const rooms = Array.from({ length: 100 }, (_, i) => `!room${i}${randomBytes(6).toString('hex')}:bench.example`);
const senders = Array.from({ length: 50 }, (_, i) => `@user${i}:bench.example`);
let nextOrdering = 1;

/** One row shaped like a stored Matrix event, with ~500 bytes of JSON. */
function makeEvent(): [number, string, string, string, string, number, string] {
  const n = nextOrdering++;
  const eventId = `$${randomBytes(32).toString('base64url')}`;
  const roomId = rooms[n % rooms.length]!;
  const sender = senders[n % senders.length]!;
  const ts = 1_700_000_000_000 + n;
  const json = JSON.stringify({
    auth_events: [`$${randomBytes(32).toString('base64url')}`, `$${randomBytes(32).toString('base64url')}`],
    content: { body: `message ${n} ${'lorem ipsum dolor sit amet '.repeat(5)}`, msgtype: 'm.text' },
    depth: n,
    hashes: { sha256: randomBytes(32).toString('base64') },
    origin_server_ts: ts,
    prev_events: [`$${randomBytes(32).toString('base64url')}`],
    room_id: roomId,
    sender,
    signatures: { 'bench.example': { 'ed25519:a': randomBytes(64).toString('base64').slice(0, 86) } },
    type: 'm.room.message',
  });
  return [n, eventId, roomId, 'm.room.message', sender, ts, json];
}

const INSERT =
  'INSERT INTO events (stream_ordering, event_id, room_id, type, sender, origin_server_ts, json) VALUES (?, ?, ?, ?, ?, ?, ?)';

async function open(): Promise<SqlJsDatabase> {
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  await db.write((w) => {
    w.run(
      'CREATE TABLE IF NOT EXISTS events (stream_ordering BIGINT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, ' +
        'room_id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL, origin_server_ts BIGINT NOT NULL, json TEXT NOT NULL)',
    );
    w.run('CREATE INDEX IF NOT EXISTS events_room ON events (room_id, stream_ordering)');
  });
  return db;
}

async function writeRate(db: SqlJsDatabase, writers: number): Promise<{ perSecond: number; fsyncsPerTx: number }> {
  const before = db.stats().fsyncs;
  const end = performance.now() + WRITE_SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        const event = makeEvent();
        await db.write((w) => w.run(INSERT, event));
        done++;
      }
    }),
  );
  return { perSecond: done / WRITE_SECONDS, fsyncsPerTx: (db.stats().fsyncs - before) / done };
}

async function fillTo(db: SqlJsDatabase, target: number): Promise<number> {
  const started = performance.now();
  const startCount = nextOrdering - 1;
  // A few batches in flight at once, as concurrent federation/backfill writers would be.
  const inFlight: Promise<void>[] = [];
  while (nextOrdering - 1 < target) {
    const batch = Array.from({ length: Math.min(BATCH, target - (nextOrdering - 1)) }, makeEvent);
    inFlight.push(db.write((w) => batch.forEach((e) => w.run(INSERT, e))));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return (nextOrdering - 1 - startCount) / ((performance.now() - started) / 1000);
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function measureAt(db: SqlJsDatabase, label: string): Promise<SqlJsDatabase> {
  const started = performance.now();
  await db.checkpoint();
  const wallMs = performance.now() - started;
  const cp = db.stats().lastCheckpoint!;
  const rss = process.memoryUsage().rss;
  await db.close();
  const reopenStarted = performance.now();
  const reopened = await open();
  const reopenMs = performance.now() - reopenStarted;
  console.log(`\n== ${label} events stored ==`);
  console.log(`  snapshot size            ${mb(cp.bytes)}`);
  console.log(`  checkpoint total         ${fmt(wallMs)} ms   (blocking export part: ${fmt(cp.exportMs)} ms)`);
  console.log(`  reopen (load snapshot)   ${fmt(reopenMs)} ms`);
  console.log(`  process RSS              ${mb(rss)}   (after reopen: ${mb(process.memoryUsage().rss)})`);
  const one = await writeRate(reopened, 1);
  const fifty = await writeRate(reopened, 50);
  console.log(`  writes/s at this size    1 writer: ${fmt(one.perSecond)}   50 writers: ${fmt(fifty.perSecond)}`);
  return reopened;
}

try {
  console.log(`Hearth storage benchmark (sql.js + journal), data folder ${dir}${quick ? ', --quick' : ''}`);
  let db = await open();
  const one = await writeRate(db, 1);
  const fifty = await writeRate(db, 50);
  console.log('\n== acknowledged write transactions (one event each, fsync before ack) ==');
  console.log(`  1 writer     ${fmt(one.perSecond)} tx/s   (${one.fsyncsPerTx.toFixed(2)} fsyncs per tx)`);
  console.log(`  50 writers   ${fmt(fifty.perSecond)} tx/s   (${fifty.fsyncsPerTx.toFixed(2)} fsyncs per tx, group commit)`);

  let rate = await fillTo(db, 100_000);
  console.log(`\n  bulk fill to 100k: ${fmt(rate)} events/s in batches of ${BATCH} (includes automatic checkpoints)`);
  db = await measureAt(db, '100k');
  if (!quick) {
    rate = await fillTo(db, 1_000_000);
    console.log(`\n  bulk fill to 1M: ${fmt(rate)} events/s in batches of ${BATCH} (includes automatic checkpoints)`);
    db = await measureAt(db, '1M');
  }
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
