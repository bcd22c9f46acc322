/**
 * The sizes of the database and media over time (issue 4, "Storage care"): a sampler that
 * measures the data folder once an hour and keeps one row per hour for a year, for the admin
 * GUI's chart. A sample is also taken on demand after a purge or a compaction, so the chart shows
 * the space coming back.
 */
import type { StorageCareStore, StorageSample } from '../../storage/storage-care.ts';
import type { DiskUsage } from './stats.ts';

export const SAMPLE_INTERVAL_MS = 3_600_000;
/** Samples older than this are dropped (about 8,800 rows at one per hour). */
export const HISTORY_KEEP_MS = 366 * 24 * SAMPLE_INTERVAL_MS;

export interface StatsHistoryDeps {
  store: Pick<StorageCareStore, 'recordSample' | 'samples'>;
  /** Measures the data folder now (services/admin/stats.ts diskUsage). */
  measure(): Promise<DiskUsage>;
  now: () => number;
  log: (level: 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export class StatsHistory {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: StatsHistoryDeps) {}

  /** Samples now, then every hour. */
  start(): void {
    const tick = (): void => {
      this.running = this.sample().catch((e: unknown) => this.deps.log('warn', 'storage size sample failed', { error: String(e) }));
    };
    tick();
    this.timer = setInterval(tick, SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling; waits for a sample in progress (so storage can close after it). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Measures now and records it in the current hour's row. */
  async sample(): Promise<StorageSample> {
    const usage = await this.deps.measure();
    const ts = this.deps.now();
    const sample: StorageSample = { ts, databaseBytes: usage.databaseBytes, mediaBytes: usage.mediaBytes, totalBytes: usage.totalBytes };
    await this.deps.store.recordSample(sample, ts - HISTORY_KEEP_MS);
    return sample;
  }

  /** Samples of the last `days` days, oldest first. */
  history(days: number): StorageSample[] {
    return this.deps.store.samples(this.deps.now() - days * 24 * SAMPLE_INTERVAL_MS);
  }
}
