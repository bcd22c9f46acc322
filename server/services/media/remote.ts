/**
 * Remote media (spec: client-server "Content repository", remote media; server-server
 * content_repository.yaml): the first request for another server's mxc:// URI fetches it over
 * federation and caches it under media/files/ like our own uploads; later requests are served
 * from the cache until the retention setting drops it. The fetch itself (signed GET of
 * /_matrix/federation/v1/media/download/{mediaId}, multipart parsing) is a RemoteMediaFetcher
 * (services/federation/media-fetcher.ts, plugged in by wiring-media.ts); without one, remote media
 * is simply not found. Thumbnails of remote media are made here from the cached original.
 */
import type { Readable } from 'node:stream';
import { MatrixError } from '../../errors.ts';
import type { MediaKey, MediaRecord } from '../../storage/media.ts';
import { ingest, type IngestDeps } from './ingest.ts';

export interface RemoteMedia {
  stream: Readable;
  contentType: string | null;
  filename: string | null;
}

export interface RemoteMediaFetcher {
  /** Fetches `mxc://serverName/mediaId`; rejects with MatrixError 404 when the remote has no such media. */
  fetch(serverName: string, mediaId: string): Promise<RemoteMedia>;
}

export interface RemoteMediaDeps extends IngestDeps {
  /** Read on each fetch, so the federation part can plug its fetcher in after the media part is built. */
  fetcher: () => RemoteMediaFetcher | undefined;
  maxBytes: () => number;
  log: (level: 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export class RemoteMediaCache {
  private readonly inflight = new Map<string, Promise<MediaRecord>>();

  constructor(private readonly deps: RemoteMediaDeps) {}

  /** The cached record, fetching it first when absent. Concurrent requests share one fetch. */
  async get(key: MediaKey): Promise<MediaRecord> {
    const cached = this.deps.store.get(key);
    if (cached && cached.size !== null && (await this.deps.disk.exists(this.deps.disk.filePath(cached.fileId)))) return cached;
    const k = `${key.origin}/${key.mediaId}`;
    let p = this.inflight.get(k);
    if (!p) {
      p = this.fetchAndStore(key, cached).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  private async fetchAndStore(key: MediaKey, stale: MediaRecord | undefined): Promise<MediaRecord> {
    const fetcher = this.deps.fetcher();
    if (!fetcher) throw new MatrixError(404, 'M_NOT_FOUND', 'Remote media is not available: federation is not enabled');
    // A row whose file vanished (deleted by hand) is dropped and fetched anew.
    if (stale) await this.deps.store.delete([key]);
    let remote: RemoteMedia;
    try {
      remote = await fetcher.fetch(key.origin, key.mediaId);
    } catch (e) {
      if (e instanceof MatrixError && e.status === 404) throw new MatrixError(404, 'M_NOT_FOUND', 'Remote media not found');
      if (e instanceof MatrixError && e.errcode === 'M_TOO_LARGE') throw e;
      this.deps.log('warn', 'remote media fetch failed', { origin: key.origin, mediaId: key.mediaId, error: String(e) });
      throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch media from ${key.origin}`);
    }
    try {
      return await ingest(this.deps, {
        key,
        source: remote.stream,
        userId: null,
        contentType: remote.contentType,
        uploadName: remote.filename,
        limit: this.deps.maxBytes(),
      });
    } catch (e) {
      remote.stream.destroy();
      if (e instanceof MatrixError && e.errcode === 'M_TOO_LARGE') throw new MatrixError(502, 'M_TOO_LARGE', 'Remote content is too large to serve');
      throw e;
    }
  }
}
