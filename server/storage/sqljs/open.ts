// Opens the durable sql.js database in a data folder: take the folder lock, load the newest
// snapshot, replay the journal files after it in sequence order (dropping a torn or corrupt
// tail), then run pending schema migrations. See ARCHITECTURE.md, "storage/".
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, ftruncateSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StorageLog } from '../storage.ts';
import { Connection } from './connection.ts';
import { SqlJsDatabase } from './database.ts';
import { parseJournalFileName, scanJournal } from './journal.ts';
import { acquireDirLock } from './lock.ts';
import { loadMigrations, runMigrations } from './migrations.ts';
import { MIGRATIONS_DIR } from '../../paths.ts';
import { loadSqliteModule, openMemoryDatabase } from './sqlite-module.ts';
import { isSqliteImage, listSnapshots, removeTempSnapshots } from './snapshot.ts';
import type { ActiveJournal } from './writer.ts';
import { JournalWriter } from './writer.ts';

export interface OpenSqlJsOptions {
  dataDir: string;
  /** Checkpoint once the current journal file grows past this. Default 64 MiB. */
  journalLimitBytes?: number;
  /** Folder of NNNN-name.sql files; default the built-in migrations; null runs none. */
  migrationsDir?: string | null;
  onLog?: StorageLog;
  /** Clock for schema_migrations.applied_at (a parameter, so replay stays deterministic). */
  now?: () => number;
}

export const DEFAULT_JOURNAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** Replayed transactions per SQLite transaction during recovery; larger is faster. */
const REPLAY_BATCH = 2000;

export async function openSqlJsDatabase(options: OpenSqlJsOptions): Promise<SqlJsDatabase> {
  const dataDir = resolve(options.dataDir);
  const log: StorageLog = options.onLog ?? (() => {});
  mkdirSync(dataDir, { recursive: true });
  const lock = await acquireDirLock(dataDir, log);
  let connection: Connection | null = null;
  try {
    const sqlite = await loadSqliteModule();
    for (const name of removeTempSnapshots(dataDir)) log('warn', 'removed unfinished snapshot', { file: name });

    const snapshots = listSnapshots(dataDir);
    const newest = snapshots[snapshots.length - 1];
    let snapshotSeq = 0;
    if (newest) {
      const image = readFileSync(newest.path);
      if (!isSqliteImage(image)) throw new Error(`snapshot ${newest.path} is not an SQLite database; the data folder is damaged`);
      connection = new Connection(openMemoryDatabase(sqlite, image));
      snapshotSeq = newest.seq;
      // A crash after the rename can leave the previous snapshot behind; it is superseded.
      for (const old of snapshots.slice(0, -1)) rmSync(old.path, { force: true });
    } else {
      connection = new Connection(openMemoryDatabase(sqlite));
    }

    const { lastSeq, active } = recoverJournals(dataDir, connection, snapshotSeq, log);
    const journal = new JournalWriter(dataDir, active, lastSeq, log);
    const db = new SqlJsDatabase({
      dataDir,
      connection,
      journal,
      lock,
      lastSeq,
      snapshotSeq,
      journalLimitBytes: options.journalLimitBytes ?? DEFAULT_JOURNAL_LIMIT_BYTES,
      log,
    });
    log('info', 'storage opened', { dataDir, snapshotSeq, lastSeq });
    if (options.migrationsDir !== null) {
      try {
        await runMigrations(db, loadMigrations(options.migrationsDir ?? MIGRATIONS_DIR), options.now ?? Date.now, log);
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
    }
    return db;
  } catch (err) {
    try {
      connection?.close();
    } catch {
      // already closed by db.close()
    }
    lock.release();
    throw err;
  }
}

interface JournalFile {
  startSeq: number;
  path: string;
}

/**
 * Replays journal records with seq > snapshotSeq, in order, and returns where appending goes on.
 * Recovery stops at the first torn or corrupt frame: that file is truncated there and later
 * files are moved aside, because a write is only acknowledged after everything before it is
 * durable, so nothing past that point was ever acknowledged.
 */
function recoverJournals(
  dir: string,
  conn: Connection,
  snapshotSeq: number,
  log: StorageLog,
): { lastSeq: number; active: ActiveJournal } {
  const files: JournalFile[] = [];
  for (const name of readdirSync(dir)) {
    const startSeq = parseJournalFileName(name);
    if (startSeq !== null) files.push({ startSeq, path: join(dir, name) });
  }
  files.sort((a, b) => a.startSeq - b.startSeq);

  let applied = snapshotSeq;
  let active: ActiveJournal | null = null;
  let brokenAt: string | null = null;
  let inBatch = 0;
  conn.beginReplay();
  let ok = false;
  try {
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const next = files[i + 1];
      // Every record in this file precedes the next file's first seq, so the snapshot has them all.
      if (next && next.startSeq <= snapshotSeq + 1) {
        rmSync(file.path, { force: true });
        continue;
      }
      if (brokenAt !== null) {
        const moved = `${file.path}.dropped`;
        renameSync(file.path, moved);
        log('warn', 'moved aside a journal file that follows a corrupt one', { file: moved, corruptFile: brokenAt });
        continue;
      }
      const buf = readFileSync(file.path);
      const scan = scanJournal(buf);
      for (const record of scan.records) {
        if (record.seq <= applied) {
          if (record.seq > snapshotSeq) throw new Error(`journal ${file.path} repeats seq ${record.seq}; the data folder is damaged`);
          continue;
        }
        if (record.seq !== applied + 1) {
          throw new Error(`journal ${file.path} jumps from seq ${applied} to ${record.seq}; the data folder is damaged`);
        }
        conn.replay(record.statements, record.seq);
        applied = record.seq;
        if (++inBatch >= REPLAY_BATCH) {
          conn.endReplay(true);
          conn.beginReplay();
          inBatch = 0;
        }
      }
      if (scan.corrupt) {
        log('warn', 'dropped torn journal tail', {
          file: file.path,
          offset: scan.corrupt.offset,
          droppedBytes: buf.length - scan.validBytes,
          reason: scan.corrupt.reason,
        });
        truncateDurably(file.path, scan.validBytes);
        brokenAt = file.path;
      }
      if (scan.validBytes === 0) {
        rmSync(file.path, { force: true });
      } else {
        active = { startSeq: file.startSeq, bytes: scan.validBytes, exists: true };
      }
    }
    ok = true;
  } finally {
    conn.endReplay(ok);
  }
  return { lastSeq: applied, active: active ?? { startSeq: applied + 1, bytes: 0, exists: false } };
}

function truncateDurably(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
