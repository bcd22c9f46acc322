/**
 * Storage care (issue 4, "Storage care"), so a family server on a small machine keeps its disk in
 * check: current sizes and their history, purging a room's old history (Synapse's purge_history,
 * docs/admin_api/purge_history_api.md, including its purge_id status for the Synapse route),
 * purging cached remote media, and compaction so the space of deleted rows really goes back to
 * the disk. Also the limit on the complexity of remote rooms users may join (Synapse's
 * limit_remote_rooms): a room's complexity is its current state events / 500, as the resident
 * server reports at /_matrix/federation/unstable/rooms/{roomId}/complexity.
 */
import { randomBytes } from 'node:crypto';
import { MatrixError, notFound } from '../../errors.ts';
import { errorText } from '../../error-text.ts';
import type { CompactResult } from '../../storage/storage.ts';
import type { HistoryCutoff, StorageCareStore, StorageSample } from '../../storage/storage-care.ts';
import type { Bus } from '../bus.ts';
import type { StatsHistory } from './stats-history.ts';
export type { HistoryCutoff } from '../../storage/storage-care.ts';
import type { DiskUsage } from './stats.ts';

const DAY_MS = 24 * 3_600_000;
/** Synapse forgets a finished purge's status after a day. */
const PURGE_STATUS_KEEP_MS = DAY_MS;

// ---- remote room complexity (Synapse: limit_remote_rooms) ----------------------------------------

/** Synapse's default limit_remote_rooms.complexity_error. */
export const COMPLEXITY_ERROR =
  'Your homeserver is unable to join rooms this large or complex. Please speak to your server administrator, or upgrade your instance to join this room.';

/** Synapse's get_room_complexity: `{v1: round(current state events / 500, 2)}`. */
export function roomComplexity(stateEventCount: number): { v1: number } {
  return { v1: Math.round((stateEventCount / 500) * 100) / 100 };
}

/**
 * Refuses a join to a remote room whose complexity is above `maxComplexity` (the
 * maxRemoteRoomComplexity setting; no limit when undefined) with Synapse's 400
 * M_RESOURCE_LIMIT_EXCEEDED. Call it before make_join with the resident's reported state count,
 * and again with the number of state events send_join returned, before storing them.
 */
export function checkRemoteRoomComplexity(stateEventCount: number, maxComplexity: number | undefined): void {
  checkReportedRoomComplexity(roomComplexity(stateEventCount).v1, maxComplexity);
}

/** The same check on a complexity the resident reported (fetchRemoteRoomComplexity); undefined passes. */
export function checkReportedRoomComplexity(v1: number | undefined, maxComplexity: number | undefined): void {
  if (v1 !== undefined && maxComplexity !== undefined && v1 > maxComplexity) throw new MatrixError(400, 'M_RESOURCE_LIMIT_EXCEEDED', COMPLEXITY_ERROR);
}

/**
 * Asks a resident server for a room's complexity (Synapse's get_room_complexity: GET
 * /_matrix/federation/unstable/rooms/{roomId}/complexity). Undefined when it does not say (not
 * Synapse or Hearth, a private room, unreachable): the check after send_join still applies.
 */
export async function fetchRemoteRoomComplexity(
  client: { request<T>(destination: string, method: 'GET', path: string, opts?: { timeoutMs?: number }): Promise<T> },
  destination: string,
  roomId: string,
): Promise<number | undefined> {
  try {
    const res = await client.request<{ v1?: unknown }>(destination, 'GET', `/_matrix/federation/unstable/rooms/${encodeURIComponent(roomId)}/complexity`, {
      timeoutMs: 10_000,
    });
    return typeof res?.v1 === 'number' && Number.isFinite(res.v1) ? res.v1 : undefined;
  } catch {
    return undefined;
  }
}

// ---- sizes, purges and compaction ---------------------------------------------------------------

export interface StorageCareDeps {
  store: Pick<StorageCareStore, 'purgeHistory'>;
  history: StatsHistory;
  measure(): Promise<DiskUsage>;
  /** Database.compact(). */
  compact(): Promise<CompactResult>;
  /** The media repository's cache purge (media/store.ts purgeRemoteMedia): how many went. */
  purgeRemoteMedia(beforeTs: number): Promise<number>;
  /** Gets `roomHistoryPurged` once a purge is done. */
  bus: Pick<Bus, 'publish'>;
  serverName: string;
  now: () => number;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface CompactionReport extends CompactResult {
  durationMs: number;
}

export interface PurgeHistoryReport {
  purgedEvents: number;
  compaction?: CompactionReport;
}

export interface PurgeRemoteMediaReport {
  deletedMedia: number;
  compaction?: CompactionReport;
}

/** Synapse's purge status: `active`, `complete` or `failed`. */
export interface PurgeStatus {
  status: 'active' | 'complete' | 'failed';
  error?: string;
  finishedTs?: number;
}

export class StorageCare {
  private readonly purges = new Map<string, PurgeStatus>();
  private readonly inProgress = new Set<string>();

