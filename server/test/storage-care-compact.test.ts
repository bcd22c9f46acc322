/**
 * Database compaction (Database.compact(): VACUUM between two transactions, then a checkpoint of
 * the vacuumed image) on the real sql.js engine: the space of deleted rows leaves the snapshot
 * file, and the data survives a clean reopen, a crash right after (journal replayed on the
 * vacuumed snapshot), and writes made while the snapshot is being written.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import type { SqlJsDatabase } from '../storage/sqljs/database.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openFresh(): Promise<{ dir: string; db: SqlJsDatabase }> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-compact-'));
  dirs.push(dir);
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  // A table with an implicit rowid and an index: the kind VACUUM may renumber.
  await db.write((w) => {
    w.run('CREATE TABLE notes (name TEXT NOT NULL, body TEXT NOT NULL)');
    w.run('CREATE INDEX notes_name ON notes (name)');
  });
  return { dir, db };
}

const reopen = (dir: string): Promise<SqlJsDatabase> => openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
const snapshotBytes = (dir: string): number =>
  readdirSync(dir).filter((n) => n.startsWith('snapshot-') && n.endsWith('.sqlite')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const names = (db: SqlJsDatabase): string[] => db.read((r) => r.all('SELECT name FROM notes ORDER BY name').map((row) => String(row.name)));

async function fillAndDelete(db: SqlJsDatabase): Promise<void> {
  const body = 'x'.repeat(2000);
  await db.write((w) => {
    for (let i = 0; i < 1000; i++) w.run('INSERT INTO notes (name, body) VALUES (?, ?)', [`n${String(i).padStart(4, '0')}`, body]);
  });
  // Keep every 100th row: the rest leaves free pages scattered through the file.
  await db.write((w) => w.run("DELETE FROM notes WHERE CAST(substr(name, 2) AS INTEGER) % 100 <> 0"));
  await db.checkpoint();
}

describe('Database.compact()', () => {
  it('gives the space of deleted rows back and keeps the data across a reopen', async () => {
    const { dir, db } = await openFresh();
    await fillAndDelete(db);
    const before = snapshotBytes(dir);
    const result = await db.compact();
    assert.ok(result.bytesBefore >= before * 0.9, `image before ${result.bytesBefore}, snapshot ${before}`);
    assert.ok(result.bytesAfter < result.bytesBefore / 5, `compacted ${result.bytesBefore} → ${result.bytesAfter}`);
    assert.equal(snapshotBytes(dir), result.bytesAfter);
    assert.equal(db.stats().journalBytes, 0);
    await db.write((w) => w.run('INSERT INTO notes (name, body) VALUES (?, ?)', ['after', 'written after the compaction']));
    await db.close();

    const again = await reopen(dir);
    const expected = [...Array.from({ length: 10 }, (_, i) => `n${String(i * 100).padStart(4, '0')}`), 'after'].sort();
    assert.deepEqual(names(again), expected);
    assert.equal(again.read((r) => r.get('PRAGMA integrity_check')?.integrity_check), 'ok');
    await again.close();
  });

  it('recovers after a crash: the journal written after a compaction replays on the vacuumed snapshot', async () => {
    const { dir, db } = await openFresh();
    await fillAndDelete(db);
    await db.compact();
    // Rows after the compaction, including updates and deletes that find rows by content.
    await db.write((w) => w.run('INSERT INTO notes (name, body) VALUES (?, ?)', ['late', 'one']));
    await db.write((w) => w.run("UPDATE notes SET body = 'changed' WHERE name = 'n0100'"));
    await db.write((w) => w.run("DELETE FROM notes WHERE name = 'n0200'"));
    const expected = names(db);
    await db.abandon();

    const again = await reopen(dir);
    assert.deepEqual(names(again), expected);
    assert.equal(again.read((r) => r.get("SELECT body FROM notes WHERE name = 'n0100'")?.body), 'changed');
    await again.close();
  });

  it('keeps writes acknowledged while the vacuumed snapshot is being written', async () => {
    const { dir, db } = await openFresh();
    await fillAndDelete(db);
    const compacting = db.compact();
    // These run after the synchronous VACUUM + export and land in the new journal file.
    const writes = Array.from({ length: 20 }, (_, i) => db.write((w) => w.run('INSERT INTO notes (name, body) VALUES (?, ?)', [`during${i}`, 'b'])));
    await Promise.all([compacting, ...writes]);
    const expected = names(db);
    assert.equal(expected.filter((n) => n.startsWith('during')).length, 20);
    await db.abandon();

    const again = await reopen(dir);
    assert.deepEqual(names(again), expected);
    await again.close();
  });
});
