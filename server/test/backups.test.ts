/**
 * Backups (services/admin/backups.ts, backup-format.ts, api/admin/hearth/backups.ts): a backup
 * taken under write load restores to a server with every acknowledged event, the signing key and
 * media, and without one-time or fallback keys; the folder keeps the last N; damaged or cut-short
 * files fail verification; restore refuses a folder in use; the schedule runs by itself; the
 * admin endpoints answer admins only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './harness.ts';
import { createApp } from '../api/http/app.ts';
import { createLogger } from '../logger.ts';
import * as backupsApi from '../api/admin/hearth/backups.ts';
import { BackupError, BackupService, verifyBackup, type BackupSettings } from '../services/admin/backups.ts';
import { restoreBackupInto } from '../wiring-admin-tools.ts';
import { parseCliArgs } from '../config/cli-args.ts';
import { MatrixError } from '../errors.ts';

const C = '/_matrix/client/v3';
const quiet = { info() {}, error() {} };
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

describe('backups', () => {
  it('a backup taken under write load restores to a server with every acknowledged event, the key and media, and no one-time keys', async () => {
    const backupDir = tmp('hearth-bk-');
    const restored = join(tmp('hearth-restore-'), 'data');
    const srv = await startTestServer({ backupDir });
    let srv2: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      const alice = await srv.registerUser('alice');
      const up = await srv.request('POST', `${C}/keys/upload`, {
        token: alice.access_token,
        body: { one_time_keys: { 'curve25519:AAAAAQ': 'b3RrMQ', 'curve25519:AAAAAg': 'b3RrMg' }, fallback_keys: { 'curve25519:AAAAHg': 'ZmFsbGJhY2s' } },
      });
      assert.equal(up.status, 200);
      assert.equal(up.json.one_time_key_counts.curve25519, 2);
      mkdirSync(join(srv.dataDir, 'media', 'ab'), { recursive: true });
      writeFileSync(join(srv.dataDir, 'media', 'ab', 'cdef'), 'a family photo');
      const room = (await srv.request('POST', `${C}/createRoom`, { token: alice.access_token, body: { name: 'Family' } })).json.room_id as string;

      // Four clients send as fast as they can; an event counts once its 200 has arrived.
      const acked: string[] = [];
      let stop = false;
      let txn = 0;
      const worker = async (): Promise<void> => {
        while (!stop) {
          const r = await srv.request('PUT', `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/t${txn++}`, {
            token: alice.access_token,
            body: { msgtype: 'm.text', body: `message ${txn}` },
          });
          assert.equal(r.status, 200);
          acked.push(r.json.event_id);
        }
      };
      const workers = [worker(), worker(), worker(), worker()];
      while (acked.length < 40) await new Promise((r) => setTimeout(r, 5));
      const before = [...acked];
      const backup = await srv.hs.adminTools!.backups.backupNow();
      const atBackupEnd = acked.length;
      while (acked.length < atBackupEnd + 20) await new Promise((r) => setTimeout(r, 5));
      stop = true;
      await Promise.all(workers);
      assert.ok(acked.length > before.length, 'writes went on during and after the backup');
      await srv.close({ keepData: true });

      const result = await restoreBackupInto(backup.path, restored);
      assert.equal(result.manifest.serverName, 'localhost');
      assert.equal(result.clearedOneTimeKeys, 1);
      assert.deepEqual(
        result.manifest.files.map((f) => f.path),
        ['database.sqlite', 'signing.key', 'media/ab/cdef'],
      );
      assert.equal(readFileSync(join(restored, 'signing.key'), 'utf8'), readFileSync(join(srv.dataDir, 'signing.key'), 'utf8'));
      assert.equal(readFileSync(join(restored, 'media', 'ab', 'cdef'), 'utf8'), 'a family photo');

      srv2 = await startTestServer({ dataDir: restored });
      const missing: string[] = [];
      for (const id of before) {
        const r = await srv2.request('GET', `${C}/rooms/${encodeURIComponent(room)}/event/${encodeURIComponent(id)}`, { token: alice.access_token });
        if (r.status !== 200) missing.push(id);
      }
      assert.deepEqual(missing, [], 'every event acknowledged before the backup began is restored');
      // The restored server goes on from there.
      const more = await srv2.request('PUT', `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/after-restore`, { token: alice.access_token, body: { msgtype: 'm.text', body: 'hi' } });
      assert.equal(more.status, 200);
      // One-time and fallback keys are gone: nothing to claim, and the client is told to upload.
      const claim = await srv2.request('POST', `${C}/keys/claim`, { token: alice.access_token, body: { one_time_keys: { [alice.user_id]: { [alice.device_id]: 'curve25519' } } } });
      assert.deepEqual(claim.json.one_time_keys, {});
      const counts = await srv2.request('POST', `${C}/keys/upload`, { token: alice.access_token, body: {} });
      assert.equal(counts.json.one_time_key_counts.curve25519 ?? 0, 0);
    } finally {
      await srv2?.close();
      rmSync(backupDir, { recursive: true, force: true });
      rmSync(srv.dataDir, { recursive: true, force: true });
    }
  });

  it('keeps the last N, is a standard tar, detects damage and refuses to restore over data', async () => {
    const backupDir = tmp('hearth-bk-');
    const srv = await startTestServer({ backupDir, backupKeep: 2 });
    try {
      const b = srv.hs.adminTools!.backups;
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await b.backupNow());
      const list = b.list();
      assert.deepEqual(list.map((x) => x.name), [made[2]!.name, made[1]!.name]);
      assert.equal(b.status().lastBackup!.name, made[2]!.name);
      const manifest = await b.verify(made[2]!.name);
      assert.equal(manifest.files[0]!.path, 'database.sqlite');
      await assert.rejects(b.verify('nope.tar'), BackupError);

      const tar = spawnSync('tar', ['tf', made[2]!.path], { encoding: 'utf8' });
      if (tar.status === 0) assert.deepEqual(tar.stdout.trim().split('\n'), ['database.sqlite', 'signing.key', 'manifest.json']);

      const damaged = join(backupDir, 'damaged.tar');
      copyFileSync(made[2]!.path, damaged);
      const bytes = readFileSync(damaged);
      bytes[600] = bytes[600]! ^ 0xff; // inside database.sqlite's data
      writeFileSync(damaged, bytes);
      await assert.rejects(verifyBackup(damaged), /damaged/);
      const cut = join(backupDir, 'cut.tar');
      copyFileSync(made[2]!.path, cut);
      truncateSync(cut, statSync(cut).size - 2048);
      await assert.rejects(verifyBackup(cut), BackupError);
      await assert.rejects(restoreBackupInto(damaged, tmp('hearth-restore-')), /damaged/);
      await assert.rejects(restoreBackupInto(made[2]!.path, srv.dataDir), /not empty/);
    } finally {
      await srv.close();
      rmSync(backupDir, { recursive: true, force: true });
    }
  });

  it('takes backups on its schedule; without a folder it says what to do', async () => {
    const dataDir = tmp('hearth-bk-data-');
    const s: BackupSettings = { serverName: 'localhost', dataDir };
    const svc = new BackupService({ settings: () => s, log: quiet, checkEveryMs: 10, databaseImage: async () => ({ seq: 1, image: new Uint8Array(100) }) });
    try {
      await assert.rejects(svc.backupNow(), /Choose a folder/);
      assert.match(svc.status().lastError!, /Choose a folder/);
      svc.start();
      s.backupDir = join(dataDir, 'backups');
      s.backupIntervalHours = 0.1 / 3600; // every 100 ms
      const end = Date.now() + 5000;
      while (svc.list().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.ok(svc.list().length >= 2, 'two scheduled backups');
      assert.equal(svc.status().lastError, null);
    } finally {
      await svc.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('admin endpoints: status, settings, back up now, verify; admins only', async () => {
    const dataDir = tmp('hearth-bk-data-');
    const s: BackupSettings = { serverName: 'localhost', dataDir };
    const backups = new BackupService({ settings: () => s, log: quiet, databaseImage: async () => ({ seq: 7, image: new Uint8Array(4096) }) });
    const tokens = {
      resolve: (t: string) => {
        if (t !== 'admin' && t !== 'user') throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown token');
        return { userId: `@${t}:localhost`, deviceId: 'D', isAdmin: t === 'admin', accessTokenId: 1 };
      },
    };
    const { app } = createApp({
      log: createLogger('error', () => {}),
      maxJsonBodyBytes: 65536,
      mount: (r) => backupsApi.register(r, { backups, settings: { update: async (p) => Object.assign(s, p) } }, tokens),
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/_hearth/api/v1/backups`;
    const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    try {
      assert.equal((await call('GET', '', 'user')).json.errcode, 'M_FORBIDDEN');
      const empty = await call('POST', '', 'admin');
      assert.equal(empty.status, 400);
      assert.match(empty.json.error, /Choose a folder/);
      assert.equal((await call('PUT', '/settings', 'admin', { keep: 0 })).json.errcode, 'M_BAD_JSON');
      const set = await call('PUT', '/settings', 'admin', { dir: join(dataDir, 'b'), keep: 3, intervalHours: 24 });
      assert.equal(set.status, 200);
      assert.equal(set.json.keep, 3);
      assert.equal(set.json.intervalHours, 24);
      const now = await call('POST', '', 'admin');
      assert.equal(now.status, 200);
      assert.match(now.json.backup.name, /^hearth-backup-\d{8}T\d{9}Z\.tar$/);
      const status = await call('GET', '', 'admin');
      assert.equal(status.json.backups.length, 1);
      assert.equal(status.json.nextBackupTs, now.json.backup.createdTs + 24 * 3_600_000);
      const v = await call('POST', '/verify', 'admin', { name: now.json.backup.name });
      assert.deepEqual([v.status, v.json.ok, v.json.files, v.json.bytes], [200, true, 1, 4096]);
      assert.equal((await call('POST', '/verify', 'admin', { name: 'missing.tar' })).status, 400);
    } finally {
      server.close();
      await backups.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('--restore-backup is a command-line flag', () => {
    assert.equal(parseCliArgs(['--restore-backup', '/tmp/x.tar', '--data', '/tmp/d']).restoreBackup, '/tmp/x.tar');
    assert.equal(parseCliArgs([]).restoreBackup, undefined);
  });
});
