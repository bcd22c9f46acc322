/**
 * Reads a JSON request body with a size bound. Bodies that are not JSON get M_NOT_JSON, oversized
 * ones M_TOO_LARGE (spec: "Standard error response"). An empty body reads as `{}`, as Synapse
 * tolerates for endpoints like /logout that clients call without one.
 */
import type { RequestHandler } from 'express';
import { MatrixError, notJson, tooLarge } from '../../errors.ts';

export function jsonBody(maxBytes: number): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxBytes) {
      // Drain nothing: the connection is closed after the error response.
      req.resume();
      next(tooLarge(`Request body is larger than ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) {
        failed = true;
        next(tooLarge(`Request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('error', (e) => {
      if (failed) return;
      failed = true;
      next(new MatrixError(400, 'M_UNKNOWN', `Could not read request body: ${e.message}`));
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') {
        req.body = {};
        next();
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        next(notJson('Content not JSON.'));
        return;
      }
      next();
    });
  };
}
