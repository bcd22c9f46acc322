/**
 * Storage care (issue 4, "Storage care"): the hourly history of database and media sizes, and
 * purging a room's old history the way Synapse's purge_history does (Synapse
 * docs/admin_api/purge_history_api.md): non-state events before a point are deleted with the
 * index rows that depend on them, while state events, the events current state points at, the
 * forward extremities and the room's latest event always stay. Implemented by
 * sqljs/storage-care.ts, migration 0015-storage-care.sql.
 */

export interface StorageSample {
  /** When it was measured (ms since the epoch). */
  ts: number;
  /** Database snapshot and journal files. */
  databaseBytes: number;
  /** <dataDir>/media. */
  mediaBytes: number;
  /** Everything in the data folder. */
  totalBytes: number;
}

/** Where a purge stops: everything older goes, subject to the rules above. */
export type HistoryCutoff =
  /** Events sent before this time (origin_server_ts, ms). */
  | { kind: 'beforeTs'; ts: number }
  /** All but the room's latest `count` timeline events. */
  | { kind: 'keepLatest'; count: number }
  /** Events before this one in the timeline (the event itself stays). */
  | { kind: 'beforeEvent'; eventId: string };

export interface PurgeHistoryRequest {
  roomId: string;
  cutoff: HistoryCutoff;
  /** Also purge events this server's users sent (Synapse's delete_local_events). */
  deleteLocalEvents: boolean;
  /** This server's name: senders ending in `:<serverName>` are local. */
  serverName: string;
}

export type PurgeHistoryOutcome =
  | { ok: true; purgedEvents: number }
  | { ok: false; reason: 'unknown-room' | 'unknown-event' | 'event-in-other-room' };

export interface StorageCareStore {
  /** Stores a sample in its hour (replacing an earlier one of the same hour) and drops samples
   * older than `keepSinceTs`. */
  recordSample(sample: StorageSample, keepSinceTs: number): Promise<void>;
  /** Samples taken at or after `sinceTs`, oldest first. */
  samples(sinceTs: number): StorageSample[];
  /** Deletes the room's history before the cutoff, in one transaction. */
  purgeHistory(req: PurgeHistoryRequest): Promise<PurgeHistoryOutcome>;
}
