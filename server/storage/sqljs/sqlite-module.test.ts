// The in-memory SQLite driver (sqlite-module.ts): values of every type through the one shared
// scratch buffer, bindings cleared by reset(), interleaved statements, wasm memory growth,
// script splitting, errors, changes(), export/import of images (other page sizes, corrupt
// ones), independent databases, finalize/close, and Connection's refresh of cached column names
// after a schema change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection } from './connection.ts';
import { loadSqliteModule, openMemoryDatabase, type MemoryDatabase, type SqliteParam, type SqliteValue } from './sqlite-module.ts';

const sqlite = await loadSqliteModule();

function fresh(t: { after(fn: () => void): void }): MemoryDatabase {
  const db = openMemoryDatabase(sqlite);
  t.after(() => db.close());
  return db;
}

/** Every row of one statement, run once and finalized. */
function all(db: MemoryDatabase, sql: string, params: readonly SqliteParam[] = []): SqliteValue[][] {
  const stmt = db.prepare(sql);
  try {
    if (params.length > 0) stmt.bind(params);
    const rows: SqliteValue[][] = [];
    while (stmt.step()) rows.push(stmt.row());
    return rows;
  } finally {
    stmt.finalize();
  }
}

function one(db: MemoryDatabase, sql: string, params: readonly SqliteParam[] = []): SqliteValue[] {
  const rows = all(db, sql, params);
  assert.equal(rows.length, 1, `one row from ${sql}`);
  return rows[0]!;
}

/** A database opened now answers a query: what went before left the shared module working. */
function assertNewDatabaseWorks(): void {
  const db = openMemoryDatabase(sqlite);
  assert.deepEqual(one(db, 'SELECT 1'), [1]);
  db.close();
}

const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex').toUpperCase();
const isPlainUint8Array = (x: unknown): boolean => x instanceof Uint8Array && Object.getPrototypeOf(x) === Uint8Array.prototype;

test('loadSqliteModule: one shared module, with the wasm memory captured', async () => {
  const again = await loadSqliteModule();
  assert.equal(again, sqlite);
  assert.ok(sqlite.memory instanceof WebAssembly.Memory);
  assert.ok(sqlite.memory.buffer.byteLength > 0);
});

test('round trip: int32 values and negative integers', (t) => {
  const db = fresh(t);
  for (const v of [0, 1, -1, 42, -42, 2147483647, -2147483648]) {
    const [back, type] = one(db, 'SELECT ?, typeof(?)', [v, v]);
    assert.equal(back, v);
    assert.equal(type, 'integer');
  }
});

test('round trip: integers beyond int32 (bound as doubles) read back exactly', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE n (i INTEGER)');
  const values = [1_700_000_000_123, -1_700_000_000_123, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  const ins = db.prepare('INSERT INTO n (i) VALUES (?)');
  for (const v of values) {
    ins.bind([v]);
    ins.step();
    ins.reset();
  }
  ins.finalize();
  const rows = all(db, 'SELECT i, typeof(i), CAST(i AS TEXT) FROM n ORDER BY rowid');
  assert.deepEqual(
    rows,
    values.map((v) => [v, 'integer', String(v)]),
  );
  // Outside an INTEGER column such a parameter stays what it was bound as: a REAL.
  const [back, type] = one(db, 'SELECT ?, typeof(?)', [1_700_000_000_123, 1_700_000_000_123]);
  assert.equal(back, 1_700_000_000_123);
  assert.equal(type, 'real');
});

test('round trip: fractions, extremes and -0', (t) => {
  const db = fresh(t);
  for (const v of [0.5, -0.25, 1 / 3, 1e300, -1e-300, Number.MIN_VALUE, Number.MAX_VALUE, 123456.789]) {
    const [back, type] = one(db, 'SELECT ?, typeof(?)', [v, v]);
    assert.equal(back, v);
    assert.equal(type, 'real');
  }
  // -0 passes the int32 test ((-0 | 0) === -0), so it binds as the integer 0: the sign is lost.
  const [zero, type] = one(db, 'SELECT ?, typeof(?)', [-0, -0]);
  assert.ok(zero === 0);
  assert.equal(type, 'integer');
});

test('round trip: multi-byte UTF-8 text (emoji, ☃, CJK)', (t) => {
  const db = fresh(t);
  for (const s of ['☃', '😀', '👨‍👩‍👧‍👦', '日本語のテキスト', '한국어', 'mixed ascii ☃ 😀 中文 é', 'ü'.repeat(1000)]) {
    const [back, hex, type] = one(db, 'SELECT ?, hex(?), typeof(?)', [s, s, s]);
    assert.equal(back, s);
    assert.equal(hex, hexOf(s), 'stored as exact UTF-8');
    assert.equal(type, 'text');
  }
  db.exec('CREATE TABLE s (v TEXT)');
  const s = '☃😀中';
  all(db, 'INSERT INTO s VALUES (?)', [s]);
  assert.deepEqual(all(db, 'SELECT v, length(v) FROM s'), [[s, 3]]);
});

