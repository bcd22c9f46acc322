// The data folder lock: a second open (in this process or another) is refused with a message
// naming the folder and the PID holding it; a lock left by a dead process is taken over.
import { spawn } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataDirLockedError, LOCK_FILE_NAME } from './lock.ts';
import { openSqlJsDatabase } from './open.ts';
import { tempDataDir } from './test-fixtures/temp-dir.ts';

const HOLDER = fileURLToPath(new URL('./test-fixtures/hold-lock.ts', import.meta.url));

test('a second open in the same process is refused until the first closes', async (t) => {
  const dir = tempDataDir(t, 'lock');
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  assert.equal(readFileSync(join(dir, LOCK_FILE_NAME), 'utf8').trim(), String(process.pid));
  await assert.rejects(openSqlJsDatabase({ dataDir: dir, migrationsDir: null }), (err: Error) => {
    assert.ok(err instanceof DataDirLockedError);
    assert.ok(err.message.includes(dir), err.message);
    assert.ok(err.message.includes(`PID ${process.pid}`), err.message);
    return true;
  });
  await db.close();
  const again = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
  await again.close();
});

test('another live process holding the folder is named; once it is killed its lock is taken over', async (t) => {
  const dir = tempDataDir(t, 'lock');
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  await assert.rejects(openSqlJsDatabase({ dataDir: dir, migrationsDir: null }), (err: Error) => {
    assert.match(err.message, new RegExp(`Data folder ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another Hearth process \\(PID ${pid}\\)`));
    assert.ok(err.message.includes(join(dir, LOCK_FILE_NAME)), 'tells which file to delete');
    return true;
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const logs: string[] = [];
  const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null, onLog: (_l, m) => logs.push(m) });
  assert.ok(logs.includes('taking over stale data folder lock'));
  assert.equal(readFileSync(join(dir, LOCK_FILE_NAME), 'utf8').trim(), String(process.pid));
  await db.close();
});

test('a stale lock with a dead PID or garbage content is taken over', async (t) => {
  for (const content of ['2147483646\n', 'not a pid']) {
    const dir = tempDataDir(t, 'lock');
    writeFileSync(join(dir, LOCK_FILE_NAME), content);
    if (content === 'not a pid') {
      // Garbage is only trusted as stale once it is old enough not to be a lock being written.
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, LOCK_FILE_NAME), old, old);
    }
    const db = await openSqlJsDatabase({ dataDir: dir, migrationsDir: null });
    await db.close();
  }
});
