// Appends journal frames with group commit: while one write+fsync is in flight, further frames
// queue up and the next round writes and fsyncs all of them together, so N concurrent
// transactions cost far fewer than N fsyncs. A checkpoint rotates to a new journal file at the
// export point; frames already queued for the old file still go there (and are fsync'd before
// anything in the new file), so the files stay in sequence order and nothing is lost while the
// snapshot is written.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeAll, writeAllSync } from './durable-fs.ts';
import { journalFileName } from './journal.ts';
import type { StorageLog } from '../storage.ts';

/** Batches up to this size are written without leaving the event loop. */
const SYNC_WRITE_MAX_BYTES = 256 * 1024;

interface Segment {
  startSeq: number;
  path: string;
  fh: fsp.FileHandle | null;
  /** Bytes appended, including frames still queued. */
  bytes: number;
  pending: Buffer[];
  pendingLastSeq: number;
  /** A file created by us must have its folder entry fsync'd once before acknowledging. */
  needsDirSync: boolean;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface ActiveJournal {
  startSeq: number;
  /** Current valid length of the file (0 when it does not exist yet). */
  bytes: number;
  exists: boolean;
}

export class JournalWriter {
  private readonly segments: Segment[] = [];
  /** Ordered by seq, because frames are appended in seq order. */
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private failure: Error | null = null;
  private stopped = false;
  durableSeq: number;
  fsyncs = 0;

  constructor(
    private readonly dir: string,
    active: ActiveJournal,
    durableSeq: number,
    private readonly log: StorageLog,
  ) {
    this.durableSeq = durableSeq;
    this.segments.push(this.newSegment(active.startSeq, active.bytes, !active.exists));
  }

  private newSegment(startSeq: number, bytes: number, created: boolean): Segment {
    return {
      startSeq,
      path: join(this.dir, journalFileName(startSeq)),
      fh: null,
      bytes,
      pending: [],
      pendingLastSeq: 0,
      needsDirSync: created,
    };
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Queues a frame; resolves once it (and every frame before it) is fsync'd. */
  append(seq: number, frame: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(new Error('journal is closed'));
    const seg = this.segments[this.segments.length - 1]!;
    seg.pending.push(frame);
    seg.bytes += frame.length;
    seg.pendingLastSeq = seq;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
    this.schedule();
    return done;
  }

  waitDurable(seq: number): Promise<void> {
    if (this.durableSeq >= seq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      // Keep the list ordered: a waiter for an already-queued seq goes before later ones.
      const i = this.waiters.findIndex((w) => w.seq > seq);
      const w = { seq, resolve, reject };
      if (i < 0) this.waiters.push(w);
      else this.waiters.splice(i, 0, w);
    });
  }

  /** New frames go to a file starting at `startSeq`. Synchronous, so it marks an exact point. */
  rotate(startSeq: number): void {
    const active = this.segments[this.segments.length - 1]!;
    if (active.startSeq === startSeq && active.bytes === 0) return;
    if (startSeq <= active.startSeq) throw new Error(`journal rotation to ${startSeq} would go backwards`);
    this.segments.push(this.newSegment(startSeq, 0, true));
  }

  /** Bytes in the file new frames go to; the checkpoint trigger looks at this. */
  activeBytes(): number {
    return this.segments[this.segments.length - 1]!.bytes;
  }

  totalBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  /** Deletes every file before the one starting at `startSeq`, once its frames are flushed. */
  async dropBefore(startSeq: number): Promise<void> {
    const old = this.segments.filter((s) => s.startSeq < startSeq && s !== this.segments[this.segments.length - 1]);
    if (old.length === 0) return;
    const lastSeq = Math.max(...old.map((s) => s.pendingLastSeq));
    if (lastSeq > 0) await this.waitDurable(lastSeq);
    while (this.flushing && old.some((s) => s.pending.length > 0)) await this.flushing;
    for (const seg of old) {
      this.segments.splice(this.segments.indexOf(seg), 1);
      await seg.fh?.close();
      seg.fh = null;
      await fsp.rm(seg.path, { force: true });
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // A microtask lets every write issued in the same tick join the first fsync.
    queueMicrotask(() => {
      this.scheduled = false;
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = null;
        if (!this.failure && !this.stopped && this.segments.some((s) => s.pending.length > 0)) this.schedule();
      });
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = this.segments.filter((s) => s.pending.length > 0);
        if (batch.length === 0 || this.stopped) return;
        // Segments are flushed in file order, each fsync'd before the next file is touched.
        for (const seg of batch) {
          const frames = seg.pending;
          const lastSeq = seg.pendingLastSeq;
          seg.pending = [];
          seg.fh ??= await fsp.open(seg.path, 'a');
          const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
          // A small batch is written synchronously: into the page cache it takes microseconds,
          // less than a round trip through libuv's thread pool, which sat on every commit's path.
          if (data.length <= SYNC_WRITE_MAX_BYTES) writeAllSync(seg.fh.fd, data);
          else await writeAll(seg.fh, data);
          await seg.fh.datasync();
          this.fsyncs++;
          if (seg.needsDirSync) {
            await fsyncDir(this.dir);
            seg.needsDirSync = false;
          }
          this.markDurable(lastSeq);
        }
      }
    } catch (err) {
      // The in-memory database is now ahead of what is durable; refuse all further writes.
      const e = err instanceof Error ? err : new Error(String(err));
      this.failure = new Error(`journal write failed: ${e.message}`, { cause: e });
      this.log('error', 'journal write failed; refusing further writes', { error: e.message });
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
    }
  }

  private markDurable(seq: number): void {
    if (seq > this.durableSeq) this.durableSeq = seq;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.seq <= this.durableSeq) n++;
    if (n === 0) return;
    const done = this.waiters.splice(0, n);
    for (const w of done) w.resolve();
  }

  /** Waits for queued frames to be fsync'd, then closes the files. */
  async close(): Promise<void> {
    while (this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await new Promise<void>((r) => setImmediate(r));
    }
    this.stopped = true;
    for (const seg of this.segments) {
      await seg.fh?.close();
      seg.fh = null;
    }
  }

  /** Crash simulation for tests: whatever is not yet written is lost, like on a power cut. */
  async abandon(): Promise<void> {
    this.stopped = true;
    while (this.flushing) await this.flushing;
    const err = new Error('database abandoned');
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    for (const seg of this.segments) {
      await seg.fh?.close();
      seg.fh = null;
    }
  }
}
