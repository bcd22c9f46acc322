/** The desktop shell's problem notifications, without Electron: stages, dedupe, clearing, the poller and its preference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlertPoller,
  AlertTracker,
  DEFAULT_POLL_MS,
  alertPagePath,
  diskSpace,
  readHealth,
  type HealthSnapshot,
  type HealthSource,
  type Problem,
} from './alerts.ts';
import { ServerLifecycle } from './lifecycle.ts';
import { PREFERENCES_FILE, defaultPreferences, loadPreferences, savePreferences } from './settings.ts';
import type { TlsMode } from '../server/services/admin/status-types.ts';

const DAY = 86_400_000;
const GB = 1024 ** 3;
const T0 = Date.UTC(2030, 0, 1);
const running = { state: 'running', clientUrl: 'http://127.0.0.1:1' } as const;

const snap = (over: Partial<HealthSnapshot> = {}): HealthSnapshot => ({ now: T0, server: running, ...over });
const cert = (daysLeft: number, o: { autoRenew?: boolean; renewError?: string | null } = {}): HealthSnapshot['certificate'] => ({
  notAfter: T0 + daysLeft * DAY,
  autoRenew: o.autoRenew ?? false,
  renewError: o.renewError ?? null,
});
const disk = (freeBytes: number, totalBytes = 100 * GB): HealthSnapshot['disk'] => ({ freeBytes, totalBytes });
const stages = (ps: Problem[]): string[] => ps.map((p) => `${p.kind}:${p.stage}`);

test('certificate: 30 days, 7 days, 1 day, expired — each stage once; renewal clears it', () => {
  const t = new AlertTracker();
  assert.deepEqual(t.update(snap({ certificate: cert(45) })), []);
  const [p30] = t.update(snap({ certificate: cert(30) }));
  assert.equal(p30?.stage, '30d');
  assert.equal(p30?.page, 'tls');
  assert.equal(p30?.title, "Your server's security certificate expires in 30 days");
  assert.match(p30!.body, /renew it or import a new one/);
  assert.deepEqual(t.update(snap({ certificate: cert(29) })), [], 'same stage, no second notification');
  assert.deepEqual(stages(t.update(snap({ certificate: cert(7) }))), ['certificate:7d']);
  assert.deepEqual(t.update(snap({ certificate: cert(3) })), []);
  const [p1] = t.update(snap({ certificate: cert(0.5) }));
  assert.equal(p1?.title, "Your server's security certificate expires tomorrow");
  assert.equal(p1?.urgent, true);
  const [gone] = t.update(snap({ certificate: cert(-1) }));
  assert.equal(gone?.stage, 'expired');
  assert.match(gone!.title, /has expired/);
  assert.deepEqual(t.update(snap({ certificate: cert(-2) })), []);
  // A new certificate clears the problem; its own expiry notifies again later.
  assert.deepEqual(t.update(snap({ certificate: cert(365) })), []);
  assert.equal(t.active().size, 0);
  assert.deepEqual(stages(t.update(snap({ certificate: cert(6) }))), ['certificate:7d']);
});

test('certificate: a shorter new certificate does not notify; a worse stage later does', () => {
  const t = new AlertTracker();
  assert.deepEqual(stages(t.update(snap({ certificate: cert(0.5) }))), ['certificate:1d']);
  assert.deepEqual(t.update(snap({ certificate: cert(20) })), [], 'better: remembered silently');
  assert.equal(t.active().get('certificate'), '30d');
  assert.deepEqual(stages(t.update(snap({ certificate: cert(5) }))), ['certificate:7d']);
});

test("certificate: Let's Encrypt is quiet at 30 days unless renewal failed; no TLS means no problem", () => {
  const quiet = new AlertTracker();
  assert.deepEqual(quiet.update(snap({ certificate: cert(25, { autoRenew: true }) })), []);
  const [week] = quiet.update(snap({ certificate: cert(6, { autoRenew: true }) }));
  assert.equal(week?.stage, '7d');
  assert.match(week!.body, /check why it was not renewed/);

  const failing = new AlertTracker();
  const [p] = failing.update(snap({ certificate: cert(25, { autoRenew: true, renewError: 'DNS problem: NXDOMAIN looking up A for home.example.org' }) }));
  assert.equal(p?.stage, '30d');
  assert.match(p!.body, /could not renew it automatically \(DNS problem: NXDOMAIN/);

  assert.deepEqual(new AlertTracker().update(snap({ certificate: null })), []);
});

test('backup: a failed scheduled backup notifies once with its reason, clears when one works', () => {
  const t = new AlertTracker();
  assert.deepEqual(t.update(snap({ backup: { lastError: null } })), []);
  const [p] = t.update(snap({ backup: { lastError: 'Cannot use /media/usb/backups for backups: ENOENT: no such file or directory' } }));
  assert.equal(p?.kind, 'backup');
  assert.equal(p?.title, 'The last backup failed');
  assert.equal(p?.page, 'backups');
  assert.match(p!.body, /Cannot use \/media\/usb\/backups for backups: ENOENT: no such file or directory\. Until a backup works again/);
  assert.deepEqual(t.update(snap({ backup: { lastError: 'another reason on the retry' } })), [], 'retries do not nag');
  assert.deepEqual(t.update(snap({ backup: { lastError: null } })), []);
  assert.equal(t.active().has('backup'), false);
  assert.equal(t.update(snap({ backup: { lastError: 'disk full.' } }))[0]?.body.includes('Disk full. Until'), true);
  assert.deepEqual(t.update(snap({ backup: null })), [], 'schedule turned off: cleared');
  assert.equal(t.active().has('backup'), false);
});

test('disk: nearly full under 10% or 2 GB, almost full under 2% or 500 MB, with hysteresis', () => {
  const t = new AlertTracker();
  assert.deepEqual(t.update(snap({ disk: disk(15 * GB) })), []);
  const [low] = t.update(snap({ disk: disk(9 * GB) }));
  assert.equal(low?.stage, 'low');
  assert.equal(low?.page, 'storage');
  assert.equal(low?.title, 'The disk is nearly full');
  assert.match(low!.body, /Only 9\.0 GB \(9%\) is left on the disk that holds Hearth's data/);
  assert.deepEqual(t.update(snap({ disk: disk(11 * GB) })), [], 'just above 10%: still remembered, quiet');
  assert.equal(t.active().get('disk'), 'low');
  assert.deepEqual(t.update(snap({ disk: disk(9.5 * GB) })), [], 'no flapping around the threshold');
  assert.deepEqual(t.update(snap({ disk: disk(13 * GB) })), [], 'clear with room to spare');
  assert.equal(t.active().has('disk'), false);

  const [crit] = t.update(snap({ disk: disk(1 * GB) }));
  assert.equal(crit?.stage, 'critical', 'a first look straight at "almost full" says so');
  assert.equal(crit?.urgent, true);
  assert.match(crit!.body, /new messages and photos cannot be saved/);
  assert.deepEqual(t.update(snap({ disk: disk(5 * GB) })), [], 'better: quiet');
  assert.equal(t.active().get('disk'), 'low');
  assert.deepEqual(stages(t.update(snap({ disk: disk(1 * GB) }))), ['disk:critical'], 'worse again: notifies');

  // The byte limits matter on small disks, the fractions on large ones.
  assert.deepEqual(stages(new AlertTracker().update(snap({ disk: disk(1.9 * GB, 15 * GB) }))), ['disk:low']);
  assert.deepEqual(stages(new AlertTracker().update(snap({ disk: disk(30 * GB, 400 * GB) }))), ['disk:low']);
  assert.deepEqual(stages(new AlertTracker().update(snap({ disk: disk(400 * 1024 ** 2, 15 * GB) }))), ['disk:critical']);
  assert.deepEqual(new AlertTracker().update(snap({ disk: disk(50 * GB, 400 * GB) })), []);
});

test('server: could not start notifies with the reason and opens the window; running again clears it', () => {
  const t = new AlertTracker();
  const [p] = t.update(snap({ server: { state: 'failed', reason: 'the admin address 127.0.0.1:8009 is in use' } }));
  assert.equal(p?.kind, 'server');
  assert.equal(p?.title, 'Hearth could not start');
  assert.equal(p?.page, null);
  assert.match(p!.body, /The admin address 127\.0\.0\.1:8009 is in use\. Open Hearth/);
  assert.deepEqual(t.update(snap({ server: { state: 'failed', reason: 'still' } })), []);
  assert.deepEqual(t.update(snap()), []);
  assert.equal(t.active().has('server'), false);
});

test('what a snapshot does not know (server stopped) is neither cleared nor shown again', () => {
  const t = new AlertTracker();
  assert.equal(t.update(snap({ certificate: cert(5), backup: { lastError: 'x' }, disk: disk(GB / 4) })).length, 3);
  assert.deepEqual(t.update(snap({ server: { state: 'stopped' } })), []);
  assert.equal(t.active().size, 3);
  assert.deepEqual(t.update(snap({ certificate: cert(5), backup: { lastError: 'x' }, disk: disk(GB / 4) })), []);
});

test('several problems at once come out together, one each', () => {
  const ps = new AlertTracker().update(
    snap({ server: { state: 'failed', reason: 'boom' }, certificate: cert(-1), backup: { lastError: 'no folder' }, disk: disk(GB) }),
  );
  assert.deepEqual(stages(ps), ['server:failed', 'certificate:expired', 'backup:failed', 'disk:critical']);
  for (const p of ps) {
    assert.ok(p.title.length > 0 && p.title.length < 70, p.title);
    assert.doesNotMatch(p.body, /undefined|null|NaN|\.\./);
  }
});

test('pages open at the GUI addresses of renderer/src/page-paths.ts', () => {
  assert.equal(alertPagePath('tls'), '/_hearth/admin/tls');
  assert.equal(alertPagePath('backups'), '/_hearth/admin/backups');
  assert.equal(alertPagePath('storage'), '/_hearth/admin/storage');
  assert.equal(alertPagePath('dashboard'), '/_hearth/admin/');
});

// ---- reading -------------------------------------------------------------------------------

function source(o: {
  mode?: TlsMode;
  notAfter?: number | null;
  temporary?: boolean;
  tlsError?: string | null;
  backupDir?: string | null;
  intervalHours?: number | null;
  backupError?: string | null;
  dataDir?: string;
}): HealthSource {
  return {
    settings: { dataDir: o.dataDir ?? '/data' },
    adminTools: {
      tls: {
        status: () => ({
          mode: o.mode ?? 'self-signed',
          certificate: o.notAfter == null ? null : { notAfter: o.notAfter },
          temporary: o.temporary ?? false,
          lastError: o.tlsError ?? null,
        }),
      },
      backups: { status: () => ({ dir: o.backupDir ?? null, intervalHours: o.intervalHours ?? null, lastError: o.backupError ?? null }) },
    },
  };
}
const fixedSpace = async (): Promise<{ freeBytes: number; totalBytes: number }> => ({ freeBytes: 3 * GB, totalBytes: 10 * GB });

test('readHealth: certificate, scheduled backup and disk from the homeserver', async () => {
  const s = await readHealth(running, source({ mode: 'acme-http', notAfter: T0 + DAY, tlsError: 'rate limited', backupDir: '/b', intervalHours: 24, backupError: 'EACCES' }), T0, fixedSpace);
  assert.deepEqual(s, {
    now: T0,
    server: running,
    certificate: { notAfter: T0 + DAY, autoRenew: true, renewError: 'rate limited' },
    backup: { lastError: 'EACCES' },
    disk: { freeBytes: 3 * GB, totalBytes: 10 * GB },
  });
  const manual = await readHealth(running, source({ mode: 'files', notAfter: T0, tlsError: 'ignored', backupDir: '/b', backupError: 'x' }), T0, fixedSpace);
  assert.deepEqual(manual.certificate, { notAfter: T0, autoRenew: false, renewError: null });
  assert.equal(manual.backup, null, 'no schedule: backups are taken by hand');
  assert.equal((await readHealth(running, source({ mode: 'acme-dns', notAfter: T0, temporary: true }), T0, fixedSpace)).certificate, null);
  assert.equal((await readHealth(running, source({ mode: 'none' }), T0, fixedSpace)).certificate, null);
  const noDisk = await readHealth(running, source({}), T0, () => Promise.reject(new Error('ENOENT')));
  assert.equal('disk' in noDisk, false, 'unknown, not "full"');
  assert.deepEqual(await readHealth({ state: 'stopped' }, undefined, T0, fixedSpace), { now: T0, server: { state: 'stopped' } });
});

test('diskSpace reads the data folder disk with statfs', async () => {
  const d = await diskSpace(tmpdir());
  assert.ok(d.totalBytes > 0 && d.freeBytes >= 0 && d.freeBytes <= d.totalBytes, JSON.stringify(d));
});

test('readHealth on a real running homeserver, in-process', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-alerts-'));
  const life = new ServerLifecycle(() => ({ dataDir, listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' }));
  try {
    assert.equal(life.running, undefined);
    await life.start();
    assert.ok(life.running);
    const s = await readHealth(life.status, life.running, Date.now());
    assert.equal(s.certificate, null, 'no TLS by default');
    assert.equal(s.backup, null, 'no backup schedule by default');
    assert.ok(s.disk && s.disk.totalBytes > 0);
  } finally {
    await life.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// ---- polling -------------------------------------------------------------------------------

/** A fake clock and timer: `advance` fires what is due, in order, awaiting each check. */
function fakeTime(): { now: () => number; schedule: (fn: () => void, ms: number) => () => void; advance(ms: number): Promise<void>; pending(): number } {
  let now = T0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  return {
    now: () => now,
    schedule(fn, ms) {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return () => (timers = timers.filter((t) => t.id !== id));
    },
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers = timers.filter((t) => t !== next);
        now = next.at;
        next.fn();
        await settle();
      }
      now = end;
    },
    pending: () => timers.length,
  };
}

