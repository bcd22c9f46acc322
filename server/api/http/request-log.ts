/** One log line per request: method, path (tokens removed), status, duration. */
import type { RequestHandler } from 'express';
import type { Logger } from '../../logger.ts';
import { redactUrl } from '../../logger.ts';

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    // The line is logged at debug only: at other levels no clock and no listener per request.
    if (log.level !== 'debug') return next();
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      log.debug(`${req.method} ${redactUrl(req.originalUrl)} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
    next();
  };
}
