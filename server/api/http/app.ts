/**
 * The Express application: edge middleware (CORS, request log), every API file's routes, then
 * the 404/405 fallback and the one error middleware. No request can crash the process: every
 * failure ends in errorHandler.
 */
import express, { type Express } from 'express';
import type { Logger } from '../../logger.ts';
import { ApiRouter } from './router.ts';
import { cors } from './cors.ts';
import { errorHandler, unrecognizedEndpoint } from './errors.ts';
import { requestLog } from './request-log.ts';
import * as discovery from '../client/discovery.ts';

export interface AppDeps {
  log: Logger;
  maxJsonBodyBytes: number;
  discovery: discovery.DiscoveryDeps;
}

export function createApp(deps: AppDeps): { app: Express; routes: ApiRouter } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLog(deps.log));
  app.use(['/_matrix', '/.well-known/matrix', '/_synapse'], cors);

  const routes = new ApiRouter(deps.maxJsonBodyBytes);
  discovery.register(routes, deps.discovery);

  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(deps.log));
  return { app, routes };
}
