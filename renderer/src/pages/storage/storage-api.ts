/**
 * The storage care endpoints (/_hearth/api/v1/storage, server/api/admin/hearth/storage.ts): sizes
 * now and over time, purges (each followed by a compaction) and compaction alone. Shapes mirror
 * services/admin/storage-care.ts; the two settings go through PUT /settings.
 */
import { request } from '../../api/client.ts';

const P = '/_hearth/api/v1/storage';

export interface StorageSample {
  ts: number;
  databaseBytes: number;
  mediaBytes: number;
  totalBytes: number;
}

export interface StorageResponse {
  current: { databaseBytes: number; mediaBytes: number; totalBytes: number; measuredTs: number };
  history: StorageSample[];
  remoteMediaRetentionMs: number | null;
  maxRemoteRoomComplexity: number | null;
}

export interface CompactionReport {
  bytesBefore: number;
  bytesAfter: number;
  durationMs: number;
}

export const storageApi = {
  get: (token: string, days: number) => request<StorageResponse>('GET', `${P}?days=${days}`, { token }),
  compact: (token: string) => request<CompactionReport>('POST', `${P}/compact`, { token, body: {} }),
  purgeRemoteMedia: (token: string, olderThanDays: number) =>
    request<{ deletedMedia: number; compaction?: CompactionReport }>('POST', `${P}/purge-remote-media`, { token, body: { olderThanDays } }),
  purgeHistory: (token: string, roomId: string, beforeTs: number) =>
    request<{ purgedEvents: number; compaction?: CompactionReport }>('POST', `${P}/purge-history`, { token, body: { roomId, beforeTs } }),
};