test('poller: checks every 5 minutes with a fake clock, notifying each new stage once', async () => {
  const time = fakeTime();
  const shown: Problem[] = [];
  let reads = 0;
  // A certificate 7 days and 3 minutes from expiry, and a disk filling up.
  const notAfter = T0 + 7 * DAY + 3 * 60_000;
  let free = 12 * GB;
  const poller = new AlertPoller({
    read: async () => {
      reads++;
      return { now: time.now(), server: running, certificate: { notAfter, autoRenew: false, renewError: null }, disk: disk(free) };
    },
    sink: (p) => shown.push(p),
    schedule: time.schedule,
  });
  poller.start();
  await time.advance(0);
  assert.equal(reads, 1, 'checks at once');
  assert.deepEqual(stages(shown), ['certificate:30d']);
  await time.advance(DEFAULT_POLL_MS - 1);
  assert.equal(reads, 1);
  await time.advance(1);
  assert.equal(reads, 2);
  assert.deepEqual(stages(shown), ['certificate:30d', 'certificate:7d'], 'crossed 7 days between checks');
  free = 8 * GB;
  await time.advance(3 * DEFAULT_POLL_MS);
  assert.equal(reads, 5);
  assert.deepEqual(stages(shown), ['certificate:30d', 'certificate:7d', 'disk:low']);
  assert.equal(time.pending(), 1, 'one timer at a time');
  poller.stop();
  assert.equal(time.pending(), 0);
  await time.advance(10 * DEFAULT_POLL_MS);
  assert.equal(reads, 5, 'stopped');
});

