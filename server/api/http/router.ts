/**
 * The route table: every API file registers its endpoints here, so the edge can tell an unknown
 * path (404 M_UNRECOGNIZED) from a known path with the wrong method (405 M_UNRECOGNIZED).
 * Client endpoints are registered once and served under every prefix they existed under
 * (`v3`, plus the legacy `r0` alias that Synapse keeps for old bots).
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

export class ApiRouter {
  readonly router = express.Router();
  private readonly known: { method: HttpMethod; test: (path: string) => boolean }[] = [];

  constructor(private readonly maxJsonBodyBytes: number) {}

  /** Registers `handlers` for `method` on one or more absolute paths (Express 5 path syntax). */
  route(method: HttpMethod, paths: string | readonly string[], handlers: RequestHandler[], opts: RouteOptions = {}): void {
    const list = typeof paths === 'string' ? [paths] : paths;
    // DELETE is parsed too: some DELETEs carry a body (user-interactive auth on /devices/{id}).
    const chain = opts.rawBody || method === 'GET' ? handlers : [jsonBody(this.maxJsonBodyBytes), ...handlers];
    for (const p of list) {
      const m = match(p, { decode: false });
      this.known.push({ method, test: (path) => m(path) !== false });
      this.router[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](p, ...chain);
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
