/**
 * Admin sign-in for the GUI in a browser (`POST /_hearth/api/v1/login`): the GUI's origin is the
 * admin listener, so it cannot call the client listener's /login. An admin's Matrix username and
 * password give an ordinary access token on a new device; non-admins get M_FORBIDDEN.
 * `POST /_hearth/api/v1/logout` ends that session.
 */
import { z } from '../../../validation/schema.ts';
import { requester, requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import type { AdminApiDeps } from './deps.ts';
import type { AdminLoginResponse } from './types.ts';

const loginBody = z.object({ username: z.string().min(1).max(255), password: z.string().min(1).max(512) });

export function register(r: ApiRouter, deps: AdminApiDeps, tokens: TokenResolver): void {
  r.route('POST', '/_hearth/api/v1/login', [
    async (req, res) => {
      const body = parseBody(loginBody, req.body);
      const session: AdminLoginResponse = await deps.accounts().loginAdmin(body.username.trim(), body.password);
      deps.log.info('admin signed in to the GUI', { user: session.user_id });
      res.json(session);
    },
  ]);
  r.route('POST', '/_hearth/api/v1/logout', [
    requireAdmin(tokens),
    async (req, res) => {
      const who = requester(req);
      await deps.accounts().logout(who.userId, who.deviceId);
      res.json({});
    },
  ]);
}
