/**
 * One record of the logger's in-memory ring (logger.ts), as the admin API's Logs endpoint
 * (`GET /_hearth/api/v1/logs`) sends it. Types and the list of levels, with no imports, because
 * server/api/admin/hearth/types.ts re-exports it to the admin GUI, which type-checks without Node.
 */

/** The levels a record can have ('silent' is a logger threshold, never a record's level). */
export const LOG_LEVEL_NAMES = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export interface LogRecord {
  ts: number;
  level: LogLevelName;
  msg: string;
  /** Already stripped of secrets when logged. */
  fields?: Record<string, unknown>;
}