test('round trip: the empty string is text, not NULL', (t) => {
  const db = fresh(t);
  assert.deepEqual(one(db, "SELECT ?, typeof(?), length(?), ? = ''", ['', '', '', '']), ['', 'text', 0, 1]);
});

test('round trip: a string containing NUL comes back whole', (t) => {
  const db = fresh(t);
  const s = 'a\u0000b';
  assert.deepEqual(one(db, 'SELECT ?, hex(?)', [s, s]), [s, '610062']);
  db.exec('CREATE TABLE s (v TEXT)');
  all(db, 'INSERT INTO s VALUES (?)', ['\u0000start']);
  all(db, 'INSERT INTO s VALUES (?)', ['mid\u0000dle ☃\u0000']);
  assert.deepEqual(all(db, 'SELECT v FROM s ORDER BY rowid'), [['\u0000start'], ['mid\u0000dle ☃\u0000']]);
});

test('round trip: very long strings grow the scratch buffer, several in one statement', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE big (a TEXT, b TEXT, c TEXT, d TEXT)');
  const a = 'a'.repeat(1 << 20);
  const b = '☃'.repeat(300_000);
  const c = '😀'.repeat(200_000) + 'tail';
  const d = 'short';
  all(db, 'INSERT INTO big VALUES (?, ?, ?, ?)', [a, b, c, d]);
  // A short parameter after the big ones, and a second long row with a different layout.
  all(db, 'INSERT INTO big VALUES (?, ?, ?, ?)', [d, c, a, b]);
  const rows = all(db, 'SELECT a, b, c, d FROM big ORDER BY rowid');
  assert.equal(rows.length, 2);
  assert.ok(rows[0]![0] === a && rows[0]![1] === b && rows[0]![2] === c && rows[0]![3] === d);
  assert.ok(rows[1]![0] === d && rows[1]![1] === c && rows[1]![2] === a && rows[1]![3] === b);
  assert.deepEqual(one(db, 'SELECT length(a), length(b), length(c) FROM big WHERE rowid = 1'), [1 << 20, 300_000, 200_004]);
  // And a 1 MB comparison parameter, after the buffer has grown.
  assert.deepEqual(one(db, 'SELECT count(*) FROM big WHERE a = ? OR c = ?', [a, a]), [2]);
});

test('bigint binds as text: exact digits in a BIGINT column', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE b (v BIGINT)');
  const values = [9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, 0n, 5n];
  for (const v of values) all(db, 'INSERT INTO b VALUES (?)', [v]);
  assert.deepEqual(
    all(db, 'SELECT CAST(v AS TEXT), typeof(v) FROM b ORDER BY rowid'),
    values.map((v) => [v.toString(), 'integer']),
  );
  // Read back as a number, an integer beyond 2^53 is only as exact as a double.
  assert.deepEqual(one(db, 'SELECT v FROM b WHERE rowid = 1'), [9007199254740992]);
  // Compared with an INTEGER column, the text parameter is converted: exact lookups work.
  assert.deepEqual(one(db, 'SELECT count(*) FROM b WHERE v = ?', [9007199254740993n]), [1]);
  // Without a column's affinity it is just text.
  assert.deepEqual(one(db, 'SELECT ?, typeof(?)', [12n, 12n]), ['12', 'text']);
});

test('a bigint of any length is sized in full in the scratch buffer', (t) => {
  const db = fresh(t);
  const N = 20000;
  // A long text first, so the bigint is written at the end of the reserved space.
  assert.deepEqual(one(db, 'SELECT length(?), length(?)', ['\u2603'.repeat(N - 10), 10n ** 200n]), [N - 10, 201]);
  assert.deepEqual(one(db, 'SELECT ?, length(?)', [10n ** 300n, 'x'.repeat(5000)]), ['1' + '0'.repeat(300), 5000]);
});

