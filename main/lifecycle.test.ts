/** The desktop shell's lifecycle module, without Electron: start, status, stop, restart, failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerLifecycle, type ShellStatus } from './lifecycle.ts';

test('start → running with URLs, restart, stop → stopped; statuses reported in order', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-shell-'));
  try {
    const life = new ServerLifecycle(() => ({
      dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      adminListen: { host: '127.0.0.1', port: 0 },
      logLevel: 'silent',
    }));
    const seen: ShellStatus['state'][] = [];
    life.onStatus((s) => seen.push(s.state));
    const s = await life.start();
    assert.equal(s.state, 'running');
    if (s.state !== 'running') return;
    assert.match(s.clientUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.adminUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(s.clientUrl + '/_matrix/client/versions');
    assert.equal(r.status, 200);
    assert.equal((await life.restart()).state, 'running');
    await life.stop();
    assert.equal(life.status.state, 'stopped');
    assert.deepEqual(seen, ['starting', 'running', 'stopping', 'stopped', 'starting', 'running', 'stopping', 'stopped']);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a server that cannot start reports failed with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-shell-'));
  try {
    const notAFolder = join(dir, 'file');
    writeFileSync(notAFolder, 'x');
    const life = new ServerLifecycle(() => ({ dataDir: notAFolder, listen: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' }));
    const s = await life.start();
    assert.equal(s.state, 'failed');
    if (s.state === 'failed') assert.ok(s.reason.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