  constructor(private readonly deps: StorageCareDeps) {}

  /** The sizes now (measured, not the last sample). */
  sizes(): Promise<DiskUsage & { measuredTs: number }> {
    return this.deps.measure().then((u) => ({ ...u, measuredTs: this.deps.now() }));
  }

  history(days: number): StorageSample[] {
    return this.deps.history.history(days);
  }

  /**
   * Purges the room's history before the cutoff (state, the latest event and the forward
   * extremities stay), then compacts when asked. 404 for an unknown room or event.
   */
  async purgeHistory(roomId: string, cutoff: HistoryCutoff, opts: { deleteLocalEvents: boolean; compact: boolean }): Promise<PurgeHistoryReport> {
    if (this.inProgress.has(roomId)) throw new MatrixError(400, 'M_UNKNOWN', `History purge already in progress for ${roomId}`);
    this.inProgress.add(roomId);
    try {
      const outcome = await this.deps.store.purgeHistory({ roomId, cutoff, deleteLocalEvents: opts.deleteLocalEvents, serverName: this.deps.serverName });
      if (!outcome.ok) {
        if (outcome.reason === 'unknown-room') throw notFound(`Unknown room ${roomId}`);
        if (outcome.reason === 'unknown-event') throw notFound('Event not found');
        throw new MatrixError(400, 'M_UNKNOWN', 'Event is for wrong room.');
      }
      this.deps.bus.publish('roomHistoryPurged', { roomId });
      this.deps.log('info', 'purged room history', { roomId, purgedEvents: outcome.purgedEvents });
      const report: PurgeHistoryReport = { purgedEvents: outcome.purgedEvents };
      if (opts.compact) report.compaction = await this.compact();
      return report;
    } finally {
      this.inProgress.delete(roomId);
    }
  }

  /**
   * Synapse's POST /purge_history: the purge is one transaction, so it runs before the answer;
   * what Synapse checks up front (unknown room or event, event in another room, a purge already
   * running) is thrown, anything else is recorded as a failed purge. The id reads the status.
   */
  async startPurge(roomId: string, cutoff: HistoryCutoff, deleteLocalEvents: boolean): Promise<string> {
    const purgeId = randomBytes(12).toString('base64url');
    const status: PurgeStatus = { status: 'active' };
    this.purges.set(purgeId, status);
    try {
      await this.purgeHistory(roomId, cutoff, { deleteLocalEvents, compact: false });
      status.status = 'complete';
    } catch (e) {
      if (e instanceof MatrixError) {
        this.purges.delete(purgeId);
        throw e;
      }
      status.status = 'failed';
      status.error = errorText(e);
    } finally {
      status.finishedTs = this.deps.now();
    }
    return purgeId;
  }

  purgeStatus(purgeId: string): PurgeStatus | undefined {
    const now = this.deps.now();
    for (const [id, s] of this.purges) if (s.finishedTs !== undefined && now - s.finishedTs > PURGE_STATUS_KEEP_MS) this.purges.delete(id);
    return this.purges.get(purgeId);
  }

  /** Drops remote media not used for `olderThanDays` days from the cache, then compacts when asked. */
  async purgeRemoteMedia(olderThanDays: number, opts: { compact: boolean }): Promise<PurgeRemoteMediaReport> {
    const deletedMedia = await this.deps.purgeRemoteMedia(this.deps.now() - olderThanDays * DAY_MS);
    this.deps.log('info', 'purged remote media cache', { olderThanDays, deletedMedia });
    const report: PurgeRemoteMediaReport = { deletedMedia };
    if (opts.compact) report.compaction = await this.compact();
    else await this.sampleQuietly();
    return report;
  }

  /** Compacts the database, then records a size sample so the chart shows the result. */
  async compact(): Promise<CompactionReport> {
    const started = performance.now();
    const result = await this.deps.compact();
    const report = { ...result, durationMs: Math.round(performance.now() - started) };
    this.deps.log('info', 'database compacted', { ...report });
    await this.sampleQuietly();
    return report;
  }

  private async sampleQuietly(): Promise<void> {
    await this.deps.history.sample().catch((e: unknown) => this.deps.log('warn', 'storage size sample failed', { error: String(e) }));
  }
}
