// Snapshots: a full image of the database named after the last sequence number it contains,
// written atomically (temp file, fsync, rename, fsync the folder), so a crash leaves either the
// old snapshot or the new one, never half of one. The file is a plain SQLite database.
import { promises as fsp, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeAll } from './durable-fs.ts';

const SNAPSHOT_NAME = /^snapshot-(\d{16})\.sqlite$/;
const TEMP_SUFFIX = '.tmp';

export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(16, '0')}.sqlite`;
}

export interface SnapshotFile {
  seq: number;
  path: string;
}

/** Snapshots in the folder, oldest first. */
export function listSnapshots(dir: string): SnapshotFile[] {
  const out: SnapshotFile[] = [];
  for (const name of readdirSync(dir)) {
    const m = SNAPSHOT_NAME.exec(name);
    if (m) out.push({ seq: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Leftovers of a snapshot write a crash interrupted; never renamed, so never trusted. */
export function removeTempSnapshots(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('snapshot-') && name.endsWith(TEMP_SUFFIX)) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

export async function writeSnapshot(dir: string, seq: number, data: Uint8Array): Promise<string> {
  const path = join(dir, snapshotFileName(seq));
  const temp = path + TEMP_SUFFIX;
  const fh = await fsp.open(temp, 'w');
  try {
    await writeAll(fh, data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(temp, path);
  await fsyncDir(dir);
  return path;
}

/** The file must start with SQLite's magic header; anything else is not a snapshot we wrote. */
export function isSqliteImage(data: Uint8Array): boolean {
  const magic = 'SQLite format 3\0';
  if (data.length < 100) return false;
  for (let i = 0; i < magic.length; i++) if (data[i] !== magic.charCodeAt(i)) return false;
  return true;
}
