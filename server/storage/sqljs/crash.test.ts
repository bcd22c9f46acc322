// THE crash test: a child process writes with 20 concurrent writers and a tiny journal limit (so
// checkpoints happen all the time) and prints each key once its write resolved; we SIGKILL it at
// random moments, restart it on the same folder, and check that every acknowledged key
// survived, no transaction was half-applied, and integrity_check is ok.
//   HEARTH_CRASH_ROUNDS=200 HEARTH_CRASH_SEED=1234 node scripts/run-tests.mjs server/storage/sqljs/crash.test.ts
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqlJsDatabase } from './open.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';

const FIXTURE = fileURLToPath(new URL('./test-fixtures/crash-writer.ts', import.meta.url));
const ROUNDS = Number(process.env['HEARTH_CRASH_ROUNDS'] ?? 25);
const SEED = Number(process.env['HEARTH_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const WRITERS = 20;
const JOURNAL_LIMIT = 16 * 1024;

/** mulberry32: small, seedable, good enough to pick kill times. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Round {
  acked: number[];
  verified: string | null;
  killedBeforeReady: boolean;
}

function runRound(dataDir: string, ackedFile: string, killAfterReadyMs: number | null, killAfterSpawnMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, dataDir, ackedFile, String(WRITERS), String(JOURNAL_LIMIT)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acked: number[] = [];
    let verified: string | null = null;
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    if (killAfterReadyMs === null) timer = setTimeout(kill, killAfterSpawnMs);
    const watchdog = setTimeout(kill, 30_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a line cut by the kill was never fully acknowledged
      for (const line of lines) {
        if (/^\d+$/.test(line)) acked.push(Number(line));
        else if (line.startsWith('verified') || line.startsWith('FAIL')) {
          verified = line;
          if (line.startsWith('FAIL')) kill();
          else if (killAfterReadyMs !== null) timer = setTimeout(kill, killAfterReadyMs);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`crash writer exited on its own (code ${code}, signal ${signal}): ${verified ?? ''}\n${stderr}`));
        return;
      }
      resolve({ acked, verified, killedBeforeReady: verified === null });
    });
  });
}

test(`SIGKILL crash loop: ${ROUNDS} rounds, seed ${SEED}`, { timeout: 60_000 + ROUNDS * 5_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (rerun with HEARTH_CRASH_SEED=${SEED})`);
  const random = prng(SEED);
  const dataDir = tempDataDir(t, 'crash');
  const work = tempDataDir(t, 'crash-work');
  const ackedFile = join(work, 'acked.txt');
  const acked: number[] = [];
  let earlyKills = 0;
  let sawSnapshot = false;
  for (let round = 0; round < ROUNDS; round++) {
    // Every fifth round dies during startup (snapshot load, replay, migrations) instead.
    const early = round % 5 === 4;
    const r = await runRound(dataDir, ackedFile, early ? null : 50 + random() * 350, random() * 400);
    if (r.verified !== null) assert.match(r.verified, /^verified /, `round ${round}: ${r.verified}`);
    if (r.killedBeforeReady) earlyKills++;
    acked.push(...r.acked);
    writeFileSync(ackedFile, acked.join('\n') + '\n');
    sawSnapshot ||= readdirSync(dataDir).some((f) => f.startsWith('snapshot-'));
  }
  t.diagnostic(`${acked.length} acknowledged writes over ${ROUNDS} kills (${earlyKills} during startup)`);
  assert.ok(acked.length > ROUNDS, 'the writer should get writes acknowledged between kills');
  assert.ok(sawSnapshot, 'checkpoints should have happened during the test');

  const db = await openSqlJsDatabase({ dataDir, migrationsDir: null });
  try {
    const present = new Set(db.read((r) => r.all('SELECT k FROM crash_keys')).map((row) => row['k']));
    const missing = acked.filter((k) => !present.has(k));
    assert.deepEqual(missing, [], 'every acknowledged key survives');
    assert.equal(db.read((r) => r.get('SELECT n FROM crash_counter'))!['n'], present.size);
    assert.equal(db.read((r) => r.get('PRAGMA integrity_check'))!['integrity_check'], 'ok');
  } finally {
    await db.close();
  }
});
