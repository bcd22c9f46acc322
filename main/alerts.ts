/**
 * PLAIN (no Electron): the desktop shell's problem notifications (issue 4, "One GUI, two shells":
 * certificate expiring, backup failed, disk nearly full, and a server that could not start).
 * `readHealth` takes a snapshot from the running homeserver in-process (the same TLS and backup
 * status the dashboard's admin API shows, plus free space on the data folder's disk via statfs);
 * `problemsIn` turns a snapshot into problems with plain-language text and the GUI page a click
 * opens; `AlertTracker` shows each problem once until it clears or gets worse; `AlertPoller`
 * checks every few minutes while the "Tell me about problems" preference is on.
 * electron/notifications.ts only draws what comes out.
 */
import { statfs } from 'node:fs/promises';
// Type-only: the shapes the server's services report, without loading the server's code.
import type { BackupStatus, CertificateInfo, TlsStatus } from '../server/services/admin/status-types.ts';
import type { ShellStatus } from './lifecycle.ts';
import { truncate } from './tray-model.ts';
// The GUI's own address scheme and byte sizes (plain modules, no DOM): a notification opens the
// page the GUI's router shows and speaks of sizes the way the dashboard does.
import { formatBytes } from '../renderer/src/components/format.ts';
import { pagePath, type PageId } from '../renderer/src/page-paths.ts';

const DAY = 86_400_000;
const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** GUI pages a notification can open. */
export type AlertPage = Extract<PageId, 'dashboard' | 'tls' | 'backups' | 'storage'>;

/** The page's path under the admin listener. */
export function alertPagePath(page: AlertPage): string {
  return pagePath(page);
}

/**
 * What the shell knows about the server's health at `now`. A field left undefined is unknown
 * (the server is not running, or the read failed): the problems of that kind are left as they
 * were, neither shown again nor cleared.
 */
export interface HealthSnapshot {
  now: number;
  /** The shell's lifecycle state; 'failed' carries why the server could not start. */
  server: ShellStatus;
  /** The certificate being served; null when there is none to watch (no TLS, a proxy, a stopgap). */
  certificate?: { notAfter: number; autoRenew: boolean; renewError: string | null } | null;
  /** Backups on a schedule; null when no schedule is set. lastError: the last attempt failed. */
  backup?: { lastError: string | null } | null;
  /** Space on the disk that holds the data folder. */
  disk?: { freeBytes: number; totalBytes: number };
}

export type ProblemKind = 'server' | 'certificate' | 'backup' | 'disk';

/** Stages of each kind, least severe first: moving right is "getting worse". */
const STAGES = {
  server: ['failed'],
  certificate: ['30d', '7d', '1d', 'expired'],
  backup: ['failed'],
  disk: ['low', 'critical'],
} as const satisfies Record<ProblemKind, readonly string[]>;

export interface Problem {
  kind: ProblemKind;
  stage: string;
  title: string;
  body: string;
  /** The page a click opens; null for a window that shows the "could not start" page. */
  page: AlertPage | null;
  /** Worth interrupting for (Linux shows it as critical). */
  urgent: boolean;
}

export interface DiskThresholds {
  /** "Nearly full" below either of these. */
  lowFraction: number;
  lowBytes: number;
  /** "Full any moment" below either of these. */
  criticalFraction: number;
  criticalBytes: number;
}

export const DEFAULT_DISK_THRESHOLDS: DiskThresholds = { lowFraction: 0.1, lowBytes: 2 * GB, criticalFraction: 0.02, criticalBytes: 500 * MB };

/**
 * A threshold already crossed is only left again with this much room to spare, so a disk that
 * hovers around 10% free does not notify, clear and notify again every few minutes.
 */
const DISK_HYSTERESIS = 1.2;

// ---- deciding -----------------------------------------------------------------------------

function certificateProblem(c: NonNullable<HealthSnapshot['certificate']>, now: number): Problem | undefined {
  const left = c.notAfter - now;
  const stage = left <= 0 ? 'expired' : left <= DAY ? '1d' : left <= 7 * DAY ? '7d' : left <= 30 * DAY ? '30d' : undefined;
  // Let's Encrypt certificates renew themselves 30 days before expiry: a family hears about it
  // only if that did not work (still 30 days out with an error, or a week out regardless).
  if (!stage || (stage === '30d' && c.autoRenew && !c.renewError)) return undefined;
  const days = Math.ceil(left / DAY);
  const fix = c.renewError
    ? `Hearth could not renew it automatically (${truncate(c.renewError.trim(), 120)}). Open Hearth to renew it.`
    : c.autoRenew
      ? 'Open Hearth to check why it was not renewed.'
      : 'Open Hearth to renew it or import a new one.';
  if (stage === 'expired') {
    return {
      kind: 'certificate',
      stage,
      title: "Your server's security certificate has expired",
      body: `Phones and apps can no longer connect to your server securely. ${fix}`,
      page: 'tls',
      urgent: true,
    };
  }
  return {
    kind: 'certificate',
    stage,
    title: stage === '1d' ? "Your server's security certificate expires tomorrow" : `Your server's security certificate expires in ${days} days`,
    body: `When it expires, phones and apps stop connecting to your server. ${fix}`,
    page: 'tls',
    urgent: stage === '1d',
  };
}

