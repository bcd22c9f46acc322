/**
 * Where media bytes live on disk and how they get there durably. Layout under <dataDir>/media/:
 * files/ab/cd/<fileId> (originals, local and cached remote), thumbnails/ab/cd/<fileId>/<variant>,
 * tmp/ (uploads in progress). File ids are lowercase hex from the CSPRNG, never a media id:
 * media ids are case-sensitive and macOS and Windows file systems are not.
 * A file is streamed to tmp/ (never held whole in memory), fsync'd, renamed into place and its
 * folder fsync'd, so it is durable before the metadata row that announces it is written.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface WrittenFile {
  tmpPath: string;
  size: number;
  sha256: string;
}

/** Thrown by the byte counter when a stream passes its limit; the caller maps it to an error. */
export class SizeLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

export class MediaDisk {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'media');
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'tmp'), { recursive: true });
    // Leftovers of uploads interrupted by a crash: never announced, so safe to drop.
    for (const name of await readdir(join(this.root, 'tmp'))) await rm(join(this.root, 'tmp', name), { force: true });
  }

  newFileId(): string {
    return randomBytes(16).toString('hex');
  }

  filePath(fileId: string): string {
    return join(this.root, 'files', fileId.slice(0, 2), fileId.slice(2, 4), fileId);
  }

  thumbnailDir(fileId: string): string {
    return join(this.root, 'thumbnails', fileId.slice(0, 2), fileId.slice(2, 4), fileId);
  }

  thumbnailPath(fileId: string, variant: string): string {
    return join(this.thumbnailDir(fileId), variant);
  }

  /**
   * Streams `source` to a new temp file, hashing and counting. `onChunk` sees each chunk's size
   * before it is written and may throw (quota) to abort; more than `limit` bytes aborts with
   * SizeLimitExceeded. On any failure the temp file is removed.
   */
  async writeTemp(source: Readable, limit: number, onChunk?: (bytes: number) => void): Promise<WrittenFile> {
    const tmpPath = join(this.root, 'tmp', randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > limit) return cb(new SizeLimitExceeded(limit));
        try {
          onChunk?.(chunk.length);
        } catch (e) {
          return cb(e as Error);
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      // flush: fsync before close, so the bytes are on disk before the rename publishes them.
      await pipeline(source, counter, createWriteStream(tmpPath, { flush: true }));
    } catch (e) {
      await rm(tmpPath, { force: true });
      throw e;
    }
    return { tmpPath, size, sha256: hash.digest('hex') };
  }

  /** Moves a finished temp file to its final path and makes the rename durable. */
  async commit(tmpPath: string, finalPath: string): Promise<void> {
    await mkdir(dirname(finalPath), { recursive: true });
    await rename(tmpPath, finalPath);
    await fsyncDir(dirname(finalPath));
  }

  async ensureParent(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
  }

  /** Renames a cache file (thumbnail) into place without fsync: losing one only costs regenerating it. */
  async publishCacheFile(tmpPath: string, finalPath: string): Promise<void> {
    await rename(tmpPath, finalPath);
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** Removes an original and all its thumbnails. */
  async removeMedia(fileId: string): Promise<void> {
    await rm(this.filePath(fileId), { force: true });
    await rm(this.thumbnailDir(fileId), { recursive: true, force: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  }
}

/** fsync of a folder makes a rename in it durable; Windows cannot open folders, and there NTFS
 * journals the rename itself. */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
