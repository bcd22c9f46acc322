// Behaviour of the sql.js Database: transactions, durability across reopen, determinism
// guards, migrations, group commit and checkpoints.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqlJsDatabase } from './open.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';
import type { SqlJsDatabase } from './database.ts';

const CREATE_T = 'CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)';

async function openWithTable(dataDir: string, extra: { journalLimitBytes?: number } = {}): Promise<SqlJsDatabase> {
  const db = await openSqlJsDatabase({ dataDir, migrationsDir: null, ...extra });
  await db.write((w) => w.run('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT NOT NULL)'));
  return db;
}

const rowsOf = (db: SqlJsDatabase): Array<[unknown, unknown]> =>
  db.read((r) => r.all('SELECT k, v FROM t ORDER BY k')).map((row) => [row['k'], row['v']]);

test('write then read; write resolves with the callback result after it is durable', async (t) => {
  const db = await openWithTable(tempDataDir(t));
  const result = await db.write((w) => {
    const r = w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', '1']);
    assert.equal(r.changes, 1);
    assert.equal(typeof r.lastInsertRowid, 'number');
    return w.get('SELECT v FROM t WHERE k = ?', ['a'])!['v'];
  });
  assert.equal(result, '1');
  assert.deepEqual(rowsOf(db), [['a', '1']]);
  const s = db.stats();
  assert.equal(s.durableSeq, s.lastSeq);
  await db.close();
});

test('a throwing write rolls back, rejects with the same error and journals nothing', async (t) => {
  const db = await openWithTable(tempDataDir(t));
  const before = db.stats();
  const boom = new Error('boom');
  await assert.rejects(
    db.write((w) => {
      w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', '1']);
      throw boom;
    }),
    (err) => err === boom,
  );
  assert.deepEqual(rowsOf(db), []);
  assert.equal(db.stats().lastSeq, before.lastSeq);
  assert.equal(db.stats().journalBytes, before.journalBytes);
  // A failing statement also rolls the whole transaction back.
  await db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['b', '2']));
  await assert.rejects(
    db.write((w) => {
      w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['c', '3']);
      w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 'duplicate']);
    }),
    /UNIQUE/,
  );
  assert.deepEqual(rowsOf(db), [['b', '2']]);
  await db.close();
});

test('async callbacks, escaped writers, nested writes and writing reads are refused', async (t) => {
  const db = await openWithTable(tempDataDir(t));
  await assert.rejects(
    db.write(async (w) => {
      w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', '1']);
    }),
    /synchronous/,
  );
  assert.deepEqual(rowsOf(db), []);

  let escaped: { run(sql: string, params?: unknown[]): unknown } | null = null;
  await db.write((w) => {
    escaped = w;
  });
  assert.throws(() => escaped!.run('INSERT INTO t (k, v) VALUES (?, ?)', ['x', 'y']), /after its write\(\) callback/);

  let inner: Promise<unknown> | null = null;
  await db.write(() => {
    inner = db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['n', 'n']));
  });
  await assert.rejects(inner!, /nested/);

  assert.throws(() => db.read((r) => r.all("INSERT INTO t (k, v) VALUES ('r', 'r') RETURNING k")), /read\(\) is readonly/);
  assert.throws(() => db.read((r) => r.get('PRAGMA user_version = 7')), /read\(\) is readonly/);
  assert.throws(() => db.read((r) => r.all("WITH x AS (SELECT 1) DELETE FROM t")), /read\(\) is readonly/);
  assert.equal(db.read((r) => r.get('PRAGMA integrity_check'))?.integrity_check, 'ok', 'reporting pragmas may be read');
  await assert.rejects(
    db.write(() => db.read((r) => r.all("INSERT INTO t (k, v) VALUES ('r', 'r') RETURNING k"))),
    /read\(\) is readonly/,
  );
  assert.equal(await db.write(() => db.read((r) => r.all('SELECT k FROM t').length)), 0);
  assert.deepEqual(rowsOf(db), []);
  await db.close();
});

test('clock and random SQL in write transactions is rejected (replay must be deterministic)', async (t) => {
  const db = await openWithTable(tempDataDir(t));
  for (const sql of [
    "INSERT INTO t (k, v) VALUES ('a', datetime('now'))",
    "INSERT INTO t (k, v) VALUES ('a', CURRENT_TIMESTAMP)",
    'INSERT INTO t (k, v) VALUES (hex(randomblob(4)), 1)',
    "INSERT INTO t (k, v) VALUES ('a', random())",
    "INSERT INTO t (k, v) VALUES ('a', unixepoch())",
    "INSERT INTO t (k, v) VALUES ('a', strftime('%s'))",
    'COMMIT',
  ]) {
    await assert.rejects(db.write((w) => w.run(sql)), /deterministic/, sql);
  }
  // Reads may use them: nothing read is journaled, values that get stored are parameters.
  const now = db.read((r) => r.get("SELECT datetime('now') AS now"))!['now'];
  assert.equal(typeof now, 'string');
  assert.deepEqual(rowsOf(db), []);
  await db.close();
});

