// The one place that talks to the SQLite database (sqlite-module.ts): prepared-statement cache,
// row shaping, transactions, and the rules that keep journal replay deterministic (statements in
// a write transaction may not read the clock or a random source; read() may only run statements
// that change nothing, checked on their text). Not SQLite's query_only: toggling it around each
// write (a "flag" pragma) expires every prepared statement, so each statement was compiled again
// after every write.
import type { SqlParam, SqlReader, SqlRow, SqlWriter } from '../storage.ts';
import type { JournalParam, JournalStatement } from './journal.ts';
import type { MemoryDatabase, PreparedStatement } from './sqlite-module.ts';

// Non-deterministic SQL: replaying it after a crash would give a different database.
const FORBIDDEN: Array<[RegExp, string]> = [
  [/\b(random|randomblob)\s*\(/i, 'random()/randomblob()'],
  [/'now'/i, "'now'"],
  [/\bcurrent_(timestamp|date|time)\b/i, 'CURRENT_TIMESTAMP/CURRENT_DATE/CURRENT_TIME'],
  [/\b(datetime|date|time|julianday|unixepoch)\s*\(\s*\)/i, 'a date/time function without arguments (it means now)'],
  [/\bstrftime\s*\(\s*'[^']*'\s*\)/i, 'strftime() without a time value (it means now)'],
  // FAIL/ROLLBACK conflict modes keep or undo work mid-transaction in ways a replay cannot repeat.
  [/\bor\s+(fail|rollback)\b/i, 'OR FAIL/OR ROLLBACK'],
  [/^\s*(begin|commit|end|rollback|savepoint|release)\b/i, 'transaction control (write() owns the transaction)'],
  [/^\s*(attach|detach|vacuum)\b/i, 'ATTACH/DETACH/VACUUM'],
];

export function nondeterminismIn(sql: string): string | null {
  for (const [re, what] of FORBIDDEN) if (re.test(sql)) return what;
  return null;
}

// PRAGMAs that only report (asked without a value).
const READ_ONLY_PRAGMA = /^\s*pragma\s+(integrity_check|quick_check|foreign_key_check|page_count|page_size|freelist_count|table_info|index_list|index_info|user_version)\b[^=]*$/i;

/** Statements whose text cannot modify data: all read() may run, and what write() need not journal. */
function isPureRead(sql: string): boolean {
  if (/^\s*(select|values)\b/i.test(sql) || READ_ONLY_PRAGMA.test(sql)) return true;
  return /^\s*with\b/i.test(sql) && !/\b(insert|update|delete|replace)\b/i.test(sql);
}

function normalizeParams(params: SqlParam[] | undefined): JournalParam[] {
  if (!params || params.length === 0) return [];
  const out: JournalParam[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    switch (typeof p) {
      case 'string':
        out[i] = p;
        break;
      case 'number':
        // JSON cannot carry NaN/Infinity, so the journal could not replay them faithfully.
        if (!Number.isFinite(p)) throw new TypeError(`SQL parameter ${i + 1} is ${p}; only finite numbers can be stored`);
        out[i] = p;
        break;
      case 'boolean':
        out[i] = p ? 1 : 0;
        break;
      case 'bigint':
        out[i] = p >= BigInt(Number.MIN_SAFE_INTEGER) && p <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(p) : p;
        break;
      default:
        if (p === null || p instanceof Uint8Array) {
          out[i] = p;
          break;
        }
        throw new TypeError(`SQL parameter ${i + 1} has unsupported type ${p === undefined ? 'undefined' : typeof p}`);
    }
  }
  return out;
}

interface CachedStatement {
  stmt: PreparedStatement;
  /** null when the SQL may be journaled; otherwise what makes it non-deterministic. */
  forbidden: string | null | undefined;
  pureRead: boolean;
  /** Changes the schema, so cached result column names may be stale afterwards. */
  ddl: boolean;
}

// A script's statements keep the comments written before them (migrations have them).
const DDL = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(create|drop|alter)\b/i;

const STATEMENT_CACHE_SIZE = 500;

export interface TransactionResult<T> {
  result: T;
  statements: JournalStatement[];
}

/** Engine-internal writer: migrations also need to run a multi-statement script. */
export interface ScriptWriter extends SqlWriter {
  runScript(sql: string): void;
}

export class Connection {
  private readonly cache = new Map<string, CachedStatement>();
  private inTransaction = false;

  constructor(private readonly db: MemoryDatabase) {
    // The database is in memory (sqlite-module.ts) and durability is the journal's job, so
    // SQLite's rollback journal lives in memory too and nothing is ever synced.
    db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON');
  }

  private statement(sql: string): CachedStatement {
    let entry = this.cache.get(sql);
    if (entry) {
      // Re-insert so the Map's order is least recently used first.
      this.cache.delete(sql);
      this.cache.set(sql, entry);
      return entry;
    }
    entry = { stmt: this.db.prepare(sql), forbidden: undefined, pureRead: isPureRead(sql), ddl: DDL.test(sql) };
    this.cache.set(sql, entry);
    if (this.cache.size > STATEMENT_CACHE_SIZE) {
      const [oldestSql, oldest] = this.cache.entries().next().value as [string, CachedStatement];
      this.cache.delete(oldestSql);
      oldest.stmt.finalize();
    }
    return entry;
  }

  private query(entry: CachedStatement, params: JournalParam[], limit: number): SqlRow[] {
    const { stmt } = entry;
    if (params.length > 0) stmt.bind(params);
    try {
      const rows: SqlRow[] = [];
      let names: string[] | null = null;
      while (rows.length < limit && stmt.step()) {
        const values = stmt.row();
        names ??= stmt.columnNames();
        const row: SqlRow = {};
        for (let i = 0; i < names.length; i++) row[names[i]!] = values[i] as SqlRow[string];
        rows.push(row);
      }
      return rows;
    } finally {
      stmt.reset();
    }
  }

  private guard(entry: CachedStatement, sql: string): void {
    if (entry.forbidden === undefined) entry.forbidden = nondeterminismIn(sql);
    if (entry.forbidden !== null) {
      throw new Error(
        `SQL in a write transaction uses ${entry.forbidden}; pass times, ids and random values as parameters ` +
          `so journal replay is deterministic: ${sql}`,
      );
    }
  }

  read<T>(fn: (r: SqlReader) => T): T {
    let open = true;
    const check = (): void => {
      if (!open) throw new Error('SqlReader used after its read() callback returned');
    };
    const statement = (sql: string): CachedStatement => {
      check();
      const entry = this.statement(sql);
      // What a reader changed would not be journaled, so it would be lost in a crash.
      if (!entry.pureRead) throw new Error(`read() is readonly: it may only query (SELECT, VALUES, WITH, a reporting PRAGMA): ${sql}`);
      return entry;
    };
    const reader: SqlReader = {
      all: (sql, params) => this.query(statement(sql), normalizeParams(params), Infinity),
      get: (sql, params) => this.query(statement(sql), normalizeParams(params), 1)[0],
    };
    try {
      return fn(reader);
    } finally {
      open = false;
    }
  }

  /** Runs fn inside BEGIN/COMMIT; returns the statements to journal. Rolls back and rethrows on error. */
  transaction<T>(fn: (w: ScriptWriter) => T): TransactionResult<T> {
    if (this.inTransaction) throw new Error('write() cannot be nested inside another write()');
    const statements: JournalStatement[] = [];
    let open = true;
    const check = (): void => {
      if (!open) throw new Error('SqlWriter used after its write() callback returned');
    };
    const journaledQuery = (sql: string, params: SqlParam[] | undefined, limit: number): SqlRow[] => {
      check();
      const entry = this.statement(sql);
      if (!entry.pureRead) this.guard(entry, sql);
      const p = normalizeParams(params);
      const rows = this.query(entry, p, limit);
      // Only statements that succeeded are journaled: a failed one was rolled back by SQLite.
      if (!entry.pureRead) statements.push([sql, p]);
      return rows;
    };
    const run = (sql: string, params?: SqlParam[]): { changes: number; lastInsertRowid: number } => {
      check();
      const entry = this.statement(sql);
      this.guard(entry, sql);
      const p = normalizeParams(params);
      const { stmt } = entry;
      if (p.length > 0) stmt.bind(p);
      try {
        // SQLite makes all of a statement's changes in its first step, RETURNING included.
        stmt.step();
      } finally {
        stmt.reset();
      }
      if (entry.ddl) this.forgetColumnNames();
      statements.push([sql, p]);
      // lastInsertRowid costs a query, and few callers want it: computed when read (read it
      // before running the next statement).
      const conn = this;
      return {
        changes: this.db.changes(),
        get lastInsertRowid() {
          return conn.lastInsertRowid();
        },
      };
    };
    const writer: ScriptWriter = {
      all: (sql, params) => journaledQuery(sql, params, Infinity),
      get: (sql, params) => journaledQuery(sql, params, 1)[0],
      run,
      runScript: (script) => {
        check();
        // SQLite's own parser splits the script; each statement is prepared only after the
        // previous one ran, so later statements may use tables created earlier.
        for (const sql of this.db.statementsOf(script)) run(sql.trim());
      },
    };

    this.inTransaction = true;
    this.exec('BEGIN');
    try {
      const result = fn(writer);
      if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
        throw new Error('write() callback returned a promise; it must be synchronous (no await inside a transaction)');
      }
      this.exec('COMMIT');
      return { result, statements };
    } catch (err) {
      this.rollbackQuietly();
      throw err;
    } finally {
      open = false;
      this.inTransaction = false;
    }
  }

  /** Re-applies journaled records; `records` must be in seq order. */
  replay(statements: JournalStatement[], seq: number): void {
    for (const [sql, params] of statements) {
      const entry = this.statement(sql);
      const { stmt } = entry;
      try {
        if (params.length > 0) stmt.bind(params);
        stmt.step();
      } catch (err) {
        throw new Error(`journal replay failed at seq ${seq} (${(err as Error).message}): ${sql}`, { cause: err });
      } finally {
        stmt.reset();
      }
      if (entry.ddl) this.forgetColumnNames();
    }
  }

  /** After a schema change: `SELECT *` and the like may now return other columns. */
  private forgetColumnNames(): void {
    for (const { stmt } of this.cache.values()) stmt.forgetColumnNames();
  }

  beginReplay(): void {
    this.exec('BEGIN');
  }

  endReplay(ok: boolean): void {
    if (ok) this.exec('COMMIT');
    else this.rollbackQuietly();
  }

  private lastInsertRowid(): number {
    const { stmt } = this.statement('SELECT last_insert_rowid() AS id');
    try {
      stmt.step();
      return stmt.row()[0] as number;
    } finally {
      stmt.reset();
    }
  }

  private exec(sql: string): void {
    const { stmt } = this.statement(sql);
    try {
      stmt.step();
    } finally {
      stmt.reset();
    }
  }

  private rollbackQuietly(): void {
    try {
      this.exec('ROLLBACK');
    } catch {
      // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing is left to undo.
    }
  }

  /** Bytes the database image takes now (page_count × page_size), free pages included. */
  imageBytes(): number {
    return this.read((r) => Number(r.get('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()')?.n ?? 0));
  }

  /**
   * Rebuilds the database without its free pages (SQLite VACUUM). Never journaled and never run
   * inside write(): SqlJsDatabase.compact() runs it between two transactions and snapshots the
   * result in the same synchronous step, so no replay ever needs it.
   */
  vacuum(): void {
    if (this.inTransaction) throw new Error('VACUUM cannot run inside a transaction');
    this.db.exec('VACUUM');
  }

  /** A consistent image of the database; synchronous, so it sits between two transactions. */
  export(): Uint8Array {
    if (this.inTransaction) throw new Error('cannot export inside a transaction');
    return this.db.export();
  }

  close(): void {
    for (const { stmt } of this.cache.values()) stmt.finalize();
    this.cache.clear();
    this.db.close();
  }
}
