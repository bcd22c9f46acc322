/**
 * The Express application: edge middleware (CORS, request log), the routes the composition root
 * mounts, then the 404/405 fallback and the one error middleware. No request can crash the
 * process: every failure ends in errorHandler.
 */
import express, { type Express } from 'express';
import type { Logger } from '../../logger.ts';
import { ApiRouter } from './router.ts';
import { cors } from './cors.ts';
import { errorHandler, unrecognizedEndpoint } from './errors.ts';
import { requestLog } from './request-log.ts';

export interface AppOptions {
  log: Logger;
  maxJsonBodyBytes: number;
  /** Registers every API module's routes (homeserver.ts decides which, with which services). */
  mount(routes: ApiRouter): void;
}

export function createApp(opts: AppOptions): { app: Express; routes: ApiRouter } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLog(opts.log));
  app.use(['/_matrix', '/.well-known/matrix', '/_synapse'], cors);

  const routes = new ApiRouter(opts.maxJsonBodyBytes);
  opts.mount(routes);

  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(opts.log));
  return { app, routes };
}
