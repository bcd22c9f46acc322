// The data folder lock: a file created with O_EXCL holding the owner's PID, so a second Hearth
// process (or a second open in this one) cannot run against the same folder and interleave
// journal writes. A lock left by a process that no longer exists is taken over.
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageLog } from '../storage.ts';

export const LOCK_FILE_NAME = 'hearth.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `Data folder ${dataDir} is already open in this process (PID ${pid}); close that database first.`
        : `Data folder ${dataDir} is in use by another Hearth process (PID ${pid}). Stop that process first; ` +
            `if no Hearth is running, delete ${join(dataDir, LOCK_FILE_NAME)}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): { pid: number | null; ageMs: number } | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    const ageMs = Date.now() - statSync(path).mtimeMs;
    return { pid: /^\d+$/.test(text) ? Number(text) : null, ageMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

export async function acquireDirLock(dataDir: string, log: StorageLog): Promise<DirLock> {
  const path = join(dataDir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return {
        path,
        release: () => {
          // Only remove the file if it is still ours (it may have been taken over as stale).
          if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder === null) continue; // released between our two calls
    if (holder.pid !== null && isAlive(holder.pid)) throw new DataDirLockedError(dataDir, holder.pid);
    if (holder.pid === null && holder.ageMs < 2000) {
      // Another process has created the file and is about to write its PID.
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    log('warn', 'taking over stale data folder lock', { path, stalePid: holder.pid });
    rmSync(path, { force: true });
  }
  throw new Error(`could not acquire the data folder lock ${path}`);
}
