/**
 * The Express application: edge middleware (request log, CORS), the routes the composition root
 * mounts, then the 404/405 fallback and the one error middleware. No request can crash the
 * process: every failure ends in errorHandler.
 */
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logger.ts';
import { ApiRouter, failed, runChain } from './router.ts';
import { corsForMatrix } from './cors.ts';
import { errorHandler, unrecognizedEndpoint } from './errors.ts';
import { requestLog } from './request-log.ts';

export interface AppOptions {
  log: Logger;
  maxJsonBodyBytes: number;
  /** Registers every API module's routes (homeserver.ts decides which, with which services). */
  mount(routes: ApiRouter): void;
}

/**
 * What node:http creates for the client API's listeners (homeserver.ts passes them as the
 * server's IncomingMessage and ServerResponse): a request and response that have Express's
 * methods from birth. Express otherwise switches each one's prototype on arrival, which costs
 * a map transition per object and leaves node's own HTTP code seeing two shapes of everything.
 */
export class ApiRequest extends IncomingMessage {}
export class ApiResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
Object.setPrototypeOf(ApiRequest.prototype, express.request);
Object.setPrototypeOf(ApiResponse.prototype, express.response);
const json = leanJson(express.response.json);
(ApiResponse.prototype as unknown as Response).json = json;

export const apiServerClasses = { IncomingMessage: ApiRequest, ServerResponse: ApiResponse } as const;

export function createApp(opts: AppOptions): { app: Express; routes: ApiRouter } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const routes = new ApiRouter(opts.maxJsonBodyBytes);
  opts.mount(routes);

  const chain: readonly RequestHandler[] = [requestLog(opts.log), corsForMatrix, routes.router, unrecognizedEndpoint(routes)];
  const onError = errorHandler(opts.log);
  // The chain is fixed and every link takes every path, so Express's router has nothing to
  // choose: its walk (a layer match, `req.url` and `req.params` saved and restored, closures per
  // layer) cost about a tenth of the CPU of a message sent. This does what Express's `app.handle`
  // does (the request and response get Express's methods and this app's settings, so handlers
  // see the same API), then runs the links in order, as Express runs them.
  const handle = (req: Request, res: Response): void => {
    req.res = res;
    res.req = req;
    if (req instanceof ApiRequest && res instanceof ApiResponse) {
      // Express's methods find their settings through `app` (app.request carries it otherwise).
      req.app = app;
      res.app = app;
    } else {
      // A server made without apiServerClasses (app.listen() in tests): as Express does it.
      Object.setPrototypeOf(req, app.request);
      Object.setPrototypeOf(res, app.response);
    }
    res.locals ??= Object.create(null) as Record<string, unknown>;
    req.originalUrl ??= req.url;
    req.baseUrl = '';
    // The last link always passes an error on, so the chain cannot end without an answer.
    runChain(chain, req, res, (err) => fail(failed(err) ? err : new Error('no middleware answered the request'), req, res));
  };
  const fail = (err: unknown, req: Request, res: Response): void => {
    try {
      onError(err, req, res, () => undefined);
    } catch {
      // What Express's final handler does when the error middleware itself fails.
      if (res.headersSent) res.destroy();
      else res.status(500).type('text/plain').end('Internal Server Error');
    }
  };
  Object.assign(app, { handle });
  app.response.json = json;
  return { app, routes };
}

/**
 * `res.json` for the common case, with the bytes and headers Express sends: Express's version
 * sets Content-Type, then parses it again and looks it up in the MIME table twice to add the
 * charset, about 2% of the CPU of a message sent. Anything unusual goes to Express's version:
 * a Content-Type or ETag already set, a conditional request (Express may answer 304), a status
 * without a body, a value JSON cannot represent. This app sets no `json spaces`, `json replacer`
 * or `json escape`.
 */
function leanJson(expressJson: Response['json']): Response['json'] {
  return function json(this: Response, value: unknown): Response {
    const { headers, method } = this.req;
    const status = this.statusCode;
    const unusual =
      this.hasHeader('Content-Type') ||
      this.hasHeader('ETag') ||
      this.hasHeader('Transfer-Encoding') ||
      headers['if-none-match'] !== undefined ||
      headers['if-modified-since'] !== undefined ||
      status === 204 ||
      status === 205 ||
      status === 304;
    const text: string | undefined = unusual ? undefined : JSON.stringify(value);
    if (text === undefined) return expressJson.call(this, value);
    this.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.setHeader('Content-Length', Buffer.byteLength(text));
    if (method === 'HEAD') this.end();
    else this.end(text, 'utf8');
    return this;
  };
}
