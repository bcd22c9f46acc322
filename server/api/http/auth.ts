/**
 * Access-token authentication at the edge (spec: client-server "Client Authentication"): the
 * token comes from `Authorization: Bearer` (or the deprecated `access_token` query parameter) and
 * becomes a Requester, which handlers receive through `requester(req)`.
 */
import type { Request, RequestHandler } from 'express';
import { MatrixError, missingToken } from '../../errors.ts';

export interface Requester {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  /** Row id of the access token, so /logout can revoke exactly this session. */
  accessTokenId: number;
}

/** Implemented by services/users/tokens.ts. Throws M_UNKNOWN_TOKEN (401) for unknown, expired
 * or revoked tokens, and records last-seen IP and time for the device. */
export interface TokenResolver {
  resolve(accessToken: string, meta: { ip: string; userAgent?: string }): Promise<Requester> | Requester;
}

const REQUESTER = Symbol('requester');

export function extractAccessToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(h.trim());
    if (m) return m[1];
  }
  const q = req.query.access_token;
  return typeof q === 'string' && q.length > 0 ? q : undefined;
}

/**
 * The client's address, as Express's `req.ip` gives it under the `trust proxy` setting. Without an
 * X-Forwarded-For header that is the socket's address, so the header parse `req.ip` does on every
 * request is skipped.
 */
export function clientIp(req: Request): string {
  if (req.headers['x-forwarded-for'] === undefined) return req.socket.remoteAddress ?? '';
  return req.ip ?? req.socket.remoteAddress ?? '';
}

/** Middleware: requires a valid access token. */
export function requireAuth(tokens: TokenResolver): RequestHandler {
  return async (req, _res, next) => {
    const token = extractAccessToken(req);
    if (!token) throw missingToken();
    const r = await tokens.resolve(token, { ip: clientIp(req), userAgent: req.headers['user-agent'] });
    (req as unknown as Record<symbol, Requester>)[REQUESTER] = r;
    next();
  };
}

/** Middleware: requires a valid access token of a server admin (Synapse admin API). */
export function requireAdmin(tokens: TokenResolver): RequestHandler {
  const auth = requireAuth(tokens);
  return async (req, res, next) => {
    await auth(req, res, () => undefined);
    if (!requester(req).isAdmin) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a server admin');
    next();
  };
}

/** The authenticated user of a request that passed requireAuth. */
export function requester(req: Request): Requester {
  const r = (req as unknown as Record<symbol, Requester | undefined>)[REQUESTER];
  if (!r) throw new Error('requester() used on a route without requireAuth');
  return r;
}