test('parameters of every type survive journal replay', async (t) => {
  const dir = tempDataDir(t);
  let db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  await db.write((w) => {
    w.run('CREATE TABLE p (id INTEGER PRIMARY KEY, i BIGINT, r REAL, s TEXT, b BLOB, n TEXT, f INTEGER, big BIGINT)');
    w.run('INSERT INTO p (id, i, r, s, b, n, f, big) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      1,
      1_700_000_000_123,
      0.5,
      'snow ☃ "quoted" \\ \n',
      bytes,
      null,
      true,
      9007199254740993n,
    ]);
  });
  await db.abandon(); // no checkpoint: the reopen must replay the journal
  db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  const row = db.read((r) => r.get('SELECT i, r, s, b, n, f, CAST(big AS TEXT) AS big FROM p'))!;
  assert.deepEqual(row, {
    i: 1_700_000_000_123,
    r: 0.5,
    s: 'snow ☃ "quoted" \\ \n',
    b: bytes,
    n: null,
    f: 1,
    big: '9007199254740993',
  });
  await assert.rejects(db.write((w) => w.run('INSERT INTO p (id, i) VALUES (?, ?)', [2, NaN])), /finite/);
  await assert.rejects(db.write((w) => w.run('INSERT INTO p (id, i) VALUES (?, ?)', [2, undefined as never])), /undefined/);
  await db.close();
});

test('data survives close and reopen; close leaves a snapshot and no journal', async (t) => {
  const dir = tempDataDir(t);
  let db = await openWithTable(dir);
  await db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', '1']));
  await db.close();
  const files = readdirSync(dir);
  assert.equal(files.filter((f) => f.startsWith('snapshot-')).length, 1, files.join());
  assert.deepEqual(files.filter((f) => f.startsWith('journal-')), []);
  assert.ok(!files.includes('hearth.lock'), 'close releases the lock');
  db = await openWithTable(dir);
  assert.deepEqual(rowsOf(db), [['a', '1']]);
  await db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['b', '2']));
  await db.abandon();
  db = await openWithTable(dir);
  assert.deepEqual(rowsOf(db), [['a', '1'], ['b', '2']]);
  await db.close();
  await assert.rejects(db.write(() => 1), /closed/);
});

test('migrations run once, in order, and new ones run on the next open', async (t) => {
  const dir = tempDataDir(t);
  const migrations = tempDataDir(t, 'migrations');
  writeFileSync(join(migrations, '0001-first.sql'), `${CREATE_T};\nINSERT INTO t (k, v) VALUES ('m1', 'x');`);
  writeFileSync(
    join(migrations, '0002-second.sql'),
    `-- comment\nCREATE TABLE u (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT 'a;b');\n` +
      `CREATE TRIGGER u_t AFTER INSERT ON u BEGIN INSERT INTO t (k, v) VALUES ('trig' || NEW.id, NEW.note); END;\n` +
      `INSERT INTO u (id) VALUES (1);`,
  );
  writeFileSync(join(migrations, '0003-dialect.sql'), 'SELECT no_such_function();');
  writeFileSync(join(migrations, '0003-dialect.sqlite.sql'), "INSERT INTO t (k, v) VALUES ('sqlite', 'variant');");
  writeFileSync(join(migrations, '0003-dialect.postgres.sql'), 'SELECT no_such_function();');
  writeFileSync(join(migrations, 'README.md'), 'not a migration');
  let times = 1000;
  let db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: migrations, now: () => times++ });
  assert.deepEqual(db.read((r) => r.all('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')), [
    { version: 1, name: 'first', applied_at: 1000 },
    { version: 2, name: 'second', applied_at: 1001 },
    { version: 3, name: 'dialect', applied_at: 1002 },
  ]);
  assert.deepEqual(rowsOf(db), [['m1', 'x'], ['sqlite', 'variant'], ['trig1', 'a;b']]);
  await db.abandon(); // replayed from the journal, then again after a checkpoint
  db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: migrations });
  await db.close();
  writeFileSync(join(migrations, '0004-more.sql'), "INSERT INTO t (k, v) VALUES ('m4', 'y');");
  db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: migrations });
  assert.deepEqual(rowsOf(db), [['m1', 'x'], ['m4', 'y'], ['sqlite', 'variant'], ['trig1', 'a;b']]);
  assert.equal(db.read((r) => r.get('SELECT count(*) AS n FROM schema_migrations'))!['n'], 4);
  await db.close();

  // A failing migration stops the open, applies nothing of itself and releases the lock.
  writeFileSync(join(migrations, '0005-bad.sql'), "INSERT INTO t (k, v) VALUES ('m5', 'z');\nINSERT INTO nowhere VALUES (1);");
  await assert.rejects(openSqlJsDatabase({ dataDir: dir, migrationsDir: migrations }), /0005-bad\.sql.*no such table/);
  writeFileSync(join(migrations, '0005-bad.sql'), "INSERT INTO t (k, v) VALUES ('m5', datetime('now'));");
  await assert.rejects(openSqlJsDatabase({ dataDir: dir, migrationsDir: migrations }), /deterministic/);
  db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  assert.equal(db.read((r) => r.get("SELECT count(*) AS n FROM t WHERE k = 'm5'"))!['n'], 0);
  await db.close();
});

