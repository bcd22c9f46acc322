/**
 * The backup file: a plain POSIX tar (ustar) archive, so anyone can open it with a standard tool,
 * whose last entry is `manifest.json` listing every other entry with its size and SHA-256. The
 * manifest comes last because media is hashed while it is streamed in; a file without it (cut
 * short by a full disk, say) is not a backup. Reading verifies every entry against it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

const BLOCK = 512;
const MAX_SIZE = 0o77777777777; // 11 octal digits: 8 GiB per entry
export const MANIFEST_NAME = 'manifest.json';
export const BACKUP_FORMAT = 'hearth-backup';
export const BACKUP_VERSION = 1;

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdTs: number;
  serverName: string;
  /** The database's last transaction in the image. */
  databaseSeq: number;
  files: ManifestEntry[];
}

export class BackupFormatError extends Error {
  override name = 'BackupFormatError';
}

function header(name: string, size: number, mtimeSec: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits long names at a '/' into prefix (155) and name (100).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new BackupFormatError(`path too long for the archive: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  if (size > MAX_SIZE) throw new BackupFormatError(`file too large for the archive: ${name}`);
  const put = (s: string, off: number, len: number): void => void h.write(s, off, len, 'utf8');
  const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(base, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(mtimeSec, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** Appends entries to an open file; every entry's SHA-256 goes into the manifest. */
export class TarWriter {
  private readonly entries: ManifestEntry[] = [];
  private readonly mtime: number;

  constructor(private readonly fh: FileHandle, now: number) {
    this.mtime = Math.floor(now / 1000);
  }

  async addBuffer(path: string, data: Uint8Array): Promise<void> {
    await this.fh.write(header(path, data.length, this.mtime));
    await this.fh.write(data);
    await this.pad(data.length);
    this.entries.push({ path, size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  }

  /** Streams a file in; `size` is taken before reading, and the read stops there. */
  async addFile(path: string, file: string, size: number): Promise<void> {
    await this.fh.write(header(path, size, this.mtime));
    const hash = createHash('sha256');
    let written = 0;
    if (size > 0) {
      for await (const chunk of createReadStream(file, { start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        await this.fh.write(chunk);
        written += chunk.length;
      }
    }
    if (written !== size) throw new BackupFormatError(`${file} changed size while it was backed up`);
    await this.pad(size);
    this.entries.push({ path, size, sha256: hash.digest('hex') });
  }

  /** Writes the manifest and the end-of-archive marker. */
  async finish(meta: Omit<BackupManifest, 'files' | 'format' | 'version'>): Promise<BackupManifest> {
    const manifest: BackupManifest = { format: BACKUP_FORMAT, version: BACKUP_VERSION, ...meta, files: [...this.entries] };
    const data = Buffer.from(JSON.stringify(manifest, null, 2));
    await this.fh.write(header(MANIFEST_NAME, data.length, this.mtime));
    await this.fh.write(data);
    await this.pad(data.length);
    await this.fh.write(Buffer.alloc(BLOCK * 2));
    return manifest;
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.fh.write(Buffer.alloc(BLOCK - rest));
  }
}

/** What a reader does with one entry's bytes; return undefined from `visit` to only hash it. */
export interface EntrySink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Reads the archive from start to end, hashing every entry, and returns the manifest after
 * checking that the entries are exactly the ones it lists, with the same sizes and hashes.
 */
export async function readBackup(file: string, visit?: (path: string, size: number) => EntrySink | undefined | Promise<EntrySink | undefined>): Promise<BackupManifest> {
  const fh = await open(file, 'r');
  const seen: ManifestEntry[] = [];
  let manifestText: string | undefined;
  try {
    let pos = 0;
    const hdr = Buffer.alloc(BLOCK);
    const chunk = Buffer.alloc(1 << 16);
    for (;;) {
      const { bytesRead } = await fh.read(hdr, 0, BLOCK, pos);
      if (bytesRead < BLOCK) throw new BackupFormatError('The backup file ends too early (it may be incomplete).');
      pos += BLOCK;
      if (hdr.every((b) => b === 0)) break;
      const { path, size } = parseHeader(hdr);
      if (manifestText !== undefined) throw new BackupFormatError('The backup has entries after its manifest.');
      const isManifest = path === MANIFEST_NAME;
      const sink = isManifest ? undefined : await visit?.(path, size);
      const hash = createHash('sha256');
      const parts: Buffer[] = [];
      let left = size;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        const { bytesRead: got } = await fh.read(chunk, 0, n, pos);
        if (got < n) throw new BackupFormatError('The backup file ends too early (it may be incomplete).');
        const piece = chunk.subarray(0, n);
        if (isManifest) parts.push(Buffer.from(piece));
        else {
          hash.update(piece);
          await sink?.write(Buffer.from(piece));
        }
        pos += n;
        left -= n;
      }
      pos += (BLOCK - (size % BLOCK)) % BLOCK;
      if (isManifest) manifestText = Buffer.concat(parts).toString('utf8');
      else {
        await sink?.end();
        seen.push({ path, size, sha256: hash.digest('hex') });
      }
    }
  } finally {
    await fh.close();
  }
  if (manifestText === undefined) throw new BackupFormatError('The backup has no manifest (it may be incomplete).');
  const manifest = parseManifest(manifestText);
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  if (listed.size !== seen.length) throw new BackupFormatError('The backup does not contain exactly the files its manifest lists.');
  for (const e of seen) {
    const m = listed.get(e.path);
    if (!m) throw new BackupFormatError(`${e.path} is not in the manifest.`);
    if (m.size !== e.size || m.sha256 !== e.sha256) throw new BackupFormatError(`${e.path} is damaged (its checksum does not match).`);
  }
  return manifest;
}

function parseHeader(h: Buffer): { path: string; size: number } {
  const str = (off: number, len: number): string => {
    const end = h.indexOf(0, off);
    return h.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
  };
  const stored = parseInt(str(148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (stored !== sum || str(257, 6) !== 'ustar') throw new BackupFormatError('This is not a Hearth backup (or it is damaged).');
  const type = str(156, 1);
  if (type !== '0' && type !== '') throw new BackupFormatError('The backup contains an entry that is not a plain file.');
  const prefix = str(345, 155);
  const name = str(0, 100);
  return { path: prefix ? `${prefix}/${name}` : name, size: parseInt(str(124, 12).trim(), 8) };
}

function parseManifest(text: string): BackupManifest {
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new BackupFormatError('The backup manifest is not valid JSON.');
  }
  if (m?.format !== BACKUP_FORMAT || typeof m.version !== 'number' || !Array.isArray(m.files) || typeof m.databaseSeq !== 'number') {
    throw new BackupFormatError('The backup manifest is not a Hearth manifest.');
  }
  if (m.version > BACKUP_VERSION) throw new BackupFormatError('This backup was made by a newer Hearth; update Hearth to restore it.');
  return m;
}