test('blobs: every byte value round trips as a plain Uint8Array (also from a Buffer)', (t) => {
  const db = fresh(t);
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const [back, type, length] = one(db, 'SELECT ?, typeof(?), length(?)', [bytes, bytes, bytes]);
  assert.ok(isPlainUint8Array(back));
  assert.deepEqual(back, bytes);
  assert.equal(type, 'blob');
  assert.equal(length, 256);
  const [fromBuffer] = one(db, 'SELECT ?', [Buffer.from('buffer ☃')]);
  assert.ok(isPlainUint8Array(fromBuffer), 'a Buffer parameter comes back as a plain Uint8Array');
  assert.equal(Buffer.from(fromBuffer as Uint8Array).toString(), 'buffer ☃');
  // A big blob, and a blob's bytes are a copy: not a view of the wasm memory.
  const large = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 31) & 255);
  const [largeBack] = one(db, 'SELECT ?', [large]);
  assert.ok(isPlainUint8Array(largeBack));
  assert.notEqual((largeBack as Uint8Array).buffer, sqlite.memory.buffer);
  assert.ok(Buffer.from(largeBack as Uint8Array).equals(large));
});

test('blobs: a zero-length blob comes back as an empty Uint8Array, not NULL', (t) => {
  const db = fresh(t);
  const [back, type, isNull] = one(db, 'SELECT ?, typeof(?), ? IS NULL', [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]);
  assert.equal(typeof back, 'object');
  assert.notEqual(back, null);
  assert.ok(isPlainUint8Array(back));
  assert.equal((back as Uint8Array).length, 0);
  assert.equal(type, 'blob');
  assert.equal(isNull, 0);
  db.exec('CREATE TABLE b (v BLOB NOT NULL)');
  all(db, 'INSERT INTO b VALUES (?)', [new Uint8Array(0)]);
  const [stored, storedType] = one(db, 'SELECT v, typeof(v) FROM b');
  assert.ok(isPlainUint8Array(stored));
  assert.equal((stored as Uint8Array).length, 0);
  assert.equal(storedType, 'blob');
});

test('null binds as NULL', (t) => {
  const db = fresh(t);
  assert.deepEqual(one(db, 'SELECT ?, typeof(?), ? IS NULL', [null, null, null]), [null, 'null', 1]);
  db.exec('CREATE TABLE n (v TEXT NOT NULL)');
  assert.throws(() => all(db, 'INSERT INTO n VALUES (?)', [null]), /NOT NULL constraint failed: n\.v/);
});

test('every type in one statement, mixed with long parameters', (t) => {
  const db = fresh(t);
  const long = '☃'.repeat(50_000);
  const params: SqliteParam[] = [1, -2.5, 'x', long, new Uint8Array([1, 2, 3]), null, 3n, '', new Uint8Array(0), long + '!'];
  const row = one(db, `SELECT ${params.map(() => '?').join(', ')}`, params);
  assert.deepEqual(row, [1, -2.5, 'x', long, new Uint8Array([1, 2, 3]), null, '3', '', new Uint8Array(0), long + '!']);
});

test('reset() clears bindings: a re-run with fewer parameters gets NULL for the rest', (t) => {
  const db = fresh(t);
  const stmt = db.prepare('SELECT ?, ?, ?');
  t.after(() => stmt.finalize());
  stmt.bind([1, 'two', new Uint8Array([3])]);
  assert.equal(stmt.step(), true);
  assert.deepEqual(stmt.row(), [1, 'two', new Uint8Array([3])]);
  stmt.reset();
  stmt.bind(['x']);
  assert.equal(stmt.step(), true);
  assert.deepEqual(stmt.row(), ['x', null, null]);
  stmt.reset();
  // Not bound at all this time: nothing from before is left.
  assert.equal(stmt.step(), true);
  assert.deepEqual(stmt.row(), [null, null, null]);
  stmt.reset();
});

test('reset() clears bindings: an INSERT re-run unbound stores NULLs, not the previous values', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE t (a, b)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
  t.after(() => ins.finalize());
  ins.bind(['first ☃', new Uint8Array([9, 9])]);
  assert.equal(ins.step(), false);
  ins.reset();
  // Another statement reuses the scratch buffer in between.
  assert.deepEqual(one(db, 'SELECT ?', ['overwrites the scratch buffer']), ['overwrites the scratch buffer']);
  assert.equal(ins.step(), false);
  ins.reset();
  ins.bind([7]);
  assert.equal(ins.step(), false);
  ins.reset();
  assert.deepEqual(all(db, 'SELECT a, b FROM t ORDER BY rowid'), [
    ['first ☃', new Uint8Array([9, 9])],
    [null, null],
    [7, null],
  ]);
});

test('a bind that fails part-way is cleared by reset()', (t) => {
  const db = fresh(t);
  const stmt = db.prepare('SELECT ?, ?');
  t.after(() => stmt.finalize());
  assert.throws(() => stmt.bind(['a', 'b', 'c']), /column index out of range/);
  stmt.reset();
  assert.equal(stmt.step(), true);
  assert.deepEqual(stmt.row(), [null, null]);
  stmt.reset();
  stmt.bind(['ok', 2]);
  assert.equal(stmt.step(), true);
  assert.deepEqual(stmt.row(), ['ok', 2]);
  stmt.reset();
});

