/**
 * OpenID tokens (spec: client-server/openid.yaml): a client proves its identity to a third party
 * (integration managers, widgets), which checks the token through federation's /openid/userinfo.
 */
import type { RequestHandler } from 'express';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { forbidden } from '../../errors.ts';
import type { OpenIdTokens } from '../../services/users/openid.ts';

export function register(r: ApiRouter, deps: { auth: RequestHandler; openid: OpenIdTokens; serverName: string }): void {
  r.client('POST', '/user/:userId/openid/request_token', [
    deps.auth,
    (req, res) => {
      const me = requester(req);
      if (req.params.userId !== me.userId) throw forbidden('Cannot request OpenID tokens for other users');
      const t = deps.openid.issue(me.userId);
      res.json({ access_token: t.token, token_type: 'Bearer', matrix_server_name: deps.serverName, expires_in: Math.floor(t.expiresInMs / 1000) });
    },
  ]);
}