test('poller: setEnabled (the notifyProblems preference) starts and stops it; on again shows what is still wrong', async () => {
  const time = fakeTime();
  const shown: Problem[] = [];
  let reads = 0;
  const poller = new AlertPoller({
    read: async () => (reads++, snap({ now: time.now(), backup: { lastError: 'no space left on device' } })),
    sink: (p) => shown.push(p),
    enabled: false,
    schedule: time.schedule,
  });
  poller.setEnabled(false); // startup with the preference off
  await time.advance(2 * DEFAULT_POLL_MS);
  assert.equal(time.pending(), 0, 'off: nothing scheduled');
  assert.deepEqual(await poller.checkNow(), [], 'off: a server status change notifies nothing either');
  assert.equal(reads, 0, 'nothing is read while off');

  poller.setEnabled(true);
  await time.advance(0);
  assert.deepEqual(stages(shown), ['backup:failed'], 'on: checked at once');
  assert.equal(time.pending(), 1, 'on: the next check is scheduled');
  await time.advance(DEFAULT_POLL_MS);
  assert.equal(reads, 2);
  assert.equal(shown.length, 1, 'still failing: shown once');

  poller.setEnabled(false);
  assert.equal(time.pending(), 0, 'off: the timer is cancelled');
  await time.advance(2 * DEFAULT_POLL_MS);
  assert.equal(reads, 2);

  poller.setEnabled(true);
  await time.advance(0);
  assert.equal(shown.length, 2, 'off then on: the backup still fails, so it shows again');
  poller.stop();
});

