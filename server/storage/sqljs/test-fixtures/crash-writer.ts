// Test fixture for the SIGKILL crash loop (crash.test.ts). Usage:
//   node --import tsx crash-writer.ts <dataDir> <ackedKeysFile> <writers> <journalLimitBytes>
// On start it checks that every key listed in ackedKeysFile (keys a previous, killed run
// printed) survived, that a counter bumped in the same transactions matches the row count,
// and that PRAGMA integrity_check is ok; it prints "verified <acked> <rows>" or "FAIL <why>".
// Then <writers> concurrent writers insert sequential keys, and each key is printed only after
// its write promise resolved (stdout to a pipe is synchronous on Linux, so a printed key
// reached the parent before any kill).
import { existsSync, readFileSync } from 'node:fs';
import { openSqlJsDatabase } from '../open.ts';

const [dataDir, ackedFile, writersArg, limitArg] = process.argv.slice(2);
const db = await openSqlJsDatabase({ dataDir: dataDir!, journalLimitBytes: Number(limitArg), migrationsDir: null });
await db.write((w) => {
  w.run('CREATE TABLE IF NOT EXISTS crash_keys (k INTEGER PRIMARY KEY, writer INTEGER NOT NULL, pad TEXT NOT NULL)');
  w.run('CREATE TABLE IF NOT EXISTS crash_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  w.run('INSERT INTO crash_counter (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
});

const acked = existsSync(ackedFile!)
  ? readFileSync(ackedFile!, 'utf8').split('\n').filter(Boolean).map(Number)
  : [];
const present = new Set(db.read((r) => r.all('SELECT k FROM crash_keys')).map((row) => row['k'] as number));
const missing = acked.filter((k) => !present.has(k));
const counter = db.read((r) => r.get('SELECT n FROM crash_counter WHERE id = 1'))!['n'];
const integrity = db.read((r) => r.get('PRAGMA integrity_check'))!['integrity_check'];
if (missing.length > 0) {
  process.stdout.write(`FAIL ${missing.length} acknowledged keys missing, e.g. ${missing.slice(0, 5).join(',')}\n`);
  process.exit(3);
}
if (counter !== present.size) {
  process.stdout.write(`FAIL counter ${String(counter)} != rows ${present.size} (a transaction was half-applied)\n`);
  process.exit(3);
}
if (integrity !== 'ok') {
  process.stdout.write(`FAIL integrity_check: ${String(integrity)}\n`);
  process.exit(3);
}
process.stdout.write(`verified ${acked.length} ${present.size}\n`);

let next = ((db.read((r) => r.get('SELECT MAX(k) AS m FROM crash_keys'))!['m'] as number | null) ?? 0) + 1;
const pad = 'x'.repeat(200);
async function writer(id: number): Promise<void> {
  for (;;) {
    const k = next++;
    await db.write((w) => {
      w.run('INSERT INTO crash_keys (k, writer, pad) VALUES (?, ?, ?)', [k, id, pad]);
      w.run('UPDATE crash_counter SET n = n + 1 WHERE id = 1');
    });
    process.stdout.write(`${k}\n`);
  }
}
await Promise.all(Array.from({ length: Number(writersArg) }, (_, i) => writer(i)));
