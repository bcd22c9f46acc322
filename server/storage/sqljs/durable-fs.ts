// Small file-system helpers for the durability rules of the sql.js engine: a rename or a new file
// is only durable once its folder is fsync'd, and a snapshot is only renamed into place after its
// own bytes are fsync'd.
import { promises as fsp, writeSync } from 'node:fs';

/** fsync a folder so renames, creations and deletions in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Windows cannot open or fsync a folder; NTFS journals the metadata itself.
    const code = (err as NodeJS.ErrnoException).code;
    if (process.platform !== 'win32' || (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES')) throw err;
  } finally {
    await fh?.close();
  }
}

/** Writes `data` in chunks (one huge write would hold a libuv thread for its whole duration). */
export async function writeAll(fh: fsp.FileHandle, data: Uint8Array, chunkBytes = 8 << 20): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const end = Math.min(offset + chunkBytes, data.length);
    const { bytesWritten } = await fh.write(data, offset, end - offset);
    offset += bytesWritten;
  }
}

/** writeAll for a small buffer, without leaving the event loop. */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}
