/**
 * Backups (issue 4, "Backups"): one file per backup (backup-format.ts: tar with a SHA-256
 * manifest) holding the database image from a consistent point, the media folder and the
 * signing key, taken while the server runs; on demand or every N hours into a chosen folder,
 * keeping the last N. Restore is offline (the CLI's --restore-backup, or the desktop shell with
 * the server stopped): it verifies the whole file first, fills an empty data folder, and clears
 * every device's one-time and fallback keys, because clients have since used or replaced them and
 * handing out an old one again breaks encryption (clients re-upload when the count drops).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Database } from '../../storage/storage.ts';
import { BackupFormatError, TarWriter, readBackup, type BackupManifest } from './backup-format.ts';
import type { BackupInfo, BackupStatus } from './status-types.ts';

export const DATABASE_ENTRY = 'database.sqlite';
export const SIGNING_KEY_ENTRY = 'signing.key';
const MEDIA_DIR = 'media';
const NAME = /^hearth-backup-(\d{8}T\d{9}Z)\.tar$/;
const DEFAULT_KEEP = 7;
const CHECK_EVERY_MS = 60_000;

export interface BackupSettings {
  serverName: string;
  dataDir: string;
  backupDir?: string;
  backupIntervalHours?: number;
  backupKeep?: number;
}

/** A problem the admin can fix (no folder chosen, not writable, bad file); shown as is. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupServiceOptions {
  settings: () => BackupSettings;
  /** The storage engine's consistent image (SqlJsDatabase.backupImage). */
  databaseImage: () => Promise<{ seq: number; image: Uint8Array }>;
  log: { info(m: string, f?: Record<string, unknown>): void; error(m: string, f?: Record<string, unknown>): void };
  clock?: () => number;
  checkEveryMs?: number;
}

function fileName(ts: number): string {
  const iso = new Date(ts).toISOString(); // 2025-01-02T03:04:05.678Z
  return `hearth-backup-${iso.slice(0, 10).replace(/-/g, '')}T${iso.slice(11, 23).replace(/[:.]/g, '')}Z.tar`;
}

function nameTs(name: string): number | undefined {
  const m = NAME.exec(name)?.[1];
  if (!m) return undefined;
  return Date.parse(`${m.slice(0, 4)}-${m.slice(4, 6)}-${m.slice(6, 8)}T${m.slice(9, 11)}:${m.slice(11, 13)}:${m.slice(13, 15)}.${m.slice(15, 18)}Z`);
}

