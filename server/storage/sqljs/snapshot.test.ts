// Checkpoints interrupted at each step: a half-written temp snapshot, a crash after the rename
// but before the old journal was deleted, a crash after the journal rotation but before the
// rename. Reopening must recover every write exactly once.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqlJsDatabase } from './open.ts';
import { snapshotFileName } from './snapshot.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';
import type { SqlJsDatabase } from './database.ts';

async function open(dir: string): Promise<SqlJsDatabase> {
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  await db.write((w) => {
    w.run('CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY)');
    w.run('CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    w.run('INSERT INTO c (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
  });
  return db;
}

/** One key per transaction, plus a counter that would drift if a record were applied twice. */
async function insert(db: SqlJsDatabase, from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from + 1 }, (_, i) =>
      db.write((w) => {
        w.run('INSERT INTO t (k) VALUES (?)', [from + i]);
        w.run('UPDATE c SET n = n + 1 WHERE id = 1');
      }),
    ),
  );
}

async function assertRecovered(dir: string, last: number): Promise<void> {
  const db = await open(dir);
  try {
    const keys = db.read((r) => r.all('SELECT k FROM t ORDER BY k')).map((row) => row['k']);
    assert.deepEqual(keys, Array.from({ length: last }, (_, i) => i + 1));
    assert.equal(db.read((r) => r.get('SELECT n FROM c'))!['n'], last, 'each record applied exactly once');
    assert.equal(db.read((r) => r.get('PRAGMA integrity_check'))!['integrity_check'], 'ok');
    const files = readdirSync(dir);
    assert.ok(!files.some((f) => f.endsWith('.tmp')), `temp snapshot removed: ${files.join()}`);
    assert.ok(files.filter((f) => f.startsWith('snapshot-')).length <= 1, `old snapshots removed: ${files.join()}`);
  } finally {
    await db.close();
  }
}

const journals = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('journal-')).sort();

test('a half-written temp snapshot is ignored and removed', async (t) => {
  const dir = tempDataDir(t, 'snap');
  const db = await open(dir);
  await insert(db, 1, 10);
  const seq = db.stats().lastSeq;
  await db.abandon();
  // Looks like the start of a real snapshot, but was never renamed into place.
  const image = readFileSync(join(dir, journals(dir)[0]!)).subarray(0, 100);
  writeFileSync(join(dir, `${snapshotFileName(seq)}.tmp`), Buffer.concat([Buffer.from('SQLite format 3\0'), image]));
  await assertRecovered(dir, 10);
});

test('crash after the snapshot rename, before the old journal was deleted', async (t) => {
  for (const tornOldJournal of [false, true]) {
    const dir = tempDataDir(t, 'snap');
    const db = await open(dir);
    await insert(db, 1, 10);
    const [oldName] = journals(dir);
    const oldJournal = readFileSync(join(dir, oldName!));
    await db.checkpoint();
    await insert(db, 11, 15);
    await db.abandon();
    assert.ok(!existsSync(join(dir, oldName!)), 'the checkpoint deleted the old journal');
    // Put it back, as if the crash came between the rename and the deletion; its tail may even
    // be torn, since the snapshot made those records durable before their own fsync.
    writeFileSync(join(dir, oldName!), tornOldJournal ? oldJournal.subarray(0, oldJournal.length - 3) : oldJournal);
    await assertRecovered(dir, 15);
    assert.ok(!existsSync(join(dir, oldName!)), 'recovery deleted the covered journal');
  }
});

test('crash after the journal rotation, before the snapshot was renamed into place', async (t) => {
  const dir = tempDataDir(t, 'snap');
  const db = await open(dir);
  await insert(db, 1, 5);
  await db.checkpoint(); // an older snapshot to start from
  const olderPath = join(dir, snapshotFileName(db.stats().snapshotSeq));
  const older = readFileSync(olderPath);
  await insert(db, 6, 10);
  const [oldName] = journals(dir);
  const oldJournal = readFileSync(join(dir, oldName!));
  await db.checkpoint();
  const newSnapshot = db.stats().snapshotSeq;
  await insert(db, 11, 15);
  await db.abandon();
  // Rewind the folder to the moment between rotation and rename: older snapshot and old
  // journal still there, new snapshot only a partial temp file, new journal already in use.
  const snapshotPath = join(dir, snapshotFileName(newSnapshot));
  const image = readFileSync(snapshotPath);
  rmSync(snapshotPath);
  writeFileSync(`${snapshotPath}.tmp`, image.subarray(0, image.length >> 1));
  writeFileSync(join(dir, oldName!), oldJournal);
  writeFileSync(olderPath, older);
  assert.equal(journals(dir).length, 2);
  await assertRecovered(dir, 15);
});

test('crash after the rename, before the previous snapshot was deleted: the newest wins', async (t) => {
  const dir = tempDataDir(t, 'snap');
  const db = await open(dir);
  await insert(db, 1, 5);
  await db.checkpoint();
  const firstPath = join(dir, snapshotFileName(db.stats().snapshotSeq));
  const first = readFileSync(firstPath);
  await insert(db, 6, 10);
  await db.checkpoint();
  await insert(db, 11, 12);
  await db.abandon();
  writeFileSync(firstPath, first);
  await assertRecovered(dir, 12);
  assert.ok(!existsSync(firstPath));
});