test('interleaved statements sharing the scratch buffer never corrupt each other (1000 rows)', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT, b BLOB); CREATE TABLE b (k INTEGER PRIMARY KEY, v TEXT, n REAL)');
  const insA = db.prepare('INSERT INTO a (k, v, b) VALUES (?, ?, ?)');
  const insB = db.prepare('INSERT INTO b (k, v, n) VALUES (?, ?, ?)');
  const get = db.prepare('SELECT v FROM a WHERE k = ?');
  t.after(() => {
    insA.finalize();
    insB.finalize();
    get.finalize();
  });
  // Lengths vary (some long enough to make the buffer grow mid-way) so that values land at
  // different offsets of the shared buffer each time.
  const textA = (i: number): string => `a${i}:` + '☃'.repeat(i % 7 === 0 ? 5000 + i * 10 : i % 13);
  const textB = (i: number): string => `b${i}:` + '😀'.repeat(i % 11) + 'x'.repeat(i % 5 === 0 ? 20_000 + i : 0);
  const blobA = (i: number): Uint8Array => Uint8Array.from({ length: i % 17 }, (_, j) => (i + j) & 255);
  for (let i = 0; i < 500; i++) {
    insA.bind([i, textA(i), blobA(i)]);
    insA.step();
    insA.reset();
    insB.bind([i, textB(i), i + 0.5]);
    insB.step();
    insB.reset();
    if (i % 50 === 0) {
      // A fresh prepare (its SQL goes through the same buffer) and a lookup, in between.
      const padded = `SELECT v FROM b WHERE k = ? /* ${'pad '.repeat(i * 20)} */`;
      assert.deepEqual(one(db, padded, [i]), [textB(i)]);
      get.bind([i]);
      assert.equal(get.step(), true);
      assert.deepEqual(get.row(), [textA(i)]);
      get.reset();
    }
  }
  const rowsA = all(db, 'SELECT k, v, b FROM a ORDER BY k');
  const rowsB = all(db, 'SELECT k, v, n FROM b ORDER BY k');
  assert.equal(rowsA.length + rowsB.length, 1000);
  for (let i = 0; i < 500; i++) {
    assert.deepEqual(rowsA[i], [i, textA(i), blobA(i)]);
    assert.deepEqual(rowsB[i], [i, textB(i), i + 0.5]);
  }
});

test('wasm memory growth: rows written before it read back correctly, even mid-iteration', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE early (k INTEGER PRIMARY KEY, v TEXT, b BLOB); CREATE TABLE bulk (v TEXT)');
  const early = (i: number): string => `early ${i} ☃ ` + String.fromCharCode(0x4e00 + i).repeat(100 + i);
  const blob = (i: number): Uint8Array => Uint8Array.from({ length: 200 }, (_, j) => (i * 7 + j) & 255);
  for (let i = 0; i < 100; i++) all(db, 'INSERT INTO early VALUES (?, ?, ?)', [i, early(i), blob(i)]);

  const cursor = db.prepare('SELECT k, v, b FROM early ORDER BY k');
  const ins = db.prepare('INSERT INTO bulk (v) VALUES (?)');
  t.after(() => {
    cursor.finalize();
    ins.finalize();
  });
  const startBytes = sqlite.memory.buffer.byteLength;
  const chunk = 'g'.repeat(2 << 20);
  let written = 0;
  let k = 0;
  // Read the early rows one at a time while inserting 2 MB rows until the memory has grown and
  // at least 32 MB were written; capped so that a non-growing memory cannot loop forever.
  while ((sqlite.memory.buffer.byteLength === startBytes || written < 32 << 20) && written < 512 << 20) {
    if (k < 100) {
      assert.equal(cursor.step(), true);
      assert.deepEqual(cursor.row(), [k, early(k), blob(k)]);
      k++;
    }
    ins.bind([chunk + written]);
    ins.step();
    ins.reset();
    written += chunk.length;
  }
  assert.ok(sqlite.memory.buffer.byteLength > startBytes, 'the wasm memory grew');
  for (; k < 100; k++) {
    assert.equal(cursor.step(), true);
    assert.deepEqual(cursor.row(), [k, early(k), blob(k)]);
  }
  assert.equal(cursor.step(), false);
  cursor.reset();
  // Again from the start, after the growth.
  const rows = all(db, 'SELECT k, v, b FROM early ORDER BY k');
  assert.deepEqual(
    rows,
    Array.from({ length: 100 }, (_, i) => [i, early(i), blob(i)]),
  );
  assert.deepEqual(one(db, 'SELECT count(*), min(length(v)) FROM bulk'), [written / chunk.length, chunk.length + 1]);
  db.exec('DELETE FROM bulk');
});

