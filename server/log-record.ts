/**
 * One record of the logger's in-memory ring (logger.ts), as the admin API's Logs endpoint
 * (`GET /_hearth/api/v1/logs`) sends it. Types only, with no imports, because
 * server/api/admin/hearth/types.ts re-exports it to the admin GUI, which type-checks without Node.
 */

/** The levels a record can have ('silent' is a logger threshold, never a record's level). */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  ts: number;
  level: LogLevelName;
  msg: string;
  /** Already stripped of secrets when logged. */
  fields?: Record<string, unknown>;
}
