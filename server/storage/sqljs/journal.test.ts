// Journal framing and torn-tail recovery: a frame cut or corrupted anywhere is dropped with
// everything after it, every earlier record is kept, and writing continues after reopen.
import { cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, crc32PortableForTests, encodeRecord, journalFileName, scanJournal, type ScannedRecord } from './journal.ts';
import { openSqlJsDatabase } from './open.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';
import type { SqlJsDatabase } from './database.ts';

test('crc32 matches the IEEE check value (native and portable)', () => {
  for (const f of [crc32, crc32PortableForTests]) {
    assert.equal(f(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(f(Buffer.from('56789'), f(Buffer.from('1234'))), 0xcbf43926);
  }
});

test('frames round-trip every parameter type', () => {
  const statements: Array<[string, Array<number | string | Uint8Array | bigint | null>]> = [
    ['INSERT INTO a VALUES (?, ?, ?, ?, ?)', [1, 'two ☃', new Uint8Array([3, 0, 255]), 2n ** 63n - 1n, null]],
    ['DELETE FROM a', []],
  ];
  const buf = Buffer.concat([encodeRecord({ seq: 7, statements }), encodeRecord({ seq: 8, statements: [] })]);
  const scan = scanJournal(buf);
  assert.equal(scan.corrupt, null);
  assert.equal(scan.validBytes, buf.length);
  assert.deepEqual(
    scan.records.map(({ seq, statements: s }) => ({ seq, statements: s })),
    [
      { seq: 7, statements },
      { seq: 8, statements: [] },
    ],
  );
});

/** A data folder whose journal holds: create table, then inserts of keys 1..5, one record each. */
async function journalTemplate(t: { after(fn: () => void): void }): Promise<{ dir: string; file: string; records: ScannedRecord[] }> {
  const dir = tempDataDir(t, 'journal-template');
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  await db.write((w) => w.run('CREATE TABLE t (k INTEGER PRIMARY KEY)'));
  for (let k = 1; k <= 5; k++) await db.write((w) => w.run('INSERT INTO t (k) VALUES (?)', [k]));
  await db.abandon();
  const journals = readdirSync(dir).filter((f) => f.startsWith('journal-'));
  assert.equal(journals.length, 1);
  const file = join(dir, journals[0]!);
  const { records, corrupt } = scanJournal(readFileSync(file));
  assert.equal(corrupt, null);
  assert.equal(records.length, 6);
  return { dir, file, records };
}

const keys = (db: SqlJsDatabase): unknown[] =>
  db.read((r) => r.all('SELECT k FROM t ORDER BY k')).map((row) => row['k']);

test('a torn or corrupt last record is dropped, earlier ones kept, and writing goes on', async (t) => {
  const template = await journalTemplate(t);
  const last = template.records[template.records.length - 1]!;
  const damages: Array<[string, (file: string) => void]> = [];
  for (const cut of [1, 3, 4, 7, 8, 9, Math.floor((last.end - last.offset) / 2), last.end - last.offset - 1]) {
    damages.push([`cut ${cut} bytes into the frame`, (file) => truncateSync(file, last.offset + cut)]);
  }
  const flip = (at: number) => (file: string) => {
    const buf = readFileSync(file);
    buf[at] = buf[at]! ^ 0x5a;
    writeFileSync(file, buf);
  };
  damages.push(['checksum byte corrupted', flip(last.offset + 5)]);
  damages.push(['payload byte corrupted', flip(last.offset + 20)]);
  damages.push(['length byte corrupted', flip(last.offset + 3)]);
  damages.push(['zeros appended', (file) => writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(64)]))]);

  for (const [label, damage] of damages) {
    const dir = tempDataDir(t, 'journal-torn');
    cpSync(template.dir, dir, { recursive: true });
    const file = join(dir, template.file.slice(template.dir.length + 1));
    damage(file);
    const logs: string[] = [];
    let db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null, onLog: (_l, m) => logs.push(m) });
    const expectKeys = label === 'zeros appended' ? [1, 2, 3, 4, 5] : [1, 2, 3, 4];
    assert.deepEqual(keys(db), expectKeys, label);
    assert.equal(db.stats().lastSeq, expectKeys.length + 1, label);
    assert.ok(logs.includes('dropped torn journal tail'), `${label}: ${logs.join('; ')}`);
    assert.equal(statSync(file).size, label === 'zeros appended' ? last.end : last.offset, `${label}: truncated to the valid prefix`);
    await db.write((w) => w.run('INSERT INTO t (k) VALUES (?)', [6]));
    await db.abandon();
    db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
    assert.deepEqual(keys(db), [...expectKeys, 6], label);
    assert.equal(db.read((r) => r.get('PRAGMA integrity_check'))!['integrity_check'], 'ok');
    await db.close();
  }
});

test('journal files after a corrupt one are moved aside, never replayed', async (t) => {
  const template = await journalTemplate(t);
  const last = template.records[template.records.length - 1]!;
  truncateSync(template.file, last.end - 2);
  const laterName = journalFileName(last.seq + 1);
  const laterFrame = encodeRecord({ seq: last.seq + 1, statements: [['INSERT INTO t (k) VALUES (?)', [99]]] });
  writeFileSync(join(template.dir, laterName), laterFrame);
  const db = await openSqlJsDatabase({ dataDir: template.dir, migrationsDir: null });
  assert.deepEqual(keys(db), [1, 2, 3, 4]);
  assert.ok(existsSync(join(template.dir, `${laterName}.dropped`)));
  assert.ok(!existsSync(join(template.dir, laterName)));
  await db.close();
});

test('a gap in the sequence is reported as damage, not silently skipped', async (t) => {
  const template = await journalTemplate(t);
  const last = template.records[template.records.length - 1]!;
  const gapName = journalFileName(last.seq + 2);
  writeFileSync(join(template.dir, gapName), encodeRecord({ seq: last.seq + 2, statements: [] }));
  await assert.rejects(openSqlJsDatabase({ dataDir: template.dir, migrationsDir: null }), /jumps from seq 6 to 8.*damaged/);
  // The failed open released the lock: after removing the bad file the folder opens.
  truncateSync(join(template.dir, gapName), 0);
  const db = await openSqlJsDatabase({ dataDir: template.dir, migrationsDir: null });
  assert.deepEqual(keys(db), [1, 2, 3, 4, 5]);
  await db.close();
});
