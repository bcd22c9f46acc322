/**
 * The media repository (spec: client-server content-repo.yaml, authed-content-repo.yaml):
 * uploads (direct, and asynchronous through /create then PUT), downloads of local and remote
 * media, thumbnails, and the housekeeping the admin API calls (listing, deletion, quarantine,
 * purging the remote cache). Files are on disk (disk.ts), metadata in storage/media.ts; every
 * original goes through ingest.ts, so it is durable before it is announced.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MatrixError, notFound } from '../../errors.ts';
import type { ListUserMediaOptions, MediaKey, MediaRecord, MediaStore } from '../../storage/media.ts';
import type { MediaDisk } from './disk.ts';
import { ingest } from './ingest.ts';
import type { MediaQuotas, QuotaSettings } from './quotas.ts';
import type { RemoteMediaCache } from './remote.ts';
import { PREVIEW_CACHE_MS } from './url-preview.ts';
import { isThumbnailable, standardSize, UPLOAD_TIME_THUMBNAILS, variantName, type Thumbnailer, type ThumbnailSpec } from './thumbnails.ts';

// The records the admin API lists (the API never imports storage).
export type { ListUserMediaOptions, MediaRecord } from '../../storage/media.ts';

export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Unused ids from /create lapse after a day (the spec's recommended default). */
export const PENDING_ID_LIFETIME_MS = 24 * 3600_000;
/** Pending ids one user may hold at once (spec: servers should limit them). */
export const MAX_PENDING_PER_USER = 10;
/** The longest a download waits for a pending upload (timeout_ms is capped to this). */
export const MAX_WAIT_MS = 60_000;
const DEFAULT_WAIT_MS = 20_000;

export interface MediaSettings extends QuotaSettings {
  maxUploadBytes?: number;
  remoteMediaRetentionMs?: number;
}

export interface MediaRepositoryDeps {
  store: MediaStore;
  disk: MediaDisk;
  quotas: MediaQuotas;
  thumbnailer: Thumbnailer;
  remote: RemoteMediaCache;
  serverName: string;
  settings: () => MediaSettings;
  now: () => number;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface UploadInput {
  body: Readable;
  contentType: string | null;
  filename: string | null;
  contentLength?: number;
}

/** A file ready to be served: the api layer streams `path` with Range support. */
export interface MediaFile {
  path: string;
  size: number;
  contentType: string | null;
  filename: string | null;
}

export interface FetchOptions {
  timeoutMs?: number;
  /** Legacy endpoints' allow_remote=false; the authenticated ones always allow remote media. */
  allowRemote?: boolean;
}

const MEDIA_ID = /^[A-Za-z0-9_-]+$/;

export function mxcUri(key: MediaKey): string {
  return `mxc://${key.origin}/${key.mediaId}`;
}

export class MediaRepository {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly uploading = new Set<string>();
  private readonly thumbnailing = new Map<string, Promise<MediaFile>>();
  /** Last-access times batched in memory: one journaled write per minute, not one per download. */
  private readonly accessed = new Map<string, MediaKey & { ts: number }>();
  private readonly background = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  /** Minutes since start: the housekeeping tick is per minute, the heavy part hourly. */
  private minutes = 0;

  constructor(private readonly deps: MediaRepositoryDeps) {}