export class BackupService {
  private running: Promise<BackupInfo> | undefined;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly o: BackupServiceOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /** Starts the schedule: every minute, take a backup if one is due. */
  start(): void {
    this.timer = setInterval(() => void this.runIfDue(), this.o.checkEveryMs ?? CHECK_EVERY_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Backups in the folder, newest first. */
  list(): BackupInfo[] {
    const dir = this.o.settings().backupDir;
    if (!dir || !existsSync(dir)) return [];
    const out: BackupInfo[] = [];
    for (const name of readdirSync(dir)) {
      const ts = nameTs(name);
      if (ts === undefined) continue;
      const path = join(dir, name);
      out.push({ name, path, sizeBytes: statSync(path).size, createdTs: ts });
    }
    return out.sort((a, b) => b.createdTs - a.createdTs);
  }

  status(): BackupStatus {
    const s = this.o.settings();
    const backups = this.list();
    const last = backups[0] ?? null;
    const interval = s.backupIntervalHours ?? null;
    return {
      dir: s.backupDir ?? null,
      intervalHours: interval,
      keep: s.backupKeep ?? DEFAULT_KEEP,
      running: this.running !== undefined,
      lastError: this.lastError,
      lastBackup: last,
      nextBackupTs: interval !== null && s.backupDir ? (last ? last.createdTs + interval * 3_600_000 : this.clock()) : null,
      backups,
    };
  }

  /** Takes a backup now (a second caller while one runs gets the same one). */
  backupNow(): Promise<BackupInfo> {
    this.running ??= this.take()
      .then(
        (info) => {
          this.lastError = null;
          return info;
        },
        (e: Error) => {
          this.lastError = e.message;
          this.o.log.error('backup failed', { error: e.message });
          throw e;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Checks a backup in the folder (by name) without restoring it. */
  async verify(name: string): Promise<BackupManifest> {
    const found = this.list().find((b) => b.name === name);
    if (!found) throw new BackupError(`There is no backup called ${name}.`);
    return verifyBackup(found.path);
  }

  private async runIfDue(): Promise<void> {
    const st = this.status();
    if (st.nextBackupTs === null || st.running || this.clock() < st.nextBackupTs) return;
    await this.backupNow().catch(() => undefined);
  }

  private async take(): Promise<BackupInfo> {
    const s = this.o.settings();
    if (!s.backupDir) throw new BackupError('Choose a folder for backups first.');
    const dir = resolve(s.backupDir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new BackupError(`Cannot use ${dir} for backups: ${(e as Error).message}`);
    }
    const now = this.clock();
    const name = fileName(now);
    const path = join(dir, name);
    const partial = `${path}.partial`;
    const started = performance.now();
    // The database image first, then the media folder: media files are written before the rows
    // that name them, so every file the image refers to is already on disk.
    const { seq, image } = await this.o.databaseImage();
    const fh = await open(partial, 'w', 0o600);
    try {
      const tar = new TarWriter(fh, now);
      await tar.addBuffer(DATABASE_ENTRY, image);
      const keyPath = join(s.dataDir, SIGNING_KEY_ENTRY);
      if (existsSync(keyPath)) await tar.addBuffer(SIGNING_KEY_ENTRY, await readFile(keyPath));
      for (const f of await mediaFiles(join(s.dataDir, MEDIA_DIR))) await tar.addFile(`${MEDIA_DIR}/${f.rel}`, f.path, f.size);
      await tar.finish({ createdTs: now, serverName: s.serverName, databaseSeq: seq });
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw e;
    }
    await fh.close();
    await rename(partial, path);
    await fsyncDir(dir);
    const info: BackupInfo = { name, path, sizeBytes: (await stat(path)).size, createdTs: now };
    this.o.log.info('backup written', { file: path, bytes: info.sizeBytes, databaseSeq: seq, ms: Math.round(performance.now() - started) });
    await this.prune(s.backupKeep ?? DEFAULT_KEEP);
    return info;
  }

  private async prune(keep: number): Promise<void> {
    for (const old of this.list().slice(keep)) {
      await rm(old.path, { force: true });
      this.o.log.info('old backup removed', { file: old.path });
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Files under the media folder (none if it does not exist), skipping temporary files. */
async function mediaFiles(root: string): Promise<{ rel: string; path: string; size: number }[]> {
  const out: { rel: string; path: string; size: number }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      // Uploads in progress are written under a temporary name, then renamed.
      if (e.name.startsWith('.') || e.name.endsWith('.tmp') || e.name.endsWith('.partial')) continue;
      const p = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile()) out.push({ rel: r, path: p, size: (await stat(p)).size });
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** Reads the whole backup and checks every entry against the manifest. */
export async function verifyBackup(file: string): Promise<BackupManifest> {
  try {
    const manifest = await readBackup(file);
    if (!manifest.files.some((f) => f.path === DATABASE_ENTRY)) throw new BackupFormatError('The backup has no database.');
    for (const f of manifest.files) safeEntryPath(f.path);
    return manifest;
  } catch (e) {
    if (e instanceof BackupFormatError) throw new BackupError(e.message);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError(`There is no file ${file}.`);
    throw e;
  }
}

/** Only the database, the signing key and files under media/ may come out of a backup. */
function safeEntryPath(path: string): string {
  const ok =
    path === DATABASE_ENTRY ||
    path === SIGNING_KEY_ENTRY ||
    (path.startsWith(`${MEDIA_DIR}/`) && path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !seg.includes('\\')));
  if (!ok) throw new BackupFormatError(`The backup contains an unexpected path: ${path}`);
  return path;
}

export interface RestoreEngine {
  /** Writes the database image into the (new) data folder as the engine's snapshot `seq`. */
  installDatabase(dataDir: string, seq: number, image: Uint8Array): Promise<void>;
  /** Opens the data folder's database (running any newer migrations). */
  openDatabase(dataDir: string): Promise<Database>;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Devices whose one-time keys were cleared. */
  clearedOneTimeKeys: number;
}

/**
 * Restores `file` into `dataDir`, which must be empty or absent. Verifies the whole backup first,
 * fills a staging folder beside the target and renames it into place, so a failure leaves
 * nothing half-restored. `verified`: the caller has just run verifyBackup on the file (the
 * desktop shell does, before it stops the server), so the first pass is not repeated; extraction
 * still hashes every entry.
 */
export async function restoreBackup(file: string, dataDir: string, engine: RestoreEngine, opts: { verified?: boolean } = {}): Promise<RestoreResult> {
  const target = resolve(dataDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new BackupError(`${target} is not empty. Restore into an empty folder (move the old data folder aside first).`);
  }
  if (!opts.verified) await verifyBackup(file);
  const staging = join(dirname(target), `.${basename(target)}.restoring-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    let image: Uint8Array | undefined;
    // Second pass: extract. The file was verified, but each entry is hashed again on the way
    // (readBackup always does), so a file changed in between fails here instead of restoring.
    const manifest = await readBackup(file, async (path, size) => {
      safeEntryPath(path);
      if (path === DATABASE_ENTRY) {
        const parts: Buffer[] = [];
        return { write: (c) => void parts.push(c), end: () => void (image = Buffer.concat(parts, size)) };
      }
      const out = join(staging, ...path.split('/'));
      await mkdir(dirname(out), { recursive: true });
      const fh = await open(out, 'w', path === SIGNING_KEY_ENTRY ? 0o600 : 0o644);
      return {
        write: async (c) => void (await fh.write(c)),
        end: async () => {
          await fh.sync();
          await fh.close();
        },
      };
    });
    if (!image) throw new BackupError('The backup has no database.');
    await engine.installDatabase(staging, manifest.databaseSeq, image);
    const db = await engine.openDatabase(staging);
    let cleared = 0;
    try {
      cleared = await db.write((w) => {
        const devices = w.get('SELECT COUNT(*) AS n FROM (SELECT DISTINCT user_id, device_id FROM e2ee_one_time_keys) AS d');
        w.run('DELETE FROM e2ee_one_time_keys');
        w.run('DELETE FROM e2ee_fallback_keys');
        return Number(devices?.n ?? 0);
      });
    } finally {
      await db.close();
    }
    if (existsSync(target)) rmSync(target, { recursive: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staging, target);
    return { manifest, clearedOneTimeKeys: cleared };
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (e instanceof BackupFormatError) throw new BackupError(e.message);
    throw e;
  }
}
