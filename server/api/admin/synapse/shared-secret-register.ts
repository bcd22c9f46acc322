/**
 * Synapse's shared-secret registration (`/_synapse/admin/v1/register`, Synapse docs
 * "Shared-Secret Registration"), used by `register_new_matrix_user` and admin tooling: GET gives
 * a single-use nonce valid for 60 s, POST creates the account if the HMAC-SHA1 over
 * nonce\0username\0password\0admin|notadmin[\0user_type] under the shared secret matches.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError } from '../../../errors.ts';
import type { RegistrationService } from '../../../services/users/registration.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';

export interface SharedSecretRegisterDeps {
  registration: RegistrationService;
  /** The configured secret, or undefined when shared-secret registration is disabled. */
  sharedSecret(): string | undefined;
}

const PATH = '/_synapse/admin/v1/register';

const registerBody = z.object({
  nonce: z.string(),
  username: z.string(),
  password: z.string(),
  mac: z.string(),
  admin: z.boolean().optional(),
  displayname: z.string().max(256).optional(),
  user_type: z.string().nullable().optional(),
});

const disabled = (): MatrixError => new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');

export function register(r: ApiRouter, deps: SharedSecretRegisterDeps): void {
  r.route('GET', PATH, [
    (_req, res) => {
      if (!deps.sharedSecret()) throw disabled();
      res.json({ nonce: deps.registration.newNonce() });
    },
  ]);

  r.route('POST', PATH, [
    async (req, res) => {
      const secret = deps.sharedSecret();
      if (!secret) throw disabled();
      const body = parseBody(registerBody, req.body);
      const result = await deps.registration.registerWithSharedSecret(
        {
          nonce: body.nonce,
          username: body.username,
          password: body.password,
          mac: body.mac,
          admin: body.admin === true,
          displayname: body.displayname,
          userType: body.user_type ?? undefined,
        },
        secret,
      );
      res.json({ access_token: result.access_token, user_id: result.user_id, home_server: result.home_server, device_id: result.device_id });
    },
  ]);
}
