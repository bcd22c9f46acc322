/**
 * The route table: every API file registers its endpoints here, so the edge can tell an unknown
 * path (404 M_UNRECOGNIZED) from a known path with the wrong method (405 M_UNRECOGNIZED).
 * Client endpoints are registered once and served under every prefix they existed under
 * (`v3`, plus the legacy `r0` alias that Synapse keeps for old bots).
 *
 * Routes are kept in buckets by the first four path segments when those are fixed
 * (`/_matrix/client/v3/rooms`), and a request only walks the bucket its path names, then the
 * routes with a shorter fixed start. Routes in different buckets cannot match the same path, so
 * the order that matters is kept. Dispatch is done here rather than by nested Express routers:
 * the same matching rules (path-to-regexp, case-insensitive, optional trailing slash, decoded
 * parameters, HEAD served by GET, OPTIONS answered with Allow), without a router's per-request
 * closures, which were a tenth of all allocation on the send path.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
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

interface Route {
  method: HttpMethod;
  match: MatchFunction<Partial<Record<string, string | string[]>>>;
  handlers: readonly RequestHandler[];
}

type Done = (err?: unknown) => void;

/** An error to pass on, as Express reads next(value): 'route' only means "try the next route". */
export const failed = (err: unknown): boolean => err !== undefined && err !== null && err !== 'route';

/** Express's parameter decoding: a malformed escape is the client's error (400). */
function decodeParam(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch (err) {
    if (err instanceof URIError) Object.assign(err, { message: `Failed to decode param '${value}'`, status: 400, statusCode: 400 });
    throw err;
  }
}

const handles = (route: Route, method: string): boolean => route.method === method || (method === 'HEAD' && route.method === 'GET');

export class ApiRouter {
  /** Mount this: it dispatches to the buckets, then to the routes outside any. */
  readonly router: RequestHandler = (req, res, next) => this.dispatch(req, res, next);
  private readonly buckets = new Map<string, Route[]>();
  private readonly rest: Route[] = [];

  constructor(private readonly maxJsonBodyBytes: number) {}

  /** Registers `handlers` for `method` on one or more absolute paths (Express 5 path syntax). */
  route(method: HttpMethod, paths: string | readonly string[], handlers: RequestHandler[], opts: RouteOptions = {}): void {
    const list = typeof paths === 'string' ? [paths] : paths;
    // DELETE is parsed too: some DELETEs carry a body (user-interactive auth on /devices/{id}).
    const chain = opts.rawBody || method === 'GET' ? handlers : [jsonBody(this.maxJsonBodyBytes), ...handlers];
    for (const p of list) {
      const key = routeBucket(p);
      let target = this.rest;
      if (key !== undefined) {
        target = this.buckets.get(key) ?? [];
        this.buckets.set(key, target);
      }
      // As Express registers a route: trailing slashes of the pattern dropped, one allowed in the path.
      const pattern = p === '/' ? p : p.replace(/\/+$/, '');
      target.push({ method, match: match(pattern, { decode: decodeParam, sensitive: false, end: true, trailing: true }), handlers: chain });
    }
  }

  private dispatch(req: Request, res: Response, next: NextFunction): void {
    const path = req.path;
    const bucket = this.buckets.get(requestBucket(path));
    const afterAll: Done = (err) => {
      if (failed(err)) return next(err);
      // No route takes OPTIONS, so every route with this path is one the Allow header lists.
      const methods = req.method === 'OPTIONS' ? this.methodsFor(path) : [];
      if (methods.length > 0) return sendAllow(res, methods);
      next();
    };
    if (!bucket) return this.walk(this.rest, 0, path, req, res, afterAll);
    this.walk(bucket, 0, path, req, res, (err) => (failed(err) ? next(err) : this.walk(this.rest, 0, path, req, res, afterAll)));
  }

  /** The routes of `list` from `from` on whose path and method fit, in order, as Express tries them. */
  private walk(list: readonly Route[], from: number, path: string, req: Request, res: Response, done: Done): void {
    for (let i = from; i < list.length; i++) {
      const route = list[i]!;
      let found: ReturnType<Route['match']>;
      try {
        found = route.match(path);
      } catch (err) {
        return done(err);
      }
      if (!found || !handles(route, req.method)) continue;
      req.params = found.params as Request['params'];
      return runChain(route.handlers, req, res, (err) => {
        if (failed(err)) return done(err);
        this.walk(list, i + 1, path, req, res, done);
      });
    }
    done();
  }

  /** A client-server endpoint: `path` is relative to `/_matrix/client/{version}`. */
  client(method: HttpMethod, path: string, handlers: RequestHandler | RequestHandler[], opts: ClientRouteOptions = {}): void {
    const versions = opts.versions ?? CLIENT_DEFAULT_VERSIONS;
    const hs = Array.isArray(handlers) ? handlers : [handlers];
    this.route(method, versions.map((v) => `/_matrix/client/${v}${path}`), hs, opts);
  }

  /** Methods registered for a concrete request path (empty when the path is unknown). */
  methodsFor(path: string): HttpMethod[] {
    const routes = [...(this.buckets.get(requestBucket(path)) ?? []), ...this.rest];
    return [...new Set(routes.filter((route) => hasPath(route, path)).map((route) => route.method))];
  }
}

/** One route's handlers in turn, as Express runs them: a rejected promise is passed on as an error. */
export function runChain(handlers: readonly RequestHandler[], req: Request, res: Response, done: Done): void {
  let index = 0;
  const next: NextFunction = (err?: unknown) => {
    if (err !== undefined && err !== null) return done(err);
    const handler = handlers[index++];
    if (!handler) return done();
    try {
      const ret: unknown = handler(req, res, next);
      if (ret instanceof Promise) ret.then(undefined, (e: unknown) => next(e ?? new Error('Rejected promise')));
    } catch (e) {
      next(e);
    }
  };
  next();
}

/** Whether the route's path fits, its parameters decoded or not (a malformed escape still fits). */
function hasPath(route: Route, path: string): boolean {
  try {
    return route.match(path) !== false;
  } catch {
    return true;
  }
}

/** Express's answer to OPTIONS on a known path nothing else answered; HEAD goes with GET. */
function sendAllow(res: Response, methods: readonly HttpMethod[]): void {
  const allow = [...new Set<string>(methods.includes('GET') ? [...methods, 'HEAD'] : methods)].sort().join(', ');
  res.setHeader('Allow', allow);
  res.setHeader('Content-Length', Buffer.byteLength(allow));
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(allow);
}