test('columnNames(): names and aliases, multi-byte ones too; cached until forgetColumnNames()', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE t (a INTEGER, "☃ col" TEXT)');
  const stmt = db.prepare('SELECT *, a + 1 AS "名前", 2 FROM t');
  t.after(() => stmt.finalize());
  assert.deepEqual(stmt.columnNames(), ['a', '☃ col', '名前', '2']);
  assert.equal(stmt.columnNames(), stmt.columnNames(), 'cached');
  db.exec('ALTER TABLE t ADD COLUMN c DEFAULT 5; INSERT INTO t (a) VALUES (1)');
  assert.equal(stmt.step(), true); // SQLite re-prepares the statement for the new schema here
  assert.deepEqual(stmt.row(), [1, null, 5, 2, 2]);
  assert.deepEqual(stmt.columnNames(), ['a', '☃ col', '名前', '2'], 'still the cached names');
  stmt.forgetColumnNames();
  assert.deepEqual(stmt.columnNames(), ['a', '☃ col', 'c', '名前', '2']);
  stmt.reset();
});

test('Connection: SELECT * sees a column added by ALTER TABLE in a later transaction', () => {
  const conn = new Connection(openMemoryDatabase(sqlite));
  try {
    conn.transaction((w) => {
      w.run('CREATE TABLE t (a INTEGER, b TEXT)');
      w.run('INSERT INTO t (a, b) VALUES (?, ?)', [1, 'one']);
    });
    assert.deepEqual(conn.read((r) => r.all('SELECT * FROM t')), [{ a: 1, b: 'one' }]);
    conn.transaction((w) => w.run("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'new'"));
    assert.deepEqual(conn.read((r) => r.all('SELECT * FROM t')), [{ a: 1, b: 'one', c: 'new' }]);
    // Through a migration-style script as well.
    conn.transaction((w) => w.runScript('ALTER TABLE t ADD COLUMN d INTEGER DEFAULT 4;\nUPDATE t SET d = d + 1;'));
    assert.deepEqual(conn.read((r) => r.get('SELECT * FROM t')), { a: 1, b: 'one', c: 'new', d: 5 });
  } finally {
    conn.close();
  }
});

test('Connection: a comment before ALTER TABLE in runScript still refreshes SELECT * column names', () => {
  const conn = new Connection(openMemoryDatabase(sqlite));
  try {
    conn.transaction((w) => {
      w.run('CREATE TABLE t (a INTEGER)');
      w.run('INSERT INTO t (a) VALUES (1)');
    });
    assert.deepEqual(conn.read((r) => r.all('SELECT * FROM t')), [{ a: 1 }]);
    conn.transaction((w) => w.runScript('-- b is new\nALTER TABLE t ADD COLUMN b INTEGER DEFAULT 2;'));
    assert.deepEqual(conn.read((r) => r.all('SELECT * FROM t')), [{ a: 1, b: 2 }]);
  } finally {
    conn.close();
  }
});

test('statementsOf(): splits on real boundaries only (comments, ";" in literals, multi-byte text)', (t) => {
  const db = fresh(t);
  const script = [
    '-- leading comment; with a semicolon',
    'CREATE TABLE "t;x" (k TEXT, v TEXT);',
    "/* block; comment */ INSERT INTO \"t;x\" VALUES ('a;b', '☃;😀');",
    "INSERT INTO \"t;x\" VALUES ('it''s; quoted', '中文;');   ",
    "SELECT k FROM \"t;x\" WHERE v LIKE '%;%'",
    '-- trailing comment',
    '  /* and a trailing block */  ',
    '',
  ].join('\n');
  const yielded: string[] = [];
  for (const sql of db.statementsOf(script)) {
    yielded.push(sql);
    all(db, sql);
  }
  assert.deepEqual(yielded, [
    '-- leading comment; with a semicolon\nCREATE TABLE "t;x" (k TEXT, v TEXT);',
    "\n/* block; comment */ INSERT INTO \"t;x\" VALUES ('a;b', '☃;😀');",
    "\nINSERT INTO \"t;x\" VALUES ('it''s; quoted', '中文;');",
    "   \nSELECT k FROM \"t;x\" WHERE v LIKE '%;%'\n-- trailing comment\n  /* and a trailing block */  \n",
  ]);
  assert.deepEqual(all(db, 'SELECT k, v FROM "t;x" ORDER BY rowid'), [
    ['a;b', '☃;😀'],
    ["it's; quoted", '中文;'],
  ]);
});

