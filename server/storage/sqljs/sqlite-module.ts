// sql.js's SQLite build, and the one thing its API lacks: a true in-memory database.
// `new SQL.Database()` keeps the database as a file in Emscripten's in-memory file system, so
// every commit copies each changed page into that file through JavaScript (most of a small
// transaction's cost), and the image sits in that file besides SQLite's page cache over it. A
// `:memory:` database keeps its pages in the page cache only, and a commit copies nothing.
// Opening one needs sqlite3_open's out-pointer read from the module's memory, which sql.js does
// not export; Emscripten's instantiateWasm hook hands it to us instead.
// With the memory in hand, statements are driven through SQLite's C API directly: sql.js's
// Statement copies every string parameter through two JavaScript loops and a malloc/free pair,
// where a native UTF-8 write into one reused buffer does the same work.
import initSqlJs from 'sql.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isSqliteImage } from './snapshot.ts';

type SqlJsStatic = initSqlJs.SqlJsStatic;
/** sql.js's Database wrapper, with the handle it keeps (swapped for an in-memory one here). */
type SqlJsShell = initSqlJs.Database & { db: number };

/** The module exports used here; sql.js's typings leave them out. */
interface SqliteExports {
  _sqlite3_prepare_v2(db: number, sql: number, bytes: number, outStmt: number, outTail: number): number;
  _sqlite3_sql(stmt: number): number;
  _sqlite3_finalize(stmt: number): number;
  _sqlite3_step(stmt: number): number;
  _sqlite3_reset(stmt: number): number;
  _sqlite3_clear_bindings(stmt: number): number;
  _sqlite3_bind_text(stmt: number, index: number, ptr: number, bytes: number, destructor: number): number;
  _sqlite3_bind_blob(stmt: number, index: number, ptr: number, bytes: number, destructor: number): number;
  _sqlite3_bind_int(stmt: number, index: number, value: number): number;
  _sqlite3_bind_double(stmt: number, index: number, value: number): number;
  _sqlite3_column_count(stmt: number): number;
  _sqlite3_column_name(stmt: number, index: number): number;
  _sqlite3_column_type(stmt: number, index: number): number;
  _sqlite3_column_double(stmt: number, index: number): number;
  _sqlite3_column_text(stmt: number, index: number): number;
  _sqlite3_column_blob(stmt: number, index: number): number;
  _sqlite3_column_bytes(stmt: number, index: number): number;
  _sqlite3_changes(db: number): number;
  _sqlite3_open(filename: number, outHandle: number): number;
  _sqlite3_close_v2(db: number): number;
  _sqlite3_errmsg(db: number): number;
  _sqlite3_backup_init(dest: number, destName: number, source: number, sourceName: number): number;
  _sqlite3_backup_step(backup: number, pages: number): number;
  _sqlite3_backup_finish(backup: number): number;
  _RegisterExtensionFunctions(db: number): number;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  stringToNewUTF8(s: string): number;
}

const SQLITE_OK = 0;
const SQLITE_ROW = 100;
const SQLITE_DONE = 101;
const SQLITE_INTEGER = 1;
const SQLITE_FLOAT = 2;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;
/** Destructor argument: SQLite uses the bound bytes in place until the binding is cleared. */
const SQLITE_STATIC = 0;

interface LoadedModule {
  SQL: SqlJsStatic;
  memory: WebAssembly.Memory;
}

let loaded: Promise<LoadedModule> | null = null;

/** The wasm module is immutable and shared; each database still gets its own connection. */
export function loadSqliteModule(): Promise<LoadedModule> {
  loaded ??= new Promise<LoadedModule>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    let memory: WebAssembly.Memory | null = null;
    // With instantiateWasm, sql.js never looks the wasm file up itself (no locateFile needed).
    initSqlJs({
      instantiateWasm(imports, receiveInstance) {
        const wasm = readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));
        WebAssembly.instantiate(wasm, imports)
          .then(({ instance }) => {
            memory = Object.values(instance.exports).find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory) ?? null;
            if (!memory) throw new Error('the sql.js wasm module exports no memory');
            receiveInstance(instance);
          })
          .catch(reject);
        return {};
      },
    }).then((SQL) => {
      if (!memory) throw new Error('sql.js started without its memory');
      resolve({ SQL, memory });
    }, reject);
  });
  return loaded;
}

