/**
 * Storage of the media repository's metadata (spec: client-server content-repo.yaml,
 * authed-content-repo.yaml; server-server content_repository.yaml): one record per mxc:// URI we
 * hold (our uploads and the cache of remote media), their thumbnails, and URL preview results.
 * The bytes themselves are files owned by services/media/. Implemented by sqljs/media.ts,
 * migration 0010-media.sql.
 */

export interface MediaKey {
  /** The server name of the mxc:// URI (ours for local media). */
  origin: string;
  mediaId: string;
}

export interface MediaRecord extends MediaKey {
  /** Name of the file under media/files/ (lowercase hex). */
  fileId: string;
  /** Uploader (local media); null for remote media and URL preview images. */
  userId: string | null;
  contentType: string | null;
  uploadName: string | null;
  /** Null while an id created by /create waits for its content. */
  size: number | null;
  sha256: string | null;
  createdTs: number;
  uploadedTs: number | null;
  /** When a pending id lapses; null once uploaded. */
  expiresTs: number | null;
  lastAccessTs: number;
  quarantinedBy: string | null;
  safeFromQuarantine: boolean;
}

export interface UploadedContent {
  contentType: string | null;
  uploadName: string | null;
  size: number;
  sha256: string;
  uploadedTs: number;
}

export interface ThumbnailRecord extends MediaKey {
  width: number;
  height: number;
  method: 'crop' | 'scale';
  animated: boolean;
  contentType: string;
  size: number;
}

export interface ListUserMediaOptions {
  from: number;
  limit: number;
  orderBy: 'created_ts' | 'size' | 'last_access_ts' | 'media_id' | 'upload_name' | 'content_type';
  dir: 'f' | 'b';
}

export interface MediaStore {
  get(key: MediaKey): MediaRecord | undefined;
  /** Inserts a new record (pending or complete); false when the key exists already. */
  insert(rec: MediaRecord): Promise<boolean>;
  /** Fills in a pending record's content; false when it is unknown or already has content. */
  completeUpload(key: MediaKey, content: UploadedContent): Promise<boolean>;
  /** Pending (created, not uploaded, not expired) ids of a user. */
  countPending(userId: string, now: number): number;
  /** Bytes of content uploaded by a user. */
  userUsage(userId: string): number;
  /** Bytes of all stored originals, local and cached remote. */
  totalUsage(): number;
  /** A user's uploads, for the admin API. */
  listByUser(userId: string, opts: ListUserMediaOptions): { media: MediaRecord[]; total: number };
  /** Every local record uploaded by a user (any state). */
  allByUser(userId: string): MediaRecord[];
  /** Remote (origin ≠ localOrigin) records last accessed before `beforeTs`. */
  remoteAccessedBefore(localOrigin: string, beforeTs: number): MediaRecord[];
  /** Local records created before `beforeTs`, larger than `sizeGt` bytes. */
  localCreatedBefore(localOrigin: string, beforeTs: number, sizeGt: number): MediaRecord[];
  /** Pending ids whose expiry has passed. */
  expiredPending(now: number): MediaRecord[];
  /** Deletes records with their thumbnail rows. */
  delete(keys: readonly MediaKey[]): Promise<void>;
  /** Sets (by ≠ null) or clears quarantine; media marked safe is skipped when setting. Returns rows changed. */
  setQuarantine(keys: readonly MediaKey[], by: string | null): Promise<number>;
  setSafeFromQuarantine(key: MediaKey, safe: boolean): Promise<boolean>;
  /** Records last access times (batched by the service). */
  touch(entries: readonly (MediaKey & { ts: number })[]): Promise<void>;
  getThumbnail(key: MediaKey, width: number, height: number, method: 'crop' | 'scale', animated: boolean): ThumbnailRecord | undefined;
  putThumbnail(rec: ThumbnailRecord): Promise<void>;
  getPreview(url: string): { fetchedTs: number; og: Record<string, unknown> } | undefined;
  putPreview(url: string, fetchedTs: number, og: Record<string, unknown>): Promise<void>;
  deletePreviewsBefore(beforeTs: number): Promise<number>;
}