  maxUploadBytes(): number {
    return this.deps.settings().maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  /** GET /media/config. */
  config(): Record<string, unknown> {
    return { 'm.upload.size': this.maxUploadBytes() };
  }

  /** POST /_matrix/media/v3/upload: stores the content and returns its mxc:// URI once durable. */
  async upload(userId: string, input: UploadInput): Promise<string> {
    const key = { origin: this.deps.serverName, mediaId: newMediaId() };
    await this.ingestUpload(key, userId, input);
    return mxcUri(key);
  }

  /** Ingests an upload's content (into the file reserved by /create, if given), then wakes its waiters. */
  private async ingestUpload(key: MediaKey, userId: string | null, input: UploadInput, pendingFileId?: string): Promise<MediaRecord> {
    const rec = await ingest(this.deps, {
      key,
      source: input.body,
      userId,
      contentType: input.contentType,
      uploadName: input.filename,
      declaredBytes: input.contentLength,
      limit: this.maxUploadBytes(),
      pendingFileId,
    });
    this.afterUpload(rec);
    return rec;
  }

  /** POST /_matrix/media/v1/create: reserves an mxc:// URI for a later PUT. */
  async create(userId: string): Promise<{ content_uri: string; unused_expires_at: number }> {
    const now = this.deps.now();
    if (this.deps.store.countPending(userId, now) >= MAX_PENDING_PER_USER) {
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many pending uploads: finish or abandon some first', { retry_after_ms: 60_000 });
    }
    const key = { origin: this.deps.serverName, mediaId: newMediaId() };
    const expiresTs = now + PENDING_ID_LIFETIME_MS;
    await this.deps.store.insert({
      ...key,
      fileId: this.deps.disk.newFileId(),
      userId,
      contentType: null,
      uploadName: null,
      size: null,
      sha256: null,
      createdTs: now,
      uploadedTs: null,
      expiresTs,
      lastAccessTs: now,
      quarantinedBy: null,
      safeFromQuarantine: false,
    });
    return { content_uri: mxcUri(key), unused_expires_at: expiresTs };
  }

  /** PUT /_matrix/media/v3/upload/{serverName}/{mediaId}: the content of an id from /create. */
  async uploadTo(userId: string, key: MediaKey, input: UploadInput): Promise<void> {
    const rec = key.origin === this.deps.serverName && MEDIA_ID.test(key.mediaId) ? this.deps.store.get(key) : undefined;
    if (!rec || (rec.size === null && (rec.expiresTs ?? 0) <= this.deps.now())) throw notFound('Unknown media ID');
    if (rec.userId !== userId) throw new MatrixError(403, 'M_FORBIDDEN', 'This media ID was created by another user');
    const k = keyString(key);
    if (rec.size !== null || this.uploading.has(k)) throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    this.uploading.add(k);
    try {
      await this.ingestUpload(key, userId, input, rec.fileId);
    } finally {
      this.uploading.delete(k);
    }
  }

  /** The original file of `key`, local or (fetched and cached) remote. */
  async download(key: MediaKey, opts: FetchOptions = {}): Promise<MediaFile> {
    const rec = await this.resolve(key, opts);
    return { path: this.deps.disk.filePath(rec.fileId), size: rec.size!, contentType: rec.contentType, filename: rec.uploadName };
  }

  /**
   * A thumbnail of `key` (spec: "Thumbnails"): served from the smallest standard size at least
   * as large as asked, generated on first request and cached (the common ones exist already,
   * made at upload). Concurrent requests for the same variant share one generation.
   */
  async thumbnail(key: MediaKey, req: ThumbnailSpec, opts: FetchOptions = {}): Promise<MediaFile> {
    const rec = await this.resolve(key, opts);
    if (!isThumbnailable(rec.contentType)) throw new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
    const [width, height] = standardSize(req.width, req.height);
    const spec: ThumbnailSpec = { width, height, method: req.method, animated: req.animated };
    return this.thumbnailOf(rec, spec);
  }

  private async thumbnailOf(rec: MediaRecord, spec: ThumbnailSpec): Promise<MediaFile> {
    const path = this.deps.disk.thumbnailPath(rec.fileId, variantName(spec));
    const row = this.deps.store.getThumbnail(rec, spec.width, spec.height, spec.method, spec.animated);
    if (row && (await this.deps.disk.exists(path))) return { path, size: row.size, contentType: row.contentType, filename: null };
    const k = `${keyString(rec)}/${variantName(spec)}`;
    let p = this.thumbnailing.get(k);
    if (!p) {
      p = this.generateThumbnail(rec, spec, path).finally(() => this.thumbnailing.delete(k));
      this.thumbnailing.set(k, p);
    }
    return p;
  }

  private async generateThumbnail(rec: MediaRecord, spec: ThumbnailSpec, path: string): Promise<MediaFile> {
    // A cache entry: written next to its final name and renamed, so a reader never sees half a file;
    // no fsync, because a lost thumbnail is simply generated again.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await this.deps.disk.ensureParent(tmp);
    const out = await this.deps.thumbnailer.generate(this.deps.disk.filePath(rec.fileId), tmp, spec).catch(async (e: unknown) => {
      await this.deps.disk.discard(tmp);
      throw e;
    });
    await this.deps.disk.publishCacheFile(tmp, path);
    await this.deps.store.putThumbnail({ origin: rec.origin, mediaId: rec.mediaId, ...spec, contentType: out.contentType, size: out.size });
    return { path, size: out.size, contentType: out.contentType, filename: null };
  }

  /** Finds a servable record: waits for pending uploads, fetches remote media, hides quarantined media. */
  private async resolve(key: MediaKey, opts: FetchOptions): Promise<MediaRecord> {
    if (!MEDIA_ID.test(key.mediaId)) throw notFound('Media not found');
    let rec: MediaRecord | undefined;
    if (key.origin === this.deps.serverName) {
      rec = this.deps.store.get(key);
      if (rec && rec.size === null) rec = await this.waitForUpload(key, opts.timeoutMs);
    } else {
      if (opts.allowRemote === false) throw notFound('Media not found (remote media not requested)');
      rec = await this.deps.remote.get(key);
    }
    if (!rec || rec.quarantinedBy !== null) throw notFound('Media not found');
    this.accessed.set(keyString(key), { ...key, ts: this.deps.now() });
    return rec;
  }

  private async waitForUpload(key: MediaKey, timeoutMs = DEFAULT_WAIT_MS): Promise<MediaRecord | undefined> {
    const k = keyString(key);
    const wait = Math.min(Math.max(timeoutMs, 0), MAX_WAIT_MS);
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(k) ?? new Set();
      this.waiters.set(k, set);
      const done = (): void => {
        clearTimeout(t);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(k);
        resolve();
      };
      const t = setTimeout(done, wait);
      set.add(done);
    });
    const rec = this.deps.store.get(key);
    if (rec && rec.size === null) {
      if ((rec.expiresTs ?? 0) <= this.deps.now()) return undefined;
      throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
    }
    return rec;
  }

