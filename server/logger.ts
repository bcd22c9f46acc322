/**
 * A small leveled logger. Secrets never reach the log: values under keys that name them
 * (access_token, password, Authorization, …) are replaced before anything is written.
 */

import type { LogLevelName, LogRecord } from './log-record.ts';

/** A threshold: 'silent' writes nothing. */
export type LogLevel = LogLevelName | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

const SECRET_KEY = /token|password|secret|authorization|signature|^mac$|seed|private/i;

/** Replaces secret-looking values in a structure (bounded depth, no cycles followed). */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? '<redacted>' : redactSecrets(v, depth + 1);
  }
  return out;
}

/** Removes `access_token=…` from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|token|login_token)=)[^&]*/gi, '$1<redacted>');
}

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Recent records kept in memory for the admin GUI's log page. */
  recent(): readonly LogRecord[];
}

export function createLogger(level: LogLevel = 'info', sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const ring: LogRecord[] = [];
  const RING_SIZE = 2000;
  const log = (lvl: LogLevelName, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[logger.level]) return;
    const safe = fields ? (redactSecrets(fields) as Record<string, unknown>) : undefined;
    const rec: LogRecord = { ts: Date.now(), level: lvl, msg, fields: safe };
    ring.push(rec);
    if (ring.length > RING_SIZE) ring.splice(0, ring.length - RING_SIZE);
    const extra = safe && Object.keys(safe).length > 0 ? ' ' + JSON.stringify(safe) : '';
    sink(`${new Date(rec.ts).toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra}`);
  };
  const logger: Logger = {
    level,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    recent: () => ring,
  };
  return logger;
}
