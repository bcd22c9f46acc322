/**
 * The admin listener's application: Hearth's admin API (/_hearth/api/v1/) and the GUI
 * (/_hearth/admin/). It runs on its own listener (`--admin-listen`, loopback by default) so an
 * internet-facing homeserver never exposes it and nothing served on the client origin (such as
 * uploaded media) shares the GUI's origin.
 *
 * Browsers can still reach a loopback port from any web page, so the edge refuses:
 * - a Host header that is not this machine (DNS rebinding: evil.example resolving to 127.0.0.1);
 * - a cross-site Origin, and state-changing requests without a JSON content type (a page's
 *   "simple" cross-origin POST cannot set one without a CORS preflight, which is never granted).
 */
import express, { type Express, type RequestHandler } from 'express';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { MatrixError } from '../../../errors.ts';
import { errorHandler, unrecognizedEndpoint } from '../../http/errors.ts';
import { requestLog } from '../../http/request-log.ts';
import { ApiRouter } from '../../http/router.ts';
import type { TokenResolver } from '../../http/auth.ts';
import { mountGui, securityHeaders } from '../../gui.ts';
import type { AdminApiDeps } from './deps.ts';
import * as setup from './setup.ts';
import * as settings from './settings.ts';
import * as status from './status.ts';
import * as login from './login.ts';
import * as storageApi from './storage.ts';
import * as federationApi from './federation.ts';
import * as tlsApi from './tls.ts';
import * as backupsApi from './backups.ts';
import * as captchaApi from './captcha.ts';
import type { CaptchaSettings } from '../../../services/users/captcha.ts';

export interface AdminAppDeps extends AdminApiDeps {
  /** renderer/dist */
  guiDir: string;
  maxJsonBodyBytes: number;
  /** Extra host names the admin listener answers to (besides loopback names, IPs, this host's name). */
  allowedHosts?: readonly string[];
}

export function createAdminApp(deps: AdminAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(deps.log));
  app.use(securityHeaders);
  app.use(hostCheck(deps.allowedHosts ?? []));

  // Token resolution goes through accounts() each time: setup may rebuild the account services.
  const tokens: TokenResolver = { resolve: (t, meta) => deps.accounts().tokens.resolve(t, meta) };
  const routes = new ApiRouter(deps.maxJsonBodyBytes);
  setup.register(routes, deps);
  login.register(routes, deps, tokens);
  settings.register(routes, deps, tokens);
  status.register(routes, deps, tokens);
  storageApi.register(routes, deps, tokens);
  federationApi.register(routes, deps, tokens);
  const tools = deps.adminTools;
  if (tools) {
    tlsApi.register(routes, { tls: tools.tls, settings: deps.settings }, tokens);
    backupsApi.register(routes, { backups: tools.backups, settings: deps.settings }, tokens);
    captchaApi.register(routes, { captcha: tools.captcha, effective: () => deps.effective() as unknown as CaptchaSettings, settings: deps.settings }, tokens);
  }

  const unrecognized = unrecognizedEndpoint(routes);
  app.use('/_hearth/api', sameOriginWrites, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(routes.router);
  app.use((req, res, next) => (req.path.startsWith('/_hearth/api/') ? unrecognized(req, res, next) : next()));

  mountGui(app, { dir: deps.guiDir });
  app.use((_req, res) => void res.status(404).type('text/plain').send('Not found'));
  app.use(errorHandler(deps.log));
  return app;
}

/** Host header allow-list: loopback names, IP literals, this machine's name, configured names. */
export function hostCheck(extra: readonly string[]): RequestHandler {
  const own = hostname().toLowerCase();
  const names = new Set(['localhost', own, `${own}.local`, `${own}.lan`, ...extra.map((h) => h.toLowerCase())]);
  return (req, res, next) => {
    const raw = (req.headers.host ?? '').toLowerCase();
    const host = raw.startsWith('[') ? raw.slice(1, raw.indexOf(']')) : raw.replace(/:\d+$/, '');
    if (isIP(host) !== 0 || names.has(host) || host.endsWith('.localhost')) {
      next();
      return;
    }
    res.status(421).type('text/plain').send('This address is not allowed for the Hearth admin pages. Use http://127.0.0.1 or this computer\'s IP address.');
  };
}

/** Refuses cross-site requests, and writes that a cross-site form or beacon could send. */
const sameOriginWrites: RequestHandler = (req, _res, next) => {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let ok = false;
    try {
      ok = new URL(origin).host === req.headers.host;
    } catch {
      ok = false;
    }
    if (!ok) throw new MatrixError(403, 'M_FORBIDDEN', 'Cross-origin requests are not allowed');
  } else if (origin === 'null') {
    throw new MatrixError(403, 'M_FORBIDDEN', 'Cross-origin requests are not allowed');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
    const type = req.headers['content-type'] ?? '';
    const hasBody = Number(req.headers['content-length'] ?? '0') > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!/^application\/json\b/i.test(type) && (hasBody || req.method === 'POST')) {
      throw new MatrixError(415, 'M_NOT_JSON', 'Requests to the admin API must have Content-Type: application/json');
    }
  }
  next();
};