test('poller: a check still reading when notifications are turned off shows nothing', async () => {
  const time = fakeTime();
  const shown: Problem[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const poller = new AlertPoller({
    read: async () => (await gate, snap({ now: time.now(), backup: { lastError: 'no space left on device' } })),
    sink: (p) => shown.push(p),
    schedule: time.schedule,
  });
  const check = poller.checkNow();
  poller.setEnabled(false);
  release();
  assert.deepEqual(await check, []);
  assert.deepEqual(shown, []);
  poller.setEnabled(true);
  await time.advance(0);
  assert.deepEqual(stages(shown), ['backup:failed'], 'on again: what is wrong shows');
  poller.stop();
});

test('poller: checkNow shares a running check and restarts the interval; errors do not stop it', async () => {
  const time = fakeTime();
  const errors: unknown[] = [];
  const shown: Problem[] = [];
  let reads = 0;
  let fail = true;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const poller = new AlertPoller({
    read: async () => {
      reads++;
      if (fail) throw new Error('read failed');
      await gate;
      return snap({ now: time.now(), server: { state: 'failed', reason: 'port in use' } });
    },
    sink: (p) => {
      shown.push(p);
      throw new Error('sink failed');
    },
    schedule: time.schedule,
    onError: (e) => errors.push(e),
  });
  poller.start();
  await time.advance(0);
  assert.equal(errors.length, 1);
  assert.equal(time.pending(), 1, 'scheduled again after an error');
  fail = false;
  await time.advance(DEFAULT_POLL_MS / 2);
  const a = poller.checkNow();
  const b = poller.checkNow();
  assert.equal(a, b);
  release();
  assert.deepEqual(stages(await a), ['server:failed']);
  assert.equal(reads, 2);
  assert.equal(shown.length, 1);
  assert.equal(errors.length, 2, 'the sink error is reported');
  assert.equal(time.pending(), 1);
  await time.advance(DEFAULT_POLL_MS - 1);
  assert.equal(reads, 2, 'the interval restarted at checkNow');
  await time.advance(1);
  assert.equal(reads, 3);
  poller.stop();
});

test('the notifyProblems preference: on by default, kept when saved, a bad value falls back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-alerts-'));
  try {
    assert.equal(loadPreferences(dir).notifyProblems, true);
    savePreferences(dir, { ...defaultPreferences(dir), notifyProblems: false });
    assert.equal(loadPreferences(dir).notifyProblems, false);
    writeFileSync(join(dir, PREFERENCES_FILE), JSON.stringify({ notifyProblems: 'no' }));
    assert.equal(loadPreferences(dir).notifyProblems, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
