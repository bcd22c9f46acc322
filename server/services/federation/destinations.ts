/**
 * Health of each remote server we send to (issue 5 "Federation status"; the shape of Synapse's
 * admin API v1/federation/destinations): last success, last failure and its reason, the backoff
 * (a destination is "down" until retry_last_ts + retry_interval), and what is queued for it.
 * The backoff policy follows Synapse's: the interval doubles on each failure up to a ceiling,
 * and resets on success, on "retry now", or when the destination talks to us.
 */
import type { DestinationRecord, FederationQueueStore } from '../../storage/federation-queue.ts';

export interface BackoffPolicy {
  /** First retry interval after a failure. */
  minRetryMs: number;
  /** Ceiling of the doubling. */
  maxRetryMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minRetryMs: 10_000, maxRetryMs: 60 * 60_000 };

/** The interval after one more failure. */
function nextRetryInterval(policy: BackoffPolicy, current: number): number {
  if (current <= 0) return policy.minRetryMs;
  return Math.min(policy.maxRetryMs, current * 2);
}

/** A destination as the admin API and the GUI see it. */
export interface DestinationHealth extends DestinationRecord {
  /** When the next attempt may be made (null when up). */
  retryAtTs: number | null;
  queued: { pdus: number; edus: number; toDevice: number };
}

export type DestinationOrder = 'destination' | 'retry_last_ts' | 'last_success_ts';

export class DestinationHealthService {
  /** Called by "retry now" and when a destination reaches us, to wake its queue. */
  private wake: (destination: string) => void = () => {};

  constructor(
    private readonly store: FederationQueueStore,
    readonly policy: BackoffPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sender wakes the destination's queue when its backoff is reset. */
  onReset(wake: (destination: string) => void): void {
    this.wake = wake;
  }

  get(destination: string): DestinationHealth | undefined {
    const rec = this.store.destination(destination);
    return rec ? this.withQueue(rec) : undefined;
  }

  list(opts: { from: number; limit: number; orderBy?: DestinationOrder; dir?: 'f' | 'b'; search?: string }): { destinations: DestinationHealth[]; total: number } {
    const page = this.store.listDestinations(opts);
    return { total: page.total, destinations: page.destinations.map((d) => this.withQueue(d)) };
  }

  /** Rooms the destination takes part in (admin API .../{destination}/rooms). */
  rooms(destination: string, opts: { from: number; limit: number }): { rooms: { roomId: string; streamOrdering: number }[]; total: number } {
    return this.store.roomsWithServer(destination, opts);
  }

  /** Whether a send may be attempted now. */
  isUp(destination: string): boolean {
    return this.retryAt(destination) <= this.now();
  }

  /** When the next attempt may be made (0: now). */
  retryAt(destination: string): number {
    const rec = this.store.destination(destination);
    if (!rec || rec.retryIntervalMs === 0) return 0;
    return rec.retryLastTs + rec.retryIntervalMs;
  }

  /** Records a failed transaction; returns the new retry interval. */
  async failed(destination: string, reason: string): Promise<number> {
    const interval = nextRetryInterval(this.policy, this.store.destination(destination)?.retryIntervalMs ?? 0);
    await this.store.recordFailure(destination, this.now(), reason.slice(0, 1000), interval);
    return interval;
  }

  /** "Retry now" (admin API and GUI), or the destination just reached us: clears the backoff. */
  async resetBackoff(destination: string): Promise<boolean> {
    const rec = this.store.destination(destination);
    if (!rec) return false;
    if (rec.retryIntervalMs !== 0) await this.store.resetBackoff(destination);
    this.wake(destination);
    return true;
  }

  private withQueue(rec: DestinationRecord): DestinationHealth {
    return {
      ...rec,
      retryAtTs: rec.retryIntervalMs === 0 ? null : rec.retryLastTs + rec.retryIntervalMs,
      queued: this.store.counts(rec.destination),
    };
  }
}