function diskProblem(d: NonNullable<HealthSnapshot['disk']>, t: DiskThresholds, shownStage: string | undefined): Problem | undefined {
  if (d.totalBytes <= 0) return undefined;
  const below = (fraction: number, bytes: number, alreadyCrossed: boolean): boolean => {
    const k = alreadyCrossed ? DISK_HYSTERESIS : 1;
    return d.freeBytes < bytes * k || d.freeBytes / d.totalBytes < fraction * k;
  };
  const stage = below(t.criticalFraction, t.criticalBytes, shownStage === 'critical')
    ? 'critical'
    : below(t.lowFraction, t.lowBytes, shownStage !== undefined)
      ? 'low'
      : undefined;
  if (!stage) return undefined;
  const left = `Only ${formatBytes(d.freeBytes)} (${formatPercent(d.freeBytes / d.totalBytes)}) is left on the disk that holds Hearth's data.`;
  return {
    kind: 'disk',
    stage,
    title: stage === 'critical' ? 'The disk is almost full' : 'The disk is nearly full',
    body:
      stage === 'critical'
        ? `${left} When it is full, new messages and photos cannot be saved. Free up space now, or open Hearth to remove old media.`
        : `${left} Free up some space, or open Hearth to remove old media and history.`,
    page: 'storage',
    urgent: stage === 'critical',
  };
}

/**
 * The problems in a snapshot, one per kind at most. `shown` is what the tracker last showed per
 * kind (for the disk's hysteresis). Kinds the snapshot knows nothing about are absent.
 */
export function problemsIn(s: HealthSnapshot, shown: ReadonlyMap<ProblemKind, string> = new Map(), disk: DiskThresholds = DEFAULT_DISK_THRESHOLDS): Problem[] {
  const out: Problem[] = [];
  if (s.server.state === 'failed') {
    out.push({
      kind: 'server',
      stage: 'failed',
      title: 'Hearth could not start',
      body: `Your family's server is not running, so messages are not being delivered. ${sentence(s.server.reason)} Open Hearth to see what to do.`,
      page: null,
      urgent: true,
    });
  }
  const cert = s.certificate && certificateProblem(s.certificate, s.now);
  if (cert) out.push(cert);
  if (s.backup?.lastError) {
    out.push({
      kind: 'backup',
      stage: 'failed',
      title: 'The last backup failed',
      body: `Hearth could not back up your server. ${sentence(s.backup.lastError)} Until a backup works again, recent messages and photos are not protected. Open Hearth to fix it.`,
      page: 'backups',
      urgent: false,
    });
  }
  const d = s.disk && diskProblem(s.disk, disk, shown.get('disk'));
  if (d) out.push(d);
  return out;
}

/** Which kinds a snapshot has an answer for (the others keep their state). */
function knownKinds(s: HealthSnapshot): ProblemKind[] {
  const kinds: ProblemKind[] = ['server'];
  if (s.certificate !== undefined) kinds.push('certificate');
  if (s.backup !== undefined) kinds.push('backup');
  if (s.disk !== undefined) kinds.push('disk');
  return kinds;
}

const rank = (kind: ProblemKind, stage: string): number => (STAGES[kind] as readonly string[]).indexOf(stage);

// ---- deduplicating ------------------------------------------------------------------------

/**
 * Remembers the stage of each problem shown. A problem is shown when it appears or gets worse
 * (certificate 30 days → 7 days); getting better is remembered silently, so a later relapse shows
 * again; a problem that clears is forgotten, so its return shows again.
 */
export class AlertTracker {
  private readonly shown = new Map<ProblemKind, string>();

  constructor(private readonly disk: DiskThresholds = DEFAULT_DISK_THRESHOLDS) {}

  /** The problems to show now for this snapshot. */
  update(s: HealthSnapshot): Problem[] {
    const current = problemsIn(s, this.shown, this.disk);
    const fresh: Problem[] = [];
    for (const kind of knownKinds(s)) {
      const p = current.find((x) => x.kind === kind);
      const before = this.shown.get(kind);
      if (!p) this.shown.delete(kind);
      else {
        if (before === undefined || rank(kind, p.stage) > rank(kind, before)) fresh.push(p);
        this.shown.set(kind, p.stage);
      }
    }
    return fresh;
  }

  /** Forget everything (notifications turned off): turning them on again shows what is wrong. */
  reset(): void {
    this.shown.clear();
  }

  /** Kind → stage of what has been shown and not cleared (for tests and diagnostics). */
  active(): ReadonlyMap<ProblemKind, string> {
    return this.shown;
  }
}

// ---- reading ------------------------------------------------------------------------------