/**
 * An in-memory SQLite database holding a copy of `image` (a database file's bytes) when given.
 */
export function openMemoryDatabase({ SQL, memory }: LoadedModule, image?: Uint8Array): MemoryDatabase {
  const api = SQL as unknown as SqliteExports;
  const heap = new WasmHeap(api, memory);
  // The wrapper opens a file of its own; its handle is swapped for the in-memory one below, and
  // close() later closes that one and removes the (empty) file.
  const shell = new SQL.Database() as SqlJsShell;
  const name = api.stringToNewUTF8(':memory:');
  const out = api._malloc(4);
  let handle = 0;
  try {
    const rc = api._sqlite3_open(name, out);
    handle = heap.int32(out);
    if (rc !== SQLITE_OK) throw new Error(`cannot open an in-memory database: ${handle ? heap.errorMessage(handle) : `SQLite code ${rc}`}`);
    api._RegisterExtensionFunctions(handle);
  } catch (err) {
    if (handle) api._sqlite3_close_v2(handle);
    shell.close();
    throw err;
  } finally {
    api._free(out);
    api._free(name);
  }
  api._sqlite3_close_v2(shell.db);
  shell.db = handle;
  if (image) {
    try {
      copyImageInto(SQL, heap, shell, image);
    } catch (err) {
      shell.close();
      throw err;
    }
  }
  return new MemoryDatabase(heap, shell);
}

function copyImageInto(SQL: SqlJsStatic, heap: WasmHeap, dest: SqlJsShell, image: Uint8Array): void {
  const { api } = heap;
  if (!isSqliteImage(image)) throw new Error('cannot load the database image: it is not an SQLite database');
  const source = new SQL.Database(image) as SqlJsShell;
  const main = api.stringToNewUTF8('main');
  try {
    // A backup into an in-memory database cannot change its page size, so it is set first.
    const pageSize = Number(source.exec('PRAGMA page_size')[0]?.values[0]?.[0]);
    if (!Number.isInteger(pageSize) || pageSize <= 0) throw new Error('the database image has no page size');
    dest.exec(`PRAGMA page_size = ${pageSize}`);
    const backup = api._sqlite3_backup_init(dest.db, main, source.db, main);
    const copied = backup !== 0 && api._sqlite3_backup_step(backup, -1) === SQLITE_DONE;
    if (backup === 0 || api._sqlite3_backup_finish(backup) !== SQLITE_OK || !copied) {
      throw new Error(`cannot load the database image: ${heap.errorMessage(dest.db)}`);
    }
    // The backup copies pages without reading them; parsing the schema catches a damaged first
    // page now rather than at the first query.
    try {
      dest.exec('SELECT count(*) FROM sqlite_schema');
    } catch (err) {
      throw new Error(`cannot load the database image: ${(err as Error).message}`, { cause: err });
    }
  } finally {
    api._free(main);
    source.close();
  }
}

export type SqliteValue = number | string | Uint8Array | null;
/** What a statement accepts; a bigint binds as text, which INTEGER affinity turns back into an exact integer. */
export type SqliteParam = SqliteValue | bigint;

/**
 * The module's memory as a Buffer, and the one buffer parameters are written into. A statement
 * is bound, stepped and reset before the next is bound (the connection is synchronous), and
 * reset() clears its bindings, so one buffer serves every statement.
 */
class WasmHeap {
  private view: Buffer;
  private scratch = 0;
  private scratchBytes = 0;

  constructor(
    readonly api: SqliteExports,
    private readonly memory: WebAssembly.Memory,
  ) {
    this.view = Buffer.from(memory.buffer);
  }

