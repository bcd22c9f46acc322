/**
 * The edge's error middleware and the 404/405 fallback. MatrixError keeps its status and errcode;
 * anything else is 500 M_UNKNOWN with a request id, its stack logged and never sent.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import { MatrixError, unrecognized } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { redactUrl } from '../../logger.ts';
import type { ApiRouter } from './router.ts';

export function unrecognizedEndpoint(router: ApiRouter): RequestHandler {
  return (req, _res, next) => {
    const methods = router.methodsFor(req.path);
    if (methods.length > 0) next(unrecognized(405, `Method ${req.method} not allowed on ${req.path}`));
    else next(unrecognized(404, 'Unrecognized request'));
  };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let e: MatrixError;
    if (err instanceof MatrixError) {
      e = err;
    } else if (isHttpError(err) && err.status < 500) {
      // Errors raised by Express itself (e.g. malformed URL encoding).
      e = new MatrixError(err.status, err.status === 413 ? 'M_TOO_LARGE' : 'M_UNKNOWN', err.message);
    } else {
      const requestId = randomUUID();
      log.error('internal error', { requestId, method: req.method, url: redactUrl(req.originalUrl), stack: (err as Error)?.stack ?? String(err) });
      e = new MatrixError(500, 'M_UNKNOWN', `Internal server error (request ${requestId})`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(e.status).json(e.toJSON());
  };
}

function isHttpError(e: unknown): e is { status: number; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number';
}
