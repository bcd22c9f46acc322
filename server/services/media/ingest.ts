/**
 * Taking bytes in: the one path every original file takes (uploads, remote media, URL preview
 * images). Order matters for "durable before announced": stream to a temp file within the size
 * limit and quotas, fsync, rename into place, then write the metadata row (which resolves after
 * the journal fsync); only then may the caller acknowledge. A crash in between leaves at worst an
 * unreferenced file, never a row without its file.
 */
import type { Readable } from 'node:stream';
import { MatrixError, tooLarge } from '../../errors.ts';
import type { MediaKey, MediaRecord, MediaStore } from '../../storage/media.ts';
import { SizeLimitExceeded, type MediaDisk } from './disk.ts';
import type { MediaQuotas } from './quotas.ts';

export interface IngestDeps {
  store: MediaStore;
  disk: MediaDisk;
  quotas: MediaQuotas;
  now: () => number;
}

export interface IngestInput {
  key: MediaKey;
  source: Readable;
  /** Uploader, counted against their quota; null for server-owned media. */
  userId: string | null;
  contentType: string | null;
  uploadName: string | null;
  /** Declared length (Content-Length), checked before reading. */
  declaredBytes?: number;
  limit: number;
  /** Set when the row exists already as a pending id from /create: the file id it reserved. */
  pendingFileId?: string;
}

export async function ingest(deps: IngestDeps, input: IngestInput): Promise<MediaRecord> {
  if (input.declaredBytes !== undefined && input.declaredBytes > input.limit) throw uploadTooLarge(input.limit);
  const reservation = deps.quotas.begin(input.userId, input.declaredBytes);
  try {
    let written;
    try {
      written = await deps.disk.writeTemp(input.source, input.limit, (n) => reservation.add(n));
    } catch (e) {
      if (e instanceof SizeLimitExceeded) throw uploadTooLarge(input.limit);
      if (e instanceof MatrixError) throw e;
      throw new MatrixError(400, 'M_UNKNOWN', 'The upload was interrupted');
    }
    const fileId = input.pendingFileId ?? deps.disk.newFileId();
    const path = deps.disk.filePath(fileId);
    await deps.disk.commit(written.tmpPath, path);
    const now = deps.now();
    const content = { contentType: input.contentType, uploadName: input.uploadName, size: written.size, sha256: written.sha256, uploadedTs: now };
    let stored: boolean;
    if (input.pendingFileId !== undefined) {
      stored = await deps.store.completeUpload(input.key, content);
    } else {
      stored = await deps.store.insert({
        ...input.key,
        ...content,
        fileId,
        userId: input.userId,
        createdTs: now,
        expiresTs: null,
        lastAccessTs: now,
        quarantinedBy: null,
        safeFromQuarantine: false,
      });
    }
    if (!stored) {
      await deps.disk.discard(path);
      throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    }
    return deps.store.get(input.key)!;
  } finally {
    reservation.release();
  }
}

const uploadTooLarge = (limit: number): MatrixError => tooLarge(`Upload is larger than the server's limit of ${limit} bytes`);