  /** Valid until the next call into the module, which may grow (and so move) its memory. */
  bytes(): Buffer {
    if (this.view.buffer !== this.memory.buffer) this.view = Buffer.from(this.memory.buffer);
    return this.view;
  }

  int32(ptr: number): number {
    return this.bytes().readInt32LE(ptr);
  }

  text(ptr: number, length: number): string {
    return this.bytes().toString('utf8', ptr, ptr + length);
  }

  cString(ptr: number): string {
    const bytes = this.bytes();
    const end = bytes.indexOf(0, ptr);
    return bytes.toString('utf8', ptr, end < 0 ? bytes.length : end);
  }

  /** SQLite's message for the last error on a connection. */
  errorMessage(db: number): string {
    return this.cString(this.api._sqlite3_errmsg(db));
  }

  release(): void {
    if (this.scratch) this.api._free(this.scratch);
    this.scratch = 0;
    this.scratchBytes = 0;
  }

  /** At least `bytes` of scratch space; only called before any parameter is written into it. */
  reserve(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratch) this.api._free(this.scratch);
      const size = Math.max(bytes, this.scratchBytes * 2, 4096);
      this.scratch = this.api._malloc(size);
      if (!this.scratch) {
        this.scratchBytes = 0;
        throw new Error(`SQLite is out of memory (asked for ${size} bytes)`);
      }
      this.scratchBytes = size;
    }
    return this.scratch;
  }
}

/** A prepared statement driven through SQLite's C API. */
export class PreparedStatement {
  private names: string[] | null = null;
  private bound = false;

  constructor(
    private readonly heap: WasmHeap,
    private readonly db: MemoryDatabase,
    private handle: number,
  ) {}

  bind(params: readonly SqliteParam[]): void {
    const { api } = this.heap;
    let need = 0;
    for (const p of params) {
      if (typeof p === 'string') need += p.length * 3 + 1;
      else if (typeof p === 'bigint') need += p.toString().length + 1;
      else if (p instanceof Uint8Array) need += p.length + 1;
    }
    this.bound = params.length > 0;
    let at = need > 0 ? this.heap.reserve(need) : 0;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const index = i + 1;
      let rc: number;
      if (typeof p === 'number') {
        rc = (p | 0) === p ? api._sqlite3_bind_int(this.handle, index, p) : api._sqlite3_bind_double(this.handle, index, p);
      } else if (typeof p === 'string' || typeof p === 'bigint') {
        // The view is fetched per parameter: a call into the module may have grown its memory.
        const written = this.heap.bytes().write(typeof p === 'string' ? p : p.toString(), at, 'utf8');
        rc = api._sqlite3_bind_text(this.handle, index, at, written, SQLITE_STATIC);
        at += written;
      } else if (p === null) {
        rc = api._sqlite3_bind_blob(this.handle, index, 0, 0, SQLITE_STATIC);
      } else {
        this.heap.bytes().set(p, at);
        // Never a null pointer (one byte is reserved per blob): with one, SQLite binds NULL.
        rc = api._sqlite3_bind_blob(this.handle, index, at, p.length, SQLITE_STATIC);
        at += p.length + 1;
      }
      if (rc !== SQLITE_OK) throw this.db.error(rc);
    }
  }

  /** true while there is a row to read. */
  step(): boolean {
    const rc = this.heap.api._sqlite3_step(this.handle);
    if (rc === SQLITE_ROW) return true;
    if (rc === SQLITE_DONE) return false;
    throw this.db.error(rc);
  }

  /** The current row's values: INTEGER and REAL as numbers, TEXT as strings, BLOB copied. */
  row(): SqliteValue[] {
    const { api } = this.heap;
    const n = api._sqlite3_column_count(this.handle);
    const out: SqliteValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      switch (api._sqlite3_column_type(this.handle, i)) {
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
          out[i] = api._sqlite3_column_double(this.handle, i);
          break;
        case SQLITE_TEXT: {
          const ptr = api._sqlite3_column_text(this.handle, i);
          out[i] = this.heap.text(ptr, api._sqlite3_column_bytes(this.handle, i));
          break;
        }
        case SQLITE_BLOB: {
          const ptr = api._sqlite3_column_blob(this.handle, i);
          const length = api._sqlite3_column_bytes(this.handle, i);
          const blob = new Uint8Array(length);
          blob.set(this.heap.bytes().subarray(ptr, ptr + length));
          out[i] = blob;
          break;
        }
        default:
          out[i] = null;
      }
    }
    return out;
  }

  /** Result column names; cached until forgetColumnNames() (a schema change can alter them). */
  columnNames(): string[] {
    if (this.names) return this.names;
    const { api } = this.heap;
    const n = api._sqlite3_column_count(this.handle);
    const names: string[] = new Array(n);
    for (let i = 0; i < n; i++) names[i] = this.heap.cString(api._sqlite3_column_name(this.handle, i));
    this.names = names;
    return names;
  }

  forgetColumnNames(): void {
    this.names = null;
  }

  /** Ready to run again, with no parameter bound (they pointed into the shared scratch buffer). */
  reset(): void {
    const { api } = this.heap;
    api._sqlite3_reset(this.handle);
    if (this.bound) api._sqlite3_clear_bindings(this.handle);
    this.bound = false;
  }

  finalize(): void {
    if (this.handle) this.heap.api._sqlite3_finalize(this.handle);
    this.handle = 0;
  }
}

