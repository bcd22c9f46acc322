/**
 * Session management: login, logout, token refresh, whoami.
 * Spec: client-server/login.yaml, logout.yaml, refresh.yaml, whoami.yaml.
 * Only `m.login.password` is offered, since it is the only login type that works here.
 */
import type { Request, Response } from 'express';
import { z } from '../../validation/schema.ts';
import { MatrixError, forbidden, missingParam } from '../../errors.ts';
import type { AccountService } from '../../services/users/accounts.ts';
import type { RateLimiter } from '../../services/users/rate-limit.ts';
import type { TokenService } from '../../services/users/tokens.ts';
import { clientIp, requester, requireAuth } from '../http/auth.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';

export interface LoginDeps {
  accounts: AccountService;
  tokens: TokenService;
  loginLimiter: RateLimiter;
}

/** Device ids are opaque, but bounded: they become part of keys and federation EDUs. */
export const deviceIdSchema = z.string().min(1).max(255);

const loginBody = z.object({
  type: z.string(),
  identifier: z.looseObject({ type: z.string(), user: z.string().optional() }).optional(),
  user: z.string().optional(),
  medium: z.string().optional(),
  address: z.string().optional(),
  password: z.string().optional(),
  device_id: deviceIdSchema.optional(),
  initial_device_display_name: z.string().max(1000).optional(),
  refresh_token: z.boolean().optional(),
});

const refreshBody = z.object({ refresh_token: z.string() });

/** Takes a rate-limit token for each key, or answers 429 with Retry-After. */
export function enforceRateLimit(res: Response, limiter: RateLimiter, ...keys: string[]): void {
  const r = limiter.take(...keys);
  if (r.ok) return;
  res.setHeader('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)));
  throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: r.retryAfterMs });
}

export function register(r: ApiRouter, deps: LoginDeps): void {
  const auth = requireAuth(deps.tokens);

  r.client('GET', '/login', [
    (_req, res) => {
      res.json({ flows: [{ type: 'm.login.password' }] });
    },
  ]);

  r.client('POST', '/login', [
    async (req, res) => {
      const body = parseBody(loginBody, req.body);
      if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login type');
      let user: string | undefined;
      if (body.identifier) {
        if (body.identifier.type === 'm.id.user') {
          if (body.identifier.user === undefined) throw missingParam('Missing parameter: identifier.user');
          user = body.identifier.user;
        } else if (body.identifier.type === 'm.id.thirdparty' || body.identifier.type === 'm.id.phone') {
          // No third-party identifiers are ever bound here, so none can log in.
          enforceRateLimit(res, deps.loginLimiter, `ip:${clientIp(req)}`);
          throw forbidden('Invalid username or password');
        } else {
          throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login identifier type');
        }
      } else if (body.user !== undefined) {
        user = body.user;
      } else if (body.medium !== undefined || body.address !== undefined) {
        enforceRateLimit(res, deps.loginLimiter, `ip:${clientIp(req)}`);
        throw forbidden('Invalid username or password');
      } else {
        throw missingParam('Missing parameter: identifier');
      }
      if (body.password === undefined) throw missingParam('Missing parameter: password');
      enforceRateLimit(res, deps.loginLimiter, `ip:${clientIp(req)}`, `user:${user.toLowerCase()}`);
      const result = await deps.accounts.login({
        user,
        password: body.password,
        deviceId: body.device_id,
        initialDisplayName: body.initial_device_display_name,
        refreshToken: body.refresh_token === true,
      });
      res.json(result);
    },
  ]);

  r.client('POST', '/logout', [
    auth,
    async (req, res) => {
      const me = requester(req);
      await deps.accounts.logout(me.userId, me.deviceId);
      res.json({});
    },
  ]);

  r.client('POST', '/logout/all', [
    auth,
    async (req, res) => {
      await deps.accounts.logoutAll(requester(req).userId);
      res.json({});
    },
  ]);

  r.client('GET', '/account/whoami', [
    auth,
    (req, res) => {
      const me = requester(req);
      res.json({ user_id: me.userId, device_id: me.deviceId, is_guest: false });
    },
  ]);

  r.client(
    'POST',
    '/refresh',
    [
      async (req, res) => {
        const body = parseBody(refreshBody, req.body);
        res.json(await deps.tokens.refresh(body.refresh_token));
      },
    ],
    { versions: ['v3'] },
  );
}
