/**
 * First-run setup (`/_hearth/api/v1/setup`): the wizard's state and its one final request, which
 * sets the server name, creates the first admin and stores the first choices. Open without a
 * session only while setup is needed (no account exists and setup never finished); the admin
 * listener is loopback-only by default, and admin-app.ts refuses cross-site and rebound requests.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError, forbidden, invalidParam } from '../../../errors.ts';
import { isValidLocalpartForRegistration, parseServerName } from '../../../core/ids.ts';
import { lanAddresses } from '../../../services/admin/stats.ts';
import { TLS_MODES } from '../../../services/admin/status-types.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import type { AdminApiDeps } from './deps.ts';
import type { SetupResponse, SetupStateResponse, TlsMode } from './types.ts';

const REGISTRATION = ['closed', 'token', 'captcha', 'open'] as const;
export const MIN_ADMIN_PASSWORD_LENGTH = 8;

const TLS_CHOICE: Record<Exclude<TlsMode, 'none'>, string> = {
  'self-signed': 'A certificate made by Hearth',
  'acme-http': "Let's Encrypt (HTTP challenge)",
  'acme-dns': "Let's Encrypt (DNS challenge)",
  files: 'Your own certificate files',
  proxy: 'A reverse proxy or tunnel',
};

const setupBody = z.object({
  serverName: z.string().min(1).max(255),
  admin: z.object({ username: z.string().min(1).max(255), password: z.string().max(512) }),
  tlsMode: z.enum(TLS_MODES),
  registration: z.enum(REGISTRATION),
  federationEnabled: z.boolean(),
});

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}

/** The client listener's real port (the configured one may be 0: "any free port"). */
export function boundClientPort(deps: AdminApiDeps): number {
  try {
    const port = Number(new URL(deps.urls().client).port);
    if (port > 0) return port;
  } catch {
    // Not listening yet: fall back to the configured port.
  }
  return deps.effective().listen.port;
}

/** Whether the wizard should run: nobody has an account yet and setup never finished. */
export function needsSetup(deps: AdminApiDeps): boolean {
  return deps.settings.setupCompletedTs() === undefined && deps.accounts().countUsers() === 0;
}

/** Server names a family can use: valid grammar, and lowercase (names are case-sensitive in ids). */
export function checkServerName(name: string): string | undefined {
  if (!parseServerName(name)) return 'That is not a valid server name. Use a domain such as home.example.org, or a simple name such as hearth.local.';
  if (name !== name.toLowerCase()) return 'Use lowercase letters only.';
  return undefined;
}

export function register(r: ApiRouter, deps: AdminApiDeps): void {
  // One setup at a time: a second request waits, then sees that setup is done.
  let running: Promise<unknown> = Promise.resolve();

  r.route('GET', '/_hearth/api/v1/setup/state', [
    (_req, res) => {
      const eff = deps.effective();
      // The server name is public anyway (it is in every user id); the rest only during setup.
      const body: SetupStateResponse = { needsSetup: needsSetup(deps), serverName: eff.serverName };
      if (body.needsSetup) {
        body.serverNameLocked = deps.overriddenKeys().includes('serverName');
        body.lanAddresses = (deps.lanAddresses ?? lanAddresses)();
        body.clientPort = boundClientPort(deps);
        body.clientLoopbackOnly = isLoopbackHost(eff.listen.host);
      }
      res.json(body);
    },
  ]);

  r.route('POST', '/_hearth/api/v1/setup', [
    async (req, res) => {
      const body = parseBody(setupBody, req.body);
      const nameProblem = checkServerName(body.serverName);
      if (nameProblem) throw invalidParam(nameProblem);
      const localpart = body.admin.username.toLowerCase().replace(/^@/, '').replace(/:.*$/, '');
      if (!isValidLocalpartForRegistration(localpart, body.serverName)) {
        throw new MatrixError(400, 'M_INVALID_USERNAME', 'Usernames may contain only a-z, 0-9 and = _ - . / +');
      }
      if (body.admin.password.length < MIN_ADMIN_PASSWORD_LENGTH) {
        throw new MatrixError(400, 'M_WEAK_PASSWORD', `The password needs at least ${MIN_ADMIN_PASSWORD_LENGTH} characters.`);
      }

      const work = running.then(async (): Promise<SetupResponse> => {
        if (!needsSetup(deps)) throw forbidden('Setup is already complete. Sign in as an admin to change settings.');
        const current = deps.effective().serverName;
        if (body.serverName !== current) {
          if (deps.overriddenKeys().includes('serverName')) {
            throw invalidParam(`The server name is fixed to ${current} by the command line or settings file.`);
          }
          await deps.settings.update({ serverName: body.serverName });
          await deps.reloadServices();
        }
        const notes: string[] = [];
        if (body.tlsMode !== 'none') {
          // The certificate itself comes from the TLS API (the wizard's last step calls it).
          notes.push(`${TLS_CHOICE[body.tlsMode]}: your choice is saved; set up the certificate on the HTTPS page. Until then Hearth serves plain HTTP.`);
        }
        await deps.settings.update({ registration: body.registration, federationEnabled: body.federationEnabled, tlsMode: body.tlsMode });
        const session = await deps.accounts().createAdmin(localpart, body.admin.password);
        await deps.settings.markSetupComplete();
        deps.log.info('setup complete', { serverName: body.serverName, admin: session.user_id, tlsMode: body.tlsMode });
        return { ...session, server_name: deps.effective().serverName, notes };
      });
      running = work.catch(() => undefined);
      res.json(await work);
    },
  ]);
}