/**
 * An in-memory database. Statements are prepared here; sql.js's Database wrapper, which holds
 * the handle, still runs pragmas and exports (sql.js exports through SQLite's backup API, from
 * whatever handle the wrapper holds).
 */
export class MemoryDatabase {
  constructor(
    private readonly heap: WasmHeap,
    private readonly shell: SqlJsShell,
  ) {}

  prepare(sql: string): PreparedStatement {
    const { api } = this.heap;
    const text = this.heap.reserve(sql.length * 3 + 16);
    const length = this.heap.bytes().write(sql, text, 'utf8');
    const out = (text + length + 3) & ~3;
    const rc = api._sqlite3_prepare_v2(this.shell.db, text, length, out, 0);
    if (rc !== SQLITE_OK) throw this.error(rc);
    const stmt = this.heap.int32(out);
    if (stmt === 0) throw new Error(`no SQL statement to prepare in: ${sql}`);
    return new PreparedStatement(this.heap, this, stmt);
  }

  /**
   * The statements of a script, in order, as text. Each is parsed only when the previous one
   * has been handed out (and run), so later statements may use tables created earlier.
   */
  *statementsOf(script: string): Generator<string> {
    const { api } = this.heap;
    const text = api.stringToNewUTF8(script);
    const out = api._malloc(8);
    try {
      const end = text + Buffer.byteLength(script, 'utf8');
      let at = text;
      while (at < end) {
        const rc = api._sqlite3_prepare_v2(this.shell.db, at, end - at, out, out + 4);
        if (rc !== SQLITE_OK) throw this.error(rc);
        const stmt = this.heap.int32(out);
        const tail = this.heap.int32(out + 4);
        if (stmt !== 0) {
          const sql = this.heap.cString(api._sqlite3_sql(stmt));
          api._sqlite3_finalize(stmt);
          yield sql;
        }
        if (tail <= at) break;
        at = tail;
      }
    } finally {
      api._free(out);
      api._free(text);
    }
  }

  /** Rows changed by the last INSERT, UPDATE or DELETE. */
  changes(): number {
    return this.heap.api._sqlite3_changes(this.shell.db);
  }

  /** Runs SQL that takes no parameters and returns nothing wanted (pragmas, VACUUM). */
  exec(sql: string): void {
    this.shell.exec(sql);
  }

  /** A database file's bytes, consistent as of now. */
  export(): Uint8Array {
    return this.shell.export();
  }

  /** Statements prepared here must be finalized first. */
  close(): void {
    this.shell.close();
    this.heap.release();
  }

  error(rc: number): Error {
    return new Error(this.heap.errorMessage(this.shell.db) || `SQLite error ${rc}`);
  }
}
