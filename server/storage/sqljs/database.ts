// The durable sql.js Database: reads and writes run synchronously on the in-memory connection;
// a write's promise resolves only after its journal record is fsync'd (group commit in
// writer.ts); checkpoints fold the journal into a snapshot without losing records journaled
// while the snapshot is written. Built by open.ts, which also does crash recovery.
import { rmSync } from 'node:fs';
import type { CompactResult, Database, DatabaseStats, SqlReader, SqlWriter, StorageLog } from '../storage.ts';
import type { Connection, ScriptWriter } from './connection.ts';
import { encodeRecord } from './journal.ts';
import type { DirLock } from './lock.ts';
import { listSnapshots, writeSnapshot } from './snapshot.ts';
import type { JournalWriter } from './writer.ts';

export interface SqlJsDatabaseParts {
  dataDir: string;
  connection: Connection;
  journal: JournalWriter;
  lock: DirLock;
  lastSeq: number;
  snapshotSeq: number;
  journalLimitBytes: number;
  log: StorageLog;
}

export class SqlJsDatabase implements Database {
  private readonly dataDir: string;
  private readonly conn: Connection;
  private readonly journal: JournalWriter;
  private readonly lock: DirLock;
  private readonly journalLimitBytes: number;
  private readonly log: StorageLog;
  private lastSeq: number;
  private snapshotSeq: number;
  private checkpointChain: Promise<void> = Promise.resolve();
  private autoCheckpointRunning = false;
  private closing: Promise<void> | null = null;
  private closed = false;
  private checkpoints = 0;
  private lastCheckpoint: DatabaseStats['lastCheckpoint'] = null;

  constructor(parts: SqlJsDatabaseParts) {
    this.dataDir = parts.dataDir;
    this.conn = parts.connection;
    this.journal = parts.journal;
    this.lock = parts.lock;
    this.lastSeq = parts.lastSeq;
    this.snapshotSeq = parts.snapshotSeq;
    this.journalLimitBytes = parts.journalLimitBytes;
    this.log = parts.log;
  }

  private assertUsable(): void {
    if (this.closed) throw new Error(`database ${this.dataDir} is closed`);
  }

  read<T>(fn: (r: SqlReader) => T): T {
    this.assertUsable();
    return this.conn.read(fn);
  }

  write<T>(fn: (w: SqlWriter) => T): Promise<T> {
    return this.writeScript(fn);
  }