test('statementsOf(): each statement is parsed only after the previous one was handed out', (t) => {
  const db = fresh(t);
  const script = 'CREATE TABLE later (v TEXT); INSERT INTO later VALUES (\'☃\'); CREATE INDEX later_v ON later (v);';
  // Run as yielded: the INSERT compiles against the table the CREATE just made.
  let n = 0;
  for (const sql of db.statementsOf(script)) {
    all(db, sql);
    n++;
  }
  assert.equal(n, 3);
  assert.deepEqual(all(db, 'SELECT v FROM later'), [['☃']]);
  // Collected without running them, the second cannot compile.
  const db2 = fresh(t);
  assert.throws(() => [...db2.statementsOf(script)], /no such table: later/);
  assert.deepEqual(one(db2, 'SELECT 1'), [1], 'usable after the error');
});

test('statementsOf(): empty, whitespace-only and comment-only scripts yield nothing', (t) => {
  const db = fresh(t);
  for (const script of ['', '   \n\t', '-- only a comment', '/* block */', ';', ' ; ;; ', '-- a\n/* b */\n']) {
    assert.deepEqual([...db.statementsOf(script)], [], JSON.stringify(script));
  }
});

test('statementsOf(): a syntax error throws after the earlier statements; stopping early is fine', (t) => {
  const db = fresh(t);
  const seen: string[] = [];
  assert.throws(() => {
    for (const sql of db.statementsOf('CREATE TABLE ok (v); INSERT INTO ok VALUES (1); INSRT INTO ok VALUES (2);')) {
      seen.push(sql.trim());
      all(db, sql);
    }
  }, /near "INSRT": syntax error/);
  assert.deepEqual(seen, ['CREATE TABLE ok (v);', 'INSERT INTO ok VALUES (1);']);
  for (const sql of db.statementsOf('INSERT INTO ok VALUES (3); INSERT INTO ok VALUES (4);')) {
    all(db, sql);
    break;
  }
  assert.deepEqual(all(db, 'SELECT v FROM ok ORDER BY v'), [[1], [3]]);
});

test('errors: a UNIQUE violation throws SQLite\'s message; statement and database stay usable', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE u (k TEXT PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO u (k, v) VALUES (?, ?)');
  t.after(() => ins.finalize());
  ins.bind(['a', '1']);
  ins.step();
  ins.reset();
  ins.bind(['a', '2']);
  assert.throws(
    () => ins.step(),
    (err: unknown) => err instanceof Error && err.message.includes('UNIQUE constraint failed') && err.message.includes('u.k'),
  );
  ins.reset();
  ins.bind(['b', '2']);
  assert.equal(ins.step(), false);
  ins.reset();
  assert.deepEqual(all(db, 'SELECT k, v FROM u ORDER BY k'), [
    ['a', '1'],
    ['b', '2'],
  ]);
});

test('errors: prepare() of bad SQL, a missing table, a comment or nothing throws; the database stays usable', (t) => {
  const db = fresh(t);
  assert.throws(() => db.prepare('SELEC 1'), { message: 'near "SELEC": syntax error' });
  assert.deepEqual(one(db, 'SELECT 1'), [1]);
  assert.throws(() => db.prepare('SELECT * FROM missing'), { message: 'no such table: missing' });
  assert.deepEqual(one(db, 'SELECT 2'), [2]);
  assert.throws(() => db.prepare('-- just a comment'), /no SQL statement to prepare/);
  assert.throws(() => db.prepare('/* block */  '), /no SQL statement to prepare/);
  assert.throws(() => db.prepare(''), /no SQL statement to prepare/);
  assert.deepEqual(one(db, "SELECT 'still ☃'"), ['still ☃']);
  // A runtime error from step().
  const stmt = db.prepare("SELECT json('{bad')");
  t.after(() => stmt.finalize());
  assert.throws(() => stmt.step(), /malformed JSON/);
  stmt.reset();
  assert.throws(() => db.exec('NOT SQL'), /syntax error/);
  assert.deepEqual(one(db, 'SELECT 3'), [3]);
});

test('prepare() compiles only the first statement of a string', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE t (v)');
  all(db, 'INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)');
  assert.deepEqual(all(db, 'SELECT v FROM t'), [[1]]);
});

