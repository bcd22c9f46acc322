/**
 * The one error shape of the Matrix APIs: `{errcode, error}` with the spec's status code.
 * Services throw MatrixError; the HTTP edge writes it. Anything else becomes 500 M_UNKNOWN.
 */

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MatrixError';
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (msg: string): MatrixError => new MatrixError(403, 'M_FORBIDDEN', msg);
export const notFound = (msg: string): MatrixError => new MatrixError(404, 'M_NOT_FOUND', msg);
export const badJson = (msg: string): MatrixError => new MatrixError(400, 'M_BAD_JSON', msg);
export const notJson = (msg: string): MatrixError => new MatrixError(400, 'M_NOT_JSON', msg);
export const missingParam = (msg: string): MatrixError => new MatrixError(400, 'M_MISSING_PARAM', msg);
export const invalidParam = (msg: string): MatrixError => new MatrixError(400, 'M_INVALID_PARAM', msg);
export const unrecognized = (status: 404 | 405, msg: string): MatrixError =>
  new MatrixError(status, 'M_UNRECOGNIZED', msg);
export const unknownToken = (msg: string, softLogout = false): MatrixError =>
  new MatrixError(401, 'M_UNKNOWN_TOKEN', msg, { soft_logout: softLogout });
export const missingToken = (): MatrixError => new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
export const limitExceeded = (retryAfterMs: number): MatrixError =>
  new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: retryAfterMs });
export const tooLarge = (msg: string): MatrixError => new MatrixError(413, 'M_TOO_LARGE', msg);