  /** write() with the engine-only runScript(); migrations use it. */
  writeScript<T>(fn: (w: ScriptWriter) => T): Promise<T> {
    try {
      this.assertUsable();
      if (this.closing) throw new Error(`database ${this.dataDir} is closing`);
      if (this.journal.failed) throw this.journal.failed;
      const { result, statements } = this.conn.transaction(fn);
      // Nothing changed, but the caller may have read not-yet-durable data: wait for it.
      if (statements.length === 0) return this.journal.waitDurable(this.lastSeq).then(() => result);
      const seq = ++this.lastSeq;
      const done = this.journal.append(seq, encodeRecord({ seq, statements }));
      this.maybeAutoCheckpoint();
      return done.then(() => result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private maybeAutoCheckpoint(): void {
    if (this.autoCheckpointRunning || this.journal.activeBytes() < this.journalLimitBytes) return;
    this.autoCheckpointRunning = true;
    this.checkpoint()
      .catch((err: Error) => this.log('error', 'automatic checkpoint failed', { error: err.message }))
      .finally(() => {
        this.autoCheckpointRunning = false;
        // Writes during a long checkpoint may already have filled the new journal file.
        if (!this.closing && !this.closed && !this.journal.failed) this.maybeAutoCheckpoint();
      });
  }

  checkpoint(): Promise<void> {
    return this.chainCheckpoint(false).then(() => undefined);
  }

  /**
   * VACUUM, then a checkpoint of the vacuumed image. VACUUM cannot run inside a transaction, so
   * it cannot be a journal record; it never needs to be one:
   * - It runs in the same synchronous step as the checkpoint's export and journal rotation, so
   *   no write lands between the VACUUM and the image: the snapshot for `seq` holds exactly the
   *   transactions 1..seq, vacuumed, and later records go to the new journal file.
   * - A crash before that snapshot is durable leaves the previous snapshot plus the journal, so
   *   recovery rebuilds the same rows unvacuumed and replays the later records on them. That
   *   gives the same database: VACUUM changes no content, keeps INTEGER PRIMARY KEY values and
   *   AUTOINCREMENT counters, and keeps the order of implicit rowids (it may renumber them, but
   *   no SQL here reads `rowid` or last_insert_rowid() of a table without an INTEGER PRIMARY
   *   KEY), so every journaled statement finds the same rows either way.
   * Costs: the VACUUM blocks the event loop for its duration and briefly needs a second copy
   * of the database in memory.
   */
  compact(): Promise<CompactResult> {
    return this.chainCheckpoint(true).then((r) => r ?? { bytesBefore: 0, bytesAfter: 0 });
  }

  private chainCheckpoint(vacuum: boolean): Promise<CompactResult | undefined> {
    try {
      this.assertUsable();
      if (this.closing) throw new Error(`database ${this.dataDir} is closing`);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.checkpointChain.then(() => this.runCheckpoint(vacuum));
    this.checkpointChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async runCheckpoint(vacuum = false): Promise<CompactResult | undefined> {
    if (this.journal.failed) throw this.journal.failed;
    const seq = this.lastSeq;
    if (!vacuum && seq === this.snapshotSeq && this.journal.totalBytes() === 0) return undefined;
    const started = performance.now();
    const bytesBefore = vacuum ? this.conn.imageBytes() : 0;
    if (vacuum) this.conn.vacuum();
    // The export is synchronous, so it is an exact point between two transactions: everything
    // up to `seq` is in the image and every later record goes to the new journal file.
    const image = this.conn.export();
    const exportMs = performance.now() - started;
    this.journal.rotate(seq + 1);
    await writeSnapshot(this.dataDir, seq, image);
    this.snapshotSeq = seq;
    // Older journals and snapshots go only once the snapshot naming `seq` is durable.
    await this.journal.dropBefore(seq + 1);
    for (const old of listSnapshots(this.dataDir)) if (old.seq < seq) rmSync(old.path, { force: true });
    this.checkpoints++;
    this.lastCheckpoint = { exportMs, totalMs: performance.now() - started, bytes: image.length };
    this.log('debug', 'checkpoint written', { seq, vacuum, ...this.lastCheckpoint });
    return { bytesBefore: vacuum ? bytesBefore : image.length, bytesAfter: image.length };
  }

  /**
   * A consistent image of the whole database for a backup, and the last sequence number in it:
   * exported synchronously, so it sits between two transactions as a checkpoint's does, and
   * returned once every transaction it contains is durable.
   */
  async backupImage(): Promise<{ seq: number; image: Uint8Array }> {
    this.assertUsable();
    const seq = this.lastSeq;
    const image = this.conn.export();
    await this.journal.waitDurable(seq);
    return { seq, image };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.checkpointChain;
        if (!this.journal.failed) {
          await this.journal.waitDurable(this.lastSeq);
          await this.runCheckpoint();
        }
      } finally {
        await this.journal.close();
        this.conn.close();
        this.closed = true;
        this.lock.release();
      }
    })();
    return this.closing;
  }

  /**
   * For crash tests only: stops as if the process died now. Queued journal frames are lost,
   * no checkpoint is written; the lock is released so the folder can be reopened in-process.
   * A checkpoint already running is let finish, so the folder is not written to afterwards.
   */
  async abandon(): Promise<void> {
    this.closing ??= Promise.resolve();
    await this.checkpointChain;
    await this.journal.abandon();
    this.conn.close();
    this.closed = true;
    this.lock.release();
  }

  stats(): DatabaseStats {
    return {
      journalBytes: this.journal.totalBytes(),
      lastSeq: this.lastSeq,
      durableSeq: Math.max(this.journal.durableSeq, this.snapshotSeq),
      snapshotSeq: this.snapshotSeq,
      fsyncs: this.journal.fsyncs,
      checkpoints: this.checkpoints,
      lastCheckpoint: this.lastCheckpoint,
    };
  }
}
