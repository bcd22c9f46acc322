/**
 * The desktop app's restore (restore.ts) with a real ServerLifecycle on temp folders: the state
 * after restore is the backup's (a later message is gone, the user still logs in), the old data
 * folder stays beside the restored one, and a damaged file is refused with the server still
 * running on its data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerLifecycle } from './lifecycle.ts';
import { restoreFromBackup } from './restore.ts';

const C = '/_matrix/client/v3';
const PASSWORD = 'correct horse battery staple';
const root = mkdtempSync(join(tmpdir(), 'hearth-restore-'));
const dataDir = join(root, 'data');
const backupDir = join(root, 'backups');
const life = new ServerLifecycle(() => ({
  serverName: 'localhost',
  dataDir,
  backupDir,
  registration: 'open',
  listen: { host: '127.0.0.1', port: 0 },
  logLevel: 'silent',
}));

function clientUrl(): string {
  const s = life.status;
  assert.equal(s.state, 'running');
  return s.state === 'running' ? s.clientUrl : '';
}

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const r = await fetch(clientUrl() + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

const send = (room: string, token: string, txn: string, text: string) =>
  call('PUT', `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: text }, token);

async function bodies(room: string, token: string): Promise<string[]> {
  const r = await call('GET', `${C}/rooms/${encodeURIComponent(room)}/messages?dir=b&limit=50`, undefined, token);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json.chunk as { type: string; content: { body?: string } }[]).filter((e) => e.type === 'm.room.message').map((e) => e.content.body!);
}

let token: string;
let room: string;
let backupFile: string;

before(async () => {
  assert.equal((await life.start()).state, 'running');
  const reg = await call('POST', `${C}/register`, { username: 'alice', password: PASSWORD, auth: { type: 'm.login.dummy' } });
  assert.equal(reg.status, 200, JSON.stringify(reg.json));
  token = reg.json.access_token;
  room = (await call('POST', `${C}/createRoom`, { name: 'Family' }, token)).json.room_id;
  assert.equal((await send(room, token, 't1', 'before the backup')).status, 200);
  backupFile = (await life.running!.adminTools!.backups.backupNow()).path;
  assert.equal((await send(room, token, 't2', 'after the backup')).status, 200);
});

after(async () => {
  await life.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a damaged or foreign file is refused before anything stops; the server keeps its data', async () => {
  const damaged = join(root, 'damaged.tar');
  copyFileSync(backupFile, damaged);
  truncateSync(damaged, Math.floor(statSync(damaged).size / 2));
  const seen: string[] = [];
  const off = life.onStatus((s) => seen.push(s.state));
  for (const file of [damaged, join(root, 'missing.tar'), join(root)]) {
    const r = await restoreFromBackup({ lifecycle: life, dataDir, file, now: Date.now() });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /^This file cannot be restored, so nothing was changed: /);
  }
  off();
  assert.deepEqual(seen, [], 'the server was never stopped');
  assert.deepEqual(await bodies(room, token), ['after the backup', 'before the backup']);
  assert.deepEqual(readdirSync(root).filter((n) => n.includes('before-restore')), []);
});

test('restore: the backup’s state after the restart, the old folder kept beside it', async () => {
  const now = Date.parse('2026-11-27T04:05:06.789Z');
  const r = await restoreFromBackup({ lifecycle: life, dataDir, file: backupFile, now });
  assert.deepEqual(r, { ok: true, movedAsideTo: `${dataDir}.before-restore-20261127T040506Z` });
  assert.equal(life.status.state, 'running');
  assert.ok(existsSync(join(`${dataDir}.before-restore-20261127T040506Z`, 'signing.key')), 'the old data is kept');

  const login = await call('POST', `${C}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: PASSWORD });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  assert.deepEqual(await bodies(room, login.json.access_token), ['before the backup'], 'the later message is gone');
});
