/**
 * GET /_matrix/federation/v1/openid/userinfo (spec: server-server openid.yaml): a third party
 * exchanges an OpenID token a client gave it for the user id. Authenticated by the token alone,
 * not X-Matrix.
 */
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';
import { MatrixError } from '../../errors.ts';
import type { OpenIdTokens } from '../../services/users/openid.ts';

const query = z.object({ access_token: z.string().min(1, 'access_token is required') });

export function register(r: ApiRouter, deps: { openid: Pick<OpenIdTokens, 'userFor'> }): void {
  r.route('GET', '/_matrix/federation/v1/openid/userinfo', [
    (req, res) => {
      if (typeof req.query.access_token !== 'string') throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Missing access token');
      const q = parseQuery(query, req.query);
      const userId = deps.openid.userFor(q.access_token);
      if (!userId) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token unknown or expired');
      res.json({ sub: userId });
    },
  ]);
}