test('changes(): rows changed by the last INSERT, UPDATE or DELETE', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE c (k INTEGER PRIMARY KEY, v INTEGER)');
  all(db, 'INSERT INTO c (k, v) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)');
  assert.equal(db.changes(), 5);
  all(db, 'UPDATE c SET v = v + 1 WHERE k <= ?', [3]);
  assert.equal(db.changes(), 3);
  all(db, 'UPDATE c SET v = 9 WHERE k > ?', [100]);
  assert.equal(db.changes(), 0);
  all(db, 'SELECT * FROM c');
  assert.equal(db.changes(), 0, 'a SELECT leaves the count as it was');
  all(db, 'DELETE FROM c WHERE v = ?', [1]);
  assert.equal(db.changes(), 3);
  assert.deepEqual(all(db, 'SELECT k FROM c ORDER BY k'), [[4], [5]]);
});

test('export() then openMemoryDatabase(image) gives the same rows; the image is an SQLite file', (t) => {
  const db = fresh(t);
  db.exec('CREATE TABLE e (k INTEGER PRIMARY KEY, v TEXT, b BLOB); CREATE INDEX e_v ON e (v)');
  const rows: SqliteValue[][] = Array.from({ length: 300 }, (_, i) => [i, `v${i} ☃ ${'x'.repeat(i * 3)}`, Uint8Array.from([i & 255, 0, 255])]);
  for (const r of rows) all(db, 'INSERT INTO e VALUES (?, ?, ?)', r);
  // A statement prepared before the export still works after it.
  const count = db.prepare('SELECT count(*) FROM e');
  t.after(() => count.finalize());
  const image = db.export();
  assert.ok(image instanceof Uint8Array);
  assert.equal(Buffer.from(image.subarray(0, 16)).toString('latin1'), 'SQLite format 3\0');
  assert.equal(image.length % 4096, 0);
  assert.equal(count.step(), true);
  assert.deepEqual(count.row(), [300]);
  count.reset();
  all(db, 'INSERT INTO e VALUES (?, ?, ?)', [1000, 'after export', null]);

  const copy = openMemoryDatabase(sqlite, image);
  t.after(() => copy.close());
  assert.deepEqual(all(copy, 'SELECT k, v, b FROM e ORDER BY k'), rows);
  assert.deepEqual(one(copy, 'PRAGMA integrity_check'), ['ok']);
  assert.deepEqual(one(copy, "SELECT count(*) FROM sqlite_schema WHERE name = 'e_v'"), [1]);
  // The copy is its own database.
  all(copy, 'DELETE FROM e');
  assert.deepEqual(one(db, 'SELECT count(*) FROM e'), [301]);
  // An empty database's image loads too.
  const empty = openMemoryDatabase(sqlite);
  const emptyImage = empty.export();
  empty.close();
  const reopened = openMemoryDatabase(sqlite, emptyImage);
  assert.deepEqual(all(reopened, 'SELECT name FROM sqlite_schema'), []);
  reopened.close();
});

test('an image with another page size (512, 8192, 65536) loads and keeps its data', (t) => {
  for (const pageSize of [512, 8192, 65536]) {
    const src = fresh(t);
    src.exec(`PRAGMA page_size = ${pageSize}`);
    src.exec('CREATE TABLE p (k INTEGER PRIMARY KEY, v TEXT)');
    for (let i = 0; i < 200; i++) all(src, 'INSERT INTO p VALUES (?, ?)', [i, `${i}:` + '☃'.repeat(i)]);
    const image = src.export();
    assert.equal(Buffer.from(image).readUInt16BE(16), pageSize === 65536 ? 1 : pageSize, 'page size in the header');
    const copy = openMemoryDatabase(sqlite, image);
    t.after(() => copy.close());
    assert.deepEqual(one(copy, 'PRAGMA page_size'), [pageSize]);
    assert.deepEqual(one(copy, 'PRAGMA integrity_check'), ['ok']);
    assert.deepEqual(
      all(copy, 'SELECT k, v FROM p ORDER BY k'),
      Array.from({ length: 200 }, (_, i) => [i, `${i}:` + '☃'.repeat(i)]),
    );
    // Writable, and exports again with the same page size.
    all(copy, 'INSERT INTO p VALUES (?, ?)', [1000, 'more']);
    assert.equal(Buffer.from(copy.export()).readUInt16BE(16), pageSize === 65536 ? 1 : pageSize);
  }
});

function sampleImage(): Uint8Array {
  const db = openMemoryDatabase(sqlite);
  try {
    db.exec('CREATE TABLE t (a INTEGER, b TEXT)');
    for (let i = 0; i < 100; i++) all(db, 'INSERT INTO t VALUES (?, ?)', [i, 'z'.repeat(500)]);
    return db.export();
  } finally {
    db.close();
  }
}

/** A copy of `image` with its 100-byte header intact and every later byte garbage. */
function garbledAfterHeader(image: Uint8Array): Uint8Array {
  const garbage = new Uint8Array(image);
  for (let i = 100; i < garbage.length; i++) garbage[i] = (i * 7919) & 255;
  return garbage;
}