/**
 * The part of a running Homeserver (server/index.ts) the snapshot reads: the TLS and backup
 * services the dashboard shows, and the data folder.
 */
export interface HealthSource {
  readonly settings: { dataDir: string };
  readonly adminTools:
    | {
        tls: { status(): Pick<TlsStatus, 'mode' | 'temporary' | 'lastError'> & { certificate: Pick<CertificateInfo, 'notAfter'> | null } };
        backups: { status(): Pick<BackupStatus, 'dir' | 'intervalHours' | 'lastError'> };
      }
    | undefined;
}

/** Free and total bytes of the disk holding `path` (what an unprivileged process may use). */
export async function diskSpace(path: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

/**
 * A snapshot of the server's health, read in-process. With no running server only the
 * lifecycle state is known.
 */
export async function readHealth(
  server: ShellStatus,
  hs: HealthSource | undefined,
  now: number,
  space: (path: string) => Promise<{ freeBytes: number; totalBytes: number }> = diskSpace,
): Promise<HealthSnapshot> {
  const snap: HealthSnapshot = { now, server };
  if (!hs) return snap;
  const tools = hs.adminTools;
  if (tools) {
    const tls = tools.tls.status();
    const acme = tls.mode === 'acme-http' || tls.mode === 'acme-dns';
    // A temporary certificate stands in while Let's Encrypt has not answered: its expiry is not the problem.
    snap.certificate =
      tls.certificate && !tls.temporary ? { notAfter: tls.certificate.notAfter, autoRenew: acme, renewError: acme ? tls.lastError : null } : null;
    const b = tools.backups.status();
    // Only with a schedule: without one, backups are taken by hand in the window, which shows a failure.
    snap.backup = b.dir && b.intervalHours !== null ? { lastError: b.lastError } : null;
  }
  try {
    snap.disk = await space(hs.settings.dataDir);
  } catch {
    // Unknown this time (the folder is being moved, a network disk is away): try again next poll.
  }
  return snap;
}

// ---- polling ------------------------------------------------------------------------------

export interface AlertPollerOptions {
  read(): Promise<HealthSnapshot>;
  /** Shows one notification. */
  sink(p: Problem): void;
  /** The "problem notifications" preference at construction; `setEnabled` changes it. Default on. */
  enabled?: boolean;
  /** Default 5 minutes. */
  intervalMs?: number;
  /** Runs fn after ms; returns a cancel function. Default setTimeout, unref'd. */
  schedule?: (fn: () => void, ms: number) => () => void;
  onError?: (e: unknown) => void;
  disk?: DiskThresholds;
}

export const DEFAULT_POLL_MS = 5 * 60_000;

const defaultSchedule = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** Checks every few minutes (the next check is scheduled after one finishes, so they never overlap). */
export class AlertPoller {
  private readonly tracker: AlertTracker;
  private cancel: (() => void) | undefined;
  private running: Promise<Problem[]> | undefined;
  private started = false;
  private enabled: boolean;

  constructor(private readonly o: AlertPollerOptions) {
    this.tracker = new AlertTracker(o.disk);
    this.enabled = o.enabled ?? true;
  }

  /**
   * The preference turned on or off (the window's "This computer" card, and at startup). On checks
   * at once, so what is wrong right now shows without waiting for the next interval. Off stops the
   * timer, so a family that said no is not polled for, and forgets what was shown: turning
   * notifications on again shows what is still wrong.
   */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (enabled) {
      this.start();
      return;
    }
    this.stop();
    this.tracker.reset();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.checkNow();
  }

  stop(): void {
    this.started = false;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Checks at once (the server just failed, say) and restarts the interval; concurrent calls share one check. */
  checkNow(): Promise<Problem[]> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
      this.cancel?.();
      this.cancel = this.started ? (this.o.schedule ?? defaultSchedule)(() => void this.checkNow(), this.o.intervalMs ?? DEFAULT_POLL_MS) : undefined;
    });
    return this.running;
  }

  private async check(): Promise<Problem[]> {
    // A check asked for while notifications are off (a server status change) shows nothing; what
    // was shown was forgotten when they were turned off (setEnabled).
    if (!this.enabled) return [];
    let fresh: Problem[];
    try {
      const status = await this.o.read();
      // Turned off while the status was being read: show nothing (setEnabled forgot what was shown).
      if (!this.enabled) return [];
      fresh = this.tracker.update(status);
    } catch (e) {
      this.o.onError?.(e);
      return [];
    }
    for (const p of fresh) {
      try {
        this.o.sink(p);
      } catch (e) {
        this.o.onError?.(e);
      }
    }
    return fresh;
  }
}

// ---- wording ------------------------------------------------------------------------------

/** A reason from the server as one sentence: capitalised, bounded, ending with a full stop. */
function sentence(reason: string): string {
  const t = truncate(reason.trim(), 160);
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

function formatPercent(f: number): string {
  const p = f * 100;
  return p < 1 ? 'less than 1%' : `${Math.round(p)}%`;
}
