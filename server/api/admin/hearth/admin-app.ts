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
import * as tlsApi from './tls.ts';
import * as backupsApi from './backups.ts';
import * as captchaApi from './captcha.ts';
import * as logsApi from './logs.ts';
import * as storageApi from './storage.ts';
import * as federationApi from './federation.ts';
import type { CaptchaSettings } from '../../../services/users/captcha.ts';

export interface AdminAppDeps extends AdminApiDeps {
  /** renderer/dist */
  guiDir: string;
  maxJsonBodyBytes: number;
  /** Extra host names the admin listener answers to (besides loopback names, IPs, this host's name). */
  allowedHosts?: readonly string[];
  /**
   * Routes of other parts the GUI also needs on this listener: Synapse's admin API (and the
   * public server key, for the signing key fingerprint). Only paths under EXTRA_ROUTE_PREFIXES
   * are kept, so passing a whole client API mount never puts the client API or its media on the
   * GUI's origin. Called again after setup rebuilds the services.
   */
  extraRoutes?: (r: ApiRouter) => void;
}

export const EXTRA_ROUTE_PREFIXES = ['/_synapse/admin/', '/_matrix/key/v2/server'] as const;

/** An ApiRouter that drops every route outside EXTRA_ROUTE_PREFIXES. */
class ExtraRoutes extends ApiRouter {
  override route(...[method, paths, handlers, opts]: Parameters<ApiRouter['route']>): void {
    const kept = (typeof paths === 'string' ? [paths] : paths).filter((p) => EXTRA_ROUTE_PREFIXES.some((x) => p.startsWith(x)));
    if (kept.length > 0) super.route(method, kept, handlers, opts);
  }
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
  const buildExtra = (): ExtraRoutes | undefined => {
    if (!deps.extraRoutes) return undefined;
    const r = new ExtraRoutes(deps.maxJsonBodyBytes);
    deps.extraRoutes(r);
    return r;
  };
  let extra = buildExtra();
  // Setup may rebuild the services; the extra routes then have to close over the new ones.
  const reloadServices = async (): Promise<void> => {
    await deps.reloadServices();
    extra = buildExtra();
  };
  setup.register(routes, { ...deps, reloadServices });
  login.register(routes, deps, tokens);
  settings.register(routes, deps, tokens);
  status.register(routes, deps, tokens);
  logsApi.register(routes, deps, tokens);
  storageApi.register(routes, deps, tokens);
  federationApi.register(routes, deps, tokens);
  const tools = deps.adminTools;
  if (tools) {
    tlsApi.register(routes, { tls: tools.tls, settings: deps.settings }, tokens);
    backupsApi.register(routes, { backups: tools.backups, settings: deps.settings }, tokens);
    captchaApi.register(routes, { captcha: tools.captcha, effective: () => deps.effective() as unknown as CaptchaSettings, settings: deps.settings }, tokens);
  }

  const unrecognized = unrecognizedEndpoint(routes);
  app.use('/_hearth/api', sameOriginWrites, noStore);
  app.use(routes.router);
  app.use((req, res, next) => (req.path.startsWith('/_hearth/api/') ? unrecognized(req, res, next) : next()));
  app.use(['/_synapse', '/_matrix'], sameOriginWrites, noStore);
  app.use((req, res, next) => {
    const current = extra;
    if (!current || !EXTRA_ROUTE_PREFIXES.some((x) => req.path.startsWith(x))) return next();
    current.router(req, res, (err?: unknown) => (err ? next(err) : unrecognizedEndpoint(current)(req, res, next)));
  });

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

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

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