  /** Wakes downloads waiting for this media and makes the common thumbnails in the background. */
  private afterUpload(rec: MediaRecord): void {
    for (const wake of [...(this.waiters.get(keyString(rec)) ?? [])]) wake();
    if (!isThumbnailable(rec.contentType)) return;
    this.track(
      (async () => {
        for (const spec of UPLOAD_TIME_THUMBNAILS) await this.thumbnailOf(rec, spec);
      })().catch((e: unknown) => {
        // Undecodable images are common (a .png that is not one); the request path reports them.
        if (!(e instanceof MatrixError)) this.deps.log('warn', 'thumbnail generation failed', { mediaId: rec.mediaId, error: String(e) });
      }),
    );
  }

  /** Stores server-owned bytes (URL preview images) as local media. */
  async storeServerMedia(body: Buffer, contentType: string): Promise<MediaRecord> {
    const key = { origin: this.deps.serverName, mediaId: newMediaId() };
    return this.ingestUpload(key, null, { body: Readable.from([body]), contentType, filename: null, contentLength: body.length });
  }

  // ---- Housekeeping, and the services the Synapse admin media API calls ----

  /** GET /_synapse/admin/v1/media/{serverName}/{mediaId}. */
  info(key: MediaKey): MediaRecord | undefined {
    return this.deps.store.get(key);
  }

  /** GET /_synapse/admin/v1/users/{userId}/media. */
  listUserMedia(userId: string, opts: ListUserMediaOptions): { media: MediaRecord[]; total: number } {
    return this.deps.store.listByUser(userId, opts);
  }

  /** Bytes a user has uploaded (statistics and quota display). */
  userUsage(userId: string): number {
    return this.deps.store.userUsage(userId);
  }

