// The storage interface the rest of the server builds on. Domain stores (users, events, rooms, …)
// are written on top of `Database`, one file per area; they never see sql.js. SQL written against
// this interface must stay portable to PostgreSQL, and every value that varies between runs
// (ids, times, random tokens) is a parameter, because write transactions are journaled as
// [sql, params] and replayed after a crash (see ARCHITECTURE.md, "storage/").

/** Integers come back as JS numbers: store values beyond ±2^53 as TEXT. */
export interface SqlRow {
  [column: string]: number | string | Uint8Array | null;
}

/** `boolean` is stored as 0/1; `bigint` outside the safe-integer range is bound as its decimal text. */
export type SqlParam = number | string | Uint8Array | null | bigint | boolean;

export interface SqlReader {
  all(sql: string, params?: SqlParam[]): SqlRow[];
  get(sql: string, params?: SqlParam[]): SqlRow | undefined;
}

export interface SqlWriter extends SqlReader {
  /** `lastInsertRowid` is read lazily: read it before running the next statement. */
  run(sql: string, params?: SqlParam[]): { changes: number; readonly lastInsertRowid: number };
}

export interface DatabaseStats {
  /** Bytes in journal files not yet folded into a snapshot. */
  journalBytes: number;
  /** Sequence number of the last committed (in memory) write transaction. */
  lastSeq: number;
  /** Every transaction with seq ≤ durableSeq is fsync'd (journal or snapshot). */
  durableSeq: number;
  /** Sequence number the newest durable snapshot contains. */
  snapshotSeq: number;
  /** Journal fsyncs so far; fewer than writes when group commit shares them. */
  fsyncs: number;
  /** Completed checkpoints since open. */
  checkpoints: number;
  /** The last completed checkpoint: blocking export time, total time, snapshot size. */
  lastCheckpoint: { exportMs: number; totalMs: number; bytes: number } | null;
}

export interface CompactResult {
  bytesBefore: number;
  bytesAfter: number;
}

export interface Database {
  /** Synchronous read of the current in-memory state (may include writes not yet durable). */
  read<T>(fn: (r: SqlReader) => T): T;
  /**
   * Runs `fn` synchronously inside BEGIN/COMMIT. If `fn` throws, the transaction is rolled back,
   * nothing is journaled and the promise rejects with that error. Otherwise the promise resolves
   * with fn's result once the transaction's journal record is fsync'd. `fn` must not be async.
   */
  write<T>(fn: (w: SqlWriter) => T): Promise<T>;
  /** Writes a full snapshot and drops the journal it covers. */
  checkpoint(): Promise<void>;
  /**
   * Gives the space of deleted rows back to the disk (after a purge): rebuilds the database
   * without free pages, then checkpoints. Sizes are of the database image before and after.
   */
  compact(): Promise<CompactResult>;
  /** Flushes pending writes, checkpoints and releases the data folder lock. */
  close(): Promise<void>;
  stats(): DatabaseStats;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StorageLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
