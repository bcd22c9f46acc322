/**
 * Account registration.
 * Spec: client-server/registration.yaml (POST /register, GET /register/available, the
 * email/msisdn requestToken endpoints) and registration_tokens.yaml (v1 validity check).
 * Only `kind=user`; guests are refused. Third-party ids are not supported, so requestToken
 * answers M_THREEPID_DENIED rather than 404.
 */
import { z } from '../../validation/schema.ts';
import { MatrixError, forbidden, missingParam } from '../../errors.ts';
import type { RateLimiter } from '../../services/users/rate-limit.ts';
import type { RegistrationMode, RegistrationService } from '../../services/users/registration.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { clientIp } from '../http/auth.ts';
import { deviceIdSchema, enforceRateLimit } from './login.ts';

export interface RegisterDeps {
  registration: RegistrationService;
  registerLimiter: RateLimiter;
  registrationMode(): RegistrationMode;
}

const registerQuery = z.object({ kind: z.enum(['user', 'guest']).optional() });

const registerBody = z.object({
  auth: z.looseObject({ type: z.string().optional(), session: z.string().optional() }).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  device_id: deviceIdSchema.optional(),
  initial_device_display_name: z.string().max(1000).optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
});

const usernameQuery = z.object({ username: z.string().optional() });
const tokenQuery = z.object({ token: z.string().optional() });

/** The body of a requestToken call, checked only for shape before it is refused. */
const requestTokenBody = z.looseObject({ client_secret: z.string().optional() });

export function register(r: ApiRouter, deps: RegisterDeps): void {
  r.client('POST', '/register', [
    async (req, res) => {
      enforceRateLimit(res, deps.registerLimiter, `ip:${clientIp(req)}`);
      const { kind } = parseQuery(registerQuery, req.query);
      if (kind === 'guest') throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is disabled');
      const body = parseBody(registerBody, req.body);
      const result = await deps.registration.register(
        {
          username: body.username,
          password: body.password,
          deviceId: body.device_id,
          initialDisplayName: body.initial_device_display_name,
          inhibitLogin: body.inhibit_login === true,
          // Only when asked: Element X drops a password session that unexpectedly has one.
          refreshToken: body.refresh_token === true,
          auth: body.auth,
        },
        deps.registrationMode(),
      );
      res.json(result);
    },
  ]);

  r.client('GET', '/register/available', [
    (req, res) => {
      enforceRateLimit(res, deps.registerLimiter, `ip:${clientIp(req)}`);
      const { username } = parseQuery(usernameQuery, req.query);
      if (username === undefined) throw missingParam('Missing parameter: username');
      if (deps.registrationMode() === 'closed') throw forbidden('Registration has been disabled');
      res.json(deps.registration.available(username));
    },
  ]);

  r.client(
    'GET',
    '/register/m.login.registration_token/validity',
    [
      (req, res) => {
        enforceRateLimit(res, deps.registerLimiter, `ip:${clientIp(req)}`);
        const { token } = parseQuery(tokenQuery, req.query);
        if (token === undefined) throw missingParam('Missing parameter: token');
        res.json(deps.registration.tokenValidity(token, deps.registrationMode()));
      },
    ],
    { versions: ['v1'] },
  );

  for (const medium of ['email', 'msisdn']) {
    r.client('POST', `/register/${medium}/requestToken`, [
      (req) => {
        parseBody(requestTokenBody, req.body);
        throw new MatrixError(403, 'M_THREEPID_DENIED', 'Third-party identifiers are not supported on this server');
      },
    ]);
  }
}
