/**
 * Synapse's registration tokens admin API (Synapse docs admin_api/registration_tokens.md):
 * `GET /_synapse/admin/v1/registration_tokens[?valid=true|false]`, `GET|PUT|DELETE
 * .../registration_tokens/{token}` and `POST .../registration_tokens/new`. Admins only.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError } from '../../../errors.ts';
import type { RegistrationTokenRecord, SynapseRegistrationTokensAdmin } from '../../../services/admin/synapse-registration-tokens.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseQuery } from '../../http/validate.ts';
import { boolParam } from './params.ts';

export interface RegistrationTokensApiDeps {
  tokens: TokenResolver;
  registrationTokens: SynapseRegistrationTokensAdmin;
}

const P = '/_synapse/admin/v1/registration_tokens';

const count = z.number().int().min(0).nullable();
const newBody = z.object({
  token: z.string().optional(),
  uses_allowed: count.optional(),
  expiry_time: z.number().int().nullable().optional(),
  length: z.number().int().min(1).max(64).optional(),
});
const updateBody = z.object({ uses_allowed: count.optional(), expiry_time: z.number().int().nullable().optional() });
const listQuery = z.object({ valid: boolParam.optional() });

/** Synapse answers malformed token bodies with M_INVALID_PARAM, naming the field. */
function parseTokenBody<S extends z.Schema>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new MatrixError(400, 'M_INVALID_PARAM', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

function shape(t: RegistrationTokenRecord): Record<string, unknown> {
  return { token: t.token, uses_allowed: t.usesAllowed, pending: t.pending, completed: t.completed, expiry_time: t.expiryTime };
}

export function register(r: ApiRouter, deps: RegistrationTokensApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const svc = deps.registrationTokens;

  r.route('GET', P, [admin, (req, res) => void res.json({ registration_tokens: svc.list(parseQuery(listQuery, req.query).valid).map(shape) })]);

  r.route('POST', `${P}/new`, [
    admin,
    async (req, res) => {
      const b = parseTokenBody(newBody, req.body);
      const t = await svc.create({ token: b.token, usesAllowed: b.uses_allowed ?? null, expiryTime: b.expiry_time ?? null, length: b.length ?? 16 });
      res.json(shape(t));
    },
  ]);

  r.route('GET', `${P}/:token`, [admin, (req, res) => void res.json(shape(svc.get(String(req.params.token))))]);

  r.route('PUT', `${P}/:token`, [
    admin,
    async (req, res) => {
      const b = parseTokenBody(updateBody, req.body);
      res.json(shape(await svc.update(String(req.params.token), { usesAllowed: b.uses_allowed, expiryTime: b.expiry_time })));
    },
  ]);

  r.route('DELETE', `${P}/:token`, [
    admin,
    async (req, res) => {
      await svc.delete(String(req.params.token));
      res.json({});
    },
  ]);
}