test('the built-in migrations create kv_settings', async (t) => {
  const db = await openSqlJsDatabase({ dataDir: tempDataDir(t) });
  await db.write((w) => w.run('INSERT INTO kv_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['a', '1']));
  assert.equal(db.read((r) => r.get('SELECT value FROM kv_settings WHERE key = ?', ['a']))!['value'], '1');
  assert.ok((db.read((r) => r.get('SELECT count(*) AS n FROM schema_migrations'))!['n'] as number) >= 1);
  await db.close();
});

test('group commit: 50 concurrent writes share fsyncs and all resolve', async (t) => {
  const db = await openWithTable(tempDataDir(t));
  const before = db.stats().fsyncs;
  const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  const results = await Promise.all(keys.map((k) => db.write((w) => (w.run('INSERT INTO t (k, v) VALUES (?, ?)', [k, k]), k))));
  assert.deepEqual(results, keys);
  const used = db.stats().fsyncs - before;
  assert.ok(used < 50 && used <= 2, `50 writes used ${used} fsyncs`);

  // Writes arriving while an fsync is in flight are batched into the next one.
  const mid = db.stats().fsyncs;
  const staggered: Promise<unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    staggered.push(db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', [`s${i}`, 'v'])));
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(staggered);
  assert.ok(db.stats().fsyncs - mid < 50, `staggered writes used ${db.stats().fsyncs - mid} fsyncs`);
  assert.equal(db.stats().durableSeq, db.stats().lastSeq);
  await db.close();
});

test('automatic checkpoints keep the journal bounded and lose nothing written meanwhile', async (t) => {
  const dir = tempDataDir(t);
  let db = await openWithTable(dir, { journalLimitBytes: 4096 });
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 400; i++) {
    pending.push(db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', [`k${String(i).padStart(3, '0')}`, 'x'.repeat(100)])));
    if (i === 200) pending.push(db.checkpoint()); // an explicit one racing the automatic ones
    if (i % 20 === 19) await Promise.all(pending);
  }
  await Promise.all(pending);
  await db.checkpoint(); // queues behind any automatic one still writing
  const s = db.stats();
  assert.ok(s.checkpoints >= 3, `expected several checkpoints, got ${s.checkpoints}`);
  assert.ok(s.snapshotSeq > 0);
  const files = readdirSync(dir);
  assert.equal(files.filter((f) => f.startsWith('snapshot-')).length, 1, files.join());
  await db.abandon();
  db = await openWithTable(dir);
  assert.equal(db.read((r) => r.get('SELECT count(*) AS n FROM t'))!['n'], 400);
  await db.close();
});

test('stats count journal bytes, sequence numbers and checkpoints', async (t) => {
  const dir = tempDataDir(t);
  const db = await openWithTable(dir);
  const s0 = db.stats();
  await db.write((w) => w.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', '1']));
  const s1 = db.stats();
  assert.equal(s1.lastSeq, s0.lastSeq + 1);
  assert.ok(s1.journalBytes > s0.journalBytes);
  await db.checkpoint();
  const s2 = db.stats();
  assert.equal(s2.journalBytes, 0);
  assert.equal(s2.snapshotSeq, s1.lastSeq);
  assert.equal(s2.checkpoints, 1);
  assert.ok(s2.lastCheckpoint && s2.lastCheckpoint.bytes > 0);
  // A read-only write() has nothing to journal.
  assert.equal(await db.write((w) => w.get('SELECT v FROM t')!['v']), '1');
  assert.equal(db.stats().lastSeq, s1.lastSeq);
  await db.close();
  assert.ok(!existsSync(join(dir, 'hearth.lock')));
});
