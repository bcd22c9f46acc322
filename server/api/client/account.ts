/**
 * Account management: password change, deactivation, third-party identifiers.
 * Spec: client-server/password_management.yaml, account_deactivation.yaml,
 * administrative_contact.yaml. Password change and deactivation need user-interactive auth with
 * the account's password. No third-party ids are ever bound here: the list is empty, adding is
 * refused with the spec's errors (never 404), deleting answers `no-support`.
 */
import { z } from '../../validation/schema.ts';
import { MatrixError } from '../../errors.ts';
import type { AccountService } from '../../services/users/accounts.ts';
import type { TokenService } from '../../services/users/tokens.ts';
import type { UiaFlow, UserInteractiveAuth } from '../../services/users/uia.ts';
import { requester, requireAuth } from '../http/auth.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';

export interface AccountDeps {
  accounts: AccountService;
  uia: UserInteractiveAuth;
  tokens: TokenService;
}

/** The UIA flows for operations that need the user's own password. */
export const PASSWORD_FLOWS: UiaFlow[] = [{ stages: ['m.login.password'] }];

const authDict = z.looseObject({ type: z.string().optional(), session: z.string().optional() });

const passwordBody = z.object({
  new_password: z.string(),
  logout_devices: z.boolean().optional(),
  auth: authDict.optional(),
});

const deactivateBody = z.object({
  auth: authDict.optional(),
  id_server: z.string().optional(),
  erase: z.boolean().optional(),
});

const addThreepidBody = z.object({ client_secret: z.string(), sid: z.string(), auth: authDict.optional() });
const bindThreepidBody = z.object({ client_secret: z.string(), id_server: z.string(), id_access_token: z.string(), sid: z.string() });
const removeThreepidBody = z.object({ medium: z.string(), address: z.string(), id_server: z.string().optional() });
const legacyThreepidBody = z.object({ three_pid_creds: z.looseObject({}), bind: z.boolean().optional() });
const requestTokenBody = z.looseObject({ client_secret: z.string().optional() });

const threepidDenied = (): MatrixError => new MatrixError(403, 'M_THREEPID_DENIED', 'Third-party identifiers are not supported on this server');

export function register(r: ApiRouter, deps: AccountDeps): void {
  const auth = requireAuth(deps.tokens);

  r.client('POST', '/account/password', [
    auth,
    async (req, res) => {
      const body = parseBody(passwordBody, req.body);
      const me = requester(req);
      const session = await deps.uia.authenticate({ op: 'account/password', flows: PASSWORD_FLOWS, auth: body.auth, userId: me.userId });
      // logout_devices defaults to true; the device making the request stays logged in.
      await deps.accounts.changePassword(me.userId, body.new_password, body.logout_devices !== false, me.deviceId);
      deps.uia.finish(session);
      res.json({});
    },
  ]);

  r.client('POST', '/account/deactivate', [
    auth,
    async (req, res) => {
      const body = parseBody(deactivateBody, req.body);
      const me = requester(req);
      const session = await deps.uia.authenticate({ op: 'account/deactivate', flows: PASSWORD_FLOWS, auth: body.auth, userId: me.userId });
      await deps.accounts.deactivate(me.userId);
      deps.uia.finish(session);
      // No identity server binds exist, so there is nothing to unbind.
      res.json({ id_server_unbind_result: 'no-support' });
    },
  ]);

  r.client('GET', '/account/3pid', [
    auth,
    (_req, res) => {
      res.json({ threepids: [] });
    },
  ]);

  r.client('POST', '/account/3pid', [
    auth,
    (req) => {
      parseBody(legacyThreepidBody, req.body);
      throw new MatrixError(403, 'M_THREEPID_AUTH_FAILED', 'The third-party credentials could not be verified');
    },
  ]);

  r.client('POST', '/account/3pid/add', [
    auth,
    (req) => {
      parseBody(addThreepidBody, req.body);
      // No requestToken ever succeeds here, so no session can be validated.
      throw new MatrixError(400, 'M_THREEPID_AUTH_FAILED', 'No validated 3pid session found');
    },
  ]);

  r.client('POST', '/account/3pid/bind', [
    auth,
    (req) => {
      parseBody(bindThreepidBody, req.body);
      throw threepidDenied();
    },
  ]);

  for (const path of ['/account/3pid/delete', '/account/3pid/unbind']) {
    r.client('POST', path, [
      auth,
      (req, res) => {
        parseBody(removeThreepidBody, req.body);
        res.json({ id_server_unbind_result: 'no-support' });
      },
    ]);
  }

  for (const path of ['/account/3pid/email/requestToken', '/account/3pid/msisdn/requestToken', '/account/password/email/requestToken', '/account/password/msisdn/requestToken']) {
    r.client('POST', path, [
      (req) => {
        parseBody(requestTokenBody, req.body);
        throw threepidDenied();
      },
    ]);
  }
}
