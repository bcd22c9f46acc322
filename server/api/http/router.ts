/**
 * The route table: every API file registers its endpoints here, so the edge can tell an unknown
 * path (404 M_UNRECOGNIZED) from a known path with the wrong method (405 M_UNRECOGNIZED).
 * Client endpoints are registered once and served under every prefix they existed under
 * (`v3`, plus the legacy `r0` alias that Synapse keeps for old bots).
 *
 * Express tries routes one by one, and there are hundreds; so routes are kept in buckets by the
 * first four path segments when those are fixed (`/_matrix/client/v3/rooms`), and a request
 * only walks the bucket its path names, then the routes with a shorter fixed start. Routes in
 * different buckets cannot match the same path, so the order that matters is kept.
 */
import express, { type RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import { jsonBody } from './json-body.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteOptions {
  /** Skip JSON body parsing (streamed uploads). */
  rawBody?: boolean;
}

export interface ClientRouteOptions extends RouteOptions {
  /** Client API versions this path is served under; default v3 and r0. */
  versions?: readonly string[];
}

const CLIENT_DEFAULT_VERSIONS = ['v3', 'r0'] as const;

const BUCKET_SEGMENTS = 4;

/** The fixed start of a route path, up to BUCKET_SEGMENTS segments (`/a/b/c/d`), or undefined
 * when a parameter or pattern comes earlier. */
function routeBucket(path: string): string | undefined {
  const segments = path.split('/').slice(1, BUCKET_SEGMENTS + 1);
  if (segments.length < BUCKET_SEGMENTS || segments.some((s) => /[:*{}()?+]/.test(s))) return undefined;
  // Express matches paths case-insensitively; so do the buckets.
  return `/${segments.join('/')}`.toLowerCase();
}

/** The same start of a request path. */
function requestBucket(path: string): string {
  let end = 0;
  for (let i = 0; i < BUCKET_SEGMENTS && end !== -1; i++) end = path.indexOf('/', end + 1);
  return (end === -1 ? path : path.slice(0, end)).toLowerCase();
}

export class ApiRouter {
  /** Mount this: it dispatches to the buckets, then to the routes outside any. */
  readonly router = express.Router();
  private readonly buckets = new Map<string, express.Router>();
  private readonly rest = express.Router();
  private readonly known: { method: HttpMethod; test: (path: string) => boolean }[] = [];

  constructor(private readonly maxJsonBodyBytes: number) {
    this.router.use((req, res, next) => {
      const bucket = this.buckets.get(requestBucket(req.path));
      if (!bucket) return this.rest(req, res, next);
      bucket(req, res, (err?: unknown) => (err !== undefined && err !== 'route' ? next(err) : this.rest(req, res, next)));
    });
  }

  /** Registers `handlers` for `method` on one or more absolute paths (Express 5 path syntax). */
  route(method: HttpMethod, paths: string | readonly string[], handlers: RequestHandler[], opts: RouteOptions = {}): void {
    const list = typeof paths === 'string' ? [paths] : paths;
    // DELETE is parsed too: some DELETEs carry a body (user-interactive auth on /devices/{id}).
    const chain = opts.rawBody || method === 'GET' ? handlers : [jsonBody(this.maxJsonBodyBytes), ...handlers];
    for (const p of list) {
      const m = match(p, { decode: false });
      this.known.push({ method, test: (path) => m(path) !== false });
      const key = routeBucket(p);
      let target = this.rest;
      if (key !== undefined) {
        target = this.buckets.get(key) ?? express.Router();
        this.buckets.set(key, target);
      }
      target[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](p, ...chain);
    }
  }

  /** A client-server endpoint: `path` is relative to `/_matrix/client/{version}`. */
  client(method: HttpMethod, path: string, handlers: RequestHandler | RequestHandler[], opts: ClientRouteOptions = {}): void {
    const versions = opts.versions ?? CLIENT_DEFAULT_VERSIONS;
    const hs = Array.isArray(handlers) ? handlers : [handlers];
    this.route(method, versions.map((v) => `/_matrix/client/${v}${path}`), hs, opts);
  }

  /** Methods registered for a concrete request path (empty when the path is unknown). */
  methodsFor(path: string): HttpMethod[] {
    return [...new Set(this.known.filter((k) => k.test(path)).map((k) => k.method))];
  }
}
