/**
 * The GUI's Logs page (`GET /_hearth/api/v1/logs`), admins only: the server's recent log records
 * from the logger's in-memory ring (server/logger.ts `recent()`), newest first, filtered by
 * lowest level and by text. Fields were already stripped of secrets when they were logged.
 */
import { z } from '../../../validation/schema.ts';
import type { Logger } from '../../../logger.ts';
import { LOG_LEVEL_NAMES } from '../../../log-record.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseQuery } from '../../http/validate.ts';
import type { LogLevelName, LogRecord, LogsResponse } from './types.ts';

export interface LogsApiDeps {
  log: Pick<Logger, 'recent'>;
}

/** Levels are listed from least to most severe. */
const severity = (level: LogLevelName): number => LOG_LEVEL_NAMES.indexOf(level);

const query = z.object({
  level: z.enum(LOG_LEVEL_NAMES).default('debug'),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(2000).default(500),
});

export function register(r: ApiRouter, deps: LogsApiDeps, tokens: TokenResolver): void {
  r.route('GET', '/_hearth/api/v1/logs', [
    requireAdmin(tokens),
    (req, res) => {
      const { level, q, limit } = parseQuery(query, req.query);
      const all = deps.log.recent();
      const min = severity(level);
      const needle = q?.trim().toLowerCase();
      const matching: LogRecord[] = [];
      for (let i = all.length - 1; i >= 0; i--) {
        const rec = all[i]!;
        if (severity(rec.level) < min) continue;
        if (needle && !`${rec.msg} ${rec.fields ? JSON.stringify(rec.fields) : ''}`.toLowerCase().includes(needle)) continue;
        matching.push(rec);
      }
      res.json({ records: matching.slice(0, limit), total: matching.length, kept: all.length } satisfies LogsResponse);
    },
  ]);
}
