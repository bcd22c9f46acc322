/** The headless command line: start, answer, stop cleanly on SIGTERM/SIGINT, refuse a locked data folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'cli.ts');

function startCli(args: string[]): { child: ChildProcess; url: Promise<string>; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--admin-listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /Client API: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve(m[1]!);
      }
    }, 20);
    exit.then(() => {
      clearInterval(t);
      reject(new Error(`exited before listening:\n${out}`));
    });
  });
  url.catch(() => undefined); // a test that expects an early exit need not await the URL
  return { child, url, output: () => out, exit };
}

test('--help lists the flags', async () => {
  const c = startCli(['--help']);
  assert.equal(await c.exit, 0);
  for (const flag of ['--data', '--server-name', '--listen', '--federation-listen', '--tls-cert', '--tls-key', '--registration', '--registration-shared-secret', '--log-level', '--config']) {
    assert.ok(c.output().includes(flag), `help mentions ${flag}`);
  }
});

test('a bad flag exits 2 with a clear message', async () => {
  const c = startCli(['--registration', 'sometimes']);
  assert.equal(await c.exit, 2);
  assert.match(c.output(), /--registration must be one of/);
});

test('starts, answers /versions, stops cleanly on SIGTERM, refuses a second process on the same folder', async () => {
  const data = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
  try {
    const a = startCli(['--data', data, '--listen', '127.0.0.1:0', '--server-name', 'example.test']);
    const url = await a.url;
    const r = await fetch(url + '/_matrix/client/versions');
    assert.equal(r.status, 200);
    assert.match(a.output(), /Server name: example\.test/);

    const b = startCli(['--data', data, '--listen', '127.0.0.1:0']);
    assert.equal(await b.exit, 1);
    assert.match(b.output(), /could not start/);
    assert.match(b.output(), new RegExp(data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

    a.child.kill('SIGTERM');
    assert.equal(await a.exit, 0);
    assert.ok(existsSync(join(data, 'signing.key')));

    // Restart on the same folder with SIGINT this time: the lock was released.
    const c = startCli(['--data', data, '--listen', '127.0.0.1:0']);
    await c.url;
    c.child.kill('SIGINT');
    assert.equal(await c.exit, 0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