test('a truncated image or one that is not a database throws a clear Error; the process lives on', () => {
  const image = sampleImage();
  assert.ok(image.length > 4 * 4096);
  assert.throws(() => openMemoryDatabase(sqlite, image.subarray(0, 4096 + 50)), {
    message: 'cannot load the database image: database disk image is malformed',
  });
  assert.throws(() => openMemoryDatabase(sqlite, image.subarray(0, 2000)), /cannot load the database image: database disk image is malformed/);
  assert.throws(() => openMemoryDatabase(sqlite, new Uint8Array(5000).fill(7)), /cannot load the database image: it is not an SQLite database/);
  const db = openMemoryDatabase(sqlite, image);
  assert.deepEqual(one(db, 'SELECT count(*) FROM t'), [100]);
  db.close();
});

test('a damaged image is refused when it is loaded, and the module still works afterwards', () => {
  const image = sampleImage();
  assert.throws(() => openMemoryDatabase(sqlite, garbledAfterHeader(image)).close(), /cannot load the database image/, 'garbage after a valid header');
  assert.throws(() => openMemoryDatabase(sqlite, image.subarray(0, 50)).close(), /cannot load the database image/, 'a truncated header');
  assertNewDatabaseWorks();
});

test('two MemoryDatabases open at once are independent', (t) => {
  const first = fresh(t);
  const second = fresh(t);
  first.exec('CREATE TABLE t (v TEXT)');
  second.exec('CREATE TABLE t (v TEXT, extra INTEGER)');
  const insOne = first.prepare('INSERT INTO t (v) VALUES (?)');
  const insTwo = second.prepare('INSERT INTO t (v, extra) VALUES (?, ?)');
  for (let i = 0; i < 50; i++) {
    insOne.bind([`one ${i} ` + '☃'.repeat(i * 50)]);
    insTwo.bind([`two ${i}`, i]); // bound while the other database's statement is still bound
    insOne.step();
    insTwo.step();
    insOne.reset();
    insTwo.reset();
  }
  insOne.finalize();
  insTwo.finalize();
  assert.equal(first.changes(), 1);
  all(second, 'UPDATE t SET extra = 0');
  assert.equal(second.changes(), 50);
  assert.equal(first.changes(), 1, "one database's changes() are not the other's");
  assert.deepEqual(
    all(first, 'SELECT v FROM t ORDER BY rowid'),
    Array.from({ length: 50 }, (_, i) => [`one ${i} ` + '☃'.repeat(i * 50)]),
  );
  assert.deepEqual(
    all(second, 'SELECT v, extra FROM t ORDER BY rowid'),
    Array.from({ length: 50 }, (_, i) => [`two ${i}`, 0]),
  );
  assert.throws(() => first.prepare('SELECT extra FROM t'), /no such column: extra/);
  // Closing one leaves the other working.
  const third = openMemoryDatabase(sqlite);
  third.exec('CREATE TABLE x (v)');
  third.close();
  assert.deepEqual(one(second, 'SELECT count(*) FROM t'), [50]);
  assert.throws(() => first.prepare('SELECT * FROM x'), /no such table: x/);
});

test('finalize() is idempotent; close() works after every statement is finalized', () => {
  const db = openMemoryDatabase(sqlite);
  db.exec('CREATE TABLE f (v)');
  const a = db.prepare('INSERT INTO f VALUES (?)');
  const b = db.prepare('SELECT v FROM f');
  a.bind(['x']);
  a.step();
  a.reset();
  assert.equal(b.step(), true);
  assert.deepEqual(b.row(), ['x']);
  // Finalized mid-iteration, then again.
  b.finalize();
  b.finalize();
  a.finalize();
  a.finalize();
  a.finalize();
  db.close();
  // The module goes on serving other databases.
  assertNewDatabaseWorks();
});

test('close() frees the scratch buffer', () => {
  const big = 'x'.repeat(1 << 20); // reserves about 3 MB of scratch
  const cycle = (): void => {
    const db = openMemoryDatabase(sqlite);
    const stmt = db.prepare('SELECT length(?)');
    stmt.bind([big]);
    stmt.step();
    stmt.reset();
    stmt.finalize();
    db.close();
  };
  cycle();
  const api = sqlite.SQL as unknown as { _malloc(n: number): number; _free(p: number): void };
  // Where a fresh allocation of the scratch buffer's size goes: a freed buffer would be reused.
  const probe = (): number => {
    const p = api._malloc(3 << 20);
    api._free(p);
    return p;
  };
  const first = probe();
  for (let i = 0; i < 5; i++) cycle();
  assert.equal(probe(), first, 'the same free space is found after five more open/close cycles');
});