  /** DELETE /_synapse/admin/v1/media/{serverName}/{mediaId} (local or cached remote). False when unknown. */
  async deleteMedia(key: MediaKey): Promise<boolean> {
    const rec = this.deps.store.get(key);
    if (!rec) return false;
    await this.remove([rec]);
    return true;
  }

  /** DELETE /_synapse/admin/v1/users/{userId}/media: every upload of a user; returns the deleted media ids. */
  async deleteUserMedia(userId: string): Promise<string[]> {
    const recs = this.deps.store.allByUser(userId);
    await this.remove(recs);
    return recs.map((r) => r.mediaId);
  }

  /** POST /_synapse/admin/v1/media/delete?before_ts&size_gt&keep_profiles: local media created
   * before `beforeTs` and larger than `sizeGt`; `keep` spares some (e.g. avatars in use). */
  async deleteLocalMediaBefore(beforeTs: number, sizeGt = 0, keep: (mxc: string) => boolean = () => false): Promise<string[]> {
    const recs = this.deps.store.localCreatedBefore(this.deps.serverName, beforeTs, sizeGt).filter((r) => !keep(mxcUri(r)) && !r.safeFromQuarantine);
    await this.remove(recs);
    return recs.map((r) => r.mediaId);
  }

  /** POST /_synapse/admin/v1/purge_media_cache?before_ts: drops cached remote media last used before `beforeTs`. */
  async purgeRemoteMedia(beforeTs: number): Promise<number> {
    await this.flushAccessTimes();
    const recs = this.deps.store.remoteAccessedBefore(this.deps.serverName, beforeTs);
    await this.remove(recs);
    return recs.length;
  }

  /** POST /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId} (and unquarantine with by = null). */
  async quarantine(key: MediaKey, by: string | null): Promise<boolean> {
    return (await this.deps.store.setQuarantine([key], by)) === 1;
  }

  /** POST /_synapse/admin/v1/user/{userId}/media/quarantine: returns how many were quarantined. */
  async quarantineUserMedia(userId: string, by: string): Promise<number> {
    return this.deps.store.setQuarantine(this.deps.store.allByUser(userId), by);
  }

  /** POST /_synapse/admin/v1/media/protect/{mediaId} (and unprotect). */
  async setSafeFromQuarantine(key: MediaKey, safe: boolean): Promise<boolean> {
    return this.deps.store.setSafeFromQuarantine(key, safe);
  }

  private async remove(recs: readonly MediaRecord[]): Promise<void> {
    if (recs.length === 0) return;
    // Rows first: once they are gone nothing serves the files, which can then go.
    await this.deps.store.delete(recs);
    for (const r of recs) await this.deps.disk.removeMedia(r.fileId);
  }

  /** Starts the hourly housekeeping: lapsed pending ids, the remote cache retention, old previews. */
  start(): void {
    this.timer = setInterval(() => this.track(this.housekeeping().catch((e: unknown) => this.deps.log('error', 'media housekeeping failed', { error: String(e) }))), 60_000);
    this.timer.unref();
  }

  private async housekeeping(): Promise<void> {
    await this.flushAccessTimes();
    if (++this.minutes % 60 !== 0) return;
    const now = this.deps.now();
    await this.remove(this.deps.store.expiredPending(now));
    const retention = this.deps.settings().remoteMediaRetentionMs;
    if (retention !== undefined) await this.purgeRemoteMedia(now - retention);
    await this.deps.store.deletePreviewsBefore(now - PREVIEW_CACHE_MS);
  }

  async flushAccessTimes(): Promise<void> {
    if (this.accessed.size === 0) return;
    const entries = [...this.accessed.values()];
    this.accessed.clear();
    await this.deps.store.touch(entries);
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Waits for background thumbnails and flushes access times (before storage closes). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    await Promise.allSettled([...this.background]);
    await this.flushAccessTimes();
  }
}

/** 24 characters from the CSPRNG, in the mxc media-id alphabet [A-Za-z0-9_-]. */
function newMediaId(): string {
  return randomBytes(18).toString('base64url');
}

function keyString(k: MediaKey): string {
  return `${k.origin}/${k.mediaId}`;
}
