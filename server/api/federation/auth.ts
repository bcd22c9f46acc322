/**
 * The X-Matrix verification middleware for every inbound federation endpoint (spec:
 * server-server "Request Authentication", definitions/security.yaml#/signedRequest). It verifies
 * the signature and the server deny/allow lists (services/federation/request-auth.ts), then runs
 * any further checks other federation parts register (e.g. room server ACLs), and hands the
 * verified origin to handlers through `federationOrigin(req)`.
 */
import type { Request, RequestHandler } from 'express';
import { MatrixError } from '../../errors.ts';
import type { FederationRequester, VerifyRequestInput } from '../../services/federation/request-auth.ts';

const ORIGIN = Symbol('federationOrigin');

/** A check run after the signature verified; throw a MatrixError (e.g. 403 M_FORBIDDEN) to refuse. */
export type InboundCheck = (origin: string, req: Request) => void | Promise<void>;

export interface FederationAuthDeps {
  /** Signature and deny/allow-list verification (request-auth.ts verifyRequest). */
  verify(input: VerifyRequestInput): Promise<FederationRequester>;
  enabled(): boolean;
  /** Checks other parts add (evaluated in order after the deny/allow lists). */
  checks: readonly InboundCheck[];
}

/** The parsed body counts as signed `content` only if the request carried one (GETs never do). */
function hasBody(req: Request): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function federationAuth(deps: FederationAuthDeps): RequestHandler {
  return async (req, _res, next) => {
    if (!deps.enabled()) throw new MatrixError(403, 'M_FORBIDDEN', 'Federation is disabled on this server');
    const requester = await deps.verify({
      method: req.method,
      uri: req.originalUrl,
      authorization: req.headers.authorization,
      content: hasBody(req) ? req.body : undefined,
    });
    for (const check of deps.checks) await check(requester.origin, req);
    (req as unknown as Record<symbol, FederationRequester>)[ORIGIN] = requester;
    next();
  };
}

/** The verified origin server of a request that passed federationAuth. */
export function federationOrigin(req: Request): string {
  const r = (req as unknown as Record<symbol, FederationRequester | undefined>)[ORIGIN];
  if (!r) throw new Error('federationOrigin() used on a route without federationAuth');
  return r.origin;
}
