/**
 * Push rules, pushers and notifications (spec client-server "Push Notifications"):
 * client-server/pushrules.yaml (GET /pushrules/, /pushrules/global/, one rule, its enabled flag
 * and actions), pusher.yaml (GET /pushers, POST /pushers/set) and notifications.yaml
 * (GET /notifications). Handlers validate, call services/push, and shape the answer.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import { invalidParam } from '../../errors.ts';
import { isRuleKind, type PushAction, type PushCondition, type RuleKind } from '../../core/push/evaluate.ts';
import type { PushRulesService } from '../../services/push/rules.ts';
import type { Pushers } from '../../services/push/pushers.ts';
import type { NotificationsPage } from '../../services/push/counts.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { requester } from '../http/auth.ts';

export interface PushApiDeps {
  auth: RequestHandler;
  rules: PushRulesService;
  pushers: Pushers;
  notifications: {
    notifications(userId: string, opts: { from?: string; limit: number; onlyHighlight: boolean }): NotificationsPage;
  };
}

/** An action: `notify`, the historical `dont_notify`/`coalesce` (stripped later), or a tweak. */
const actionSchema = z.union([
  z.enum(['notify', 'dont_notify', 'coalesce']),
  z.looseObject({ set_tweak: z.string() }),
]);
const actionsSchema = z.array(actionSchema);
const conditionSchema = z.looseObject({ kind: z.string() });

const putRuleBody = z.object({
  actions: actionsSchema,
  conditions: z.array(conditionSchema).optional(),
  pattern: z.string().optional(),
});
const putRuleQuery = z.object({ before: z.string().min(1).optional(), after: z.string().min(1).optional() });
const enabledBody = z.object({ enabled: z.boolean() });
const actionsBody = z.object({ actions: actionsSchema });

const setPusherBody = z.object({
  kind: z.string().nullable(),
  app_id: z.string().min(1).max(64),
  pushkey: z.string().min(1).refine((s) => Buffer.byteLength(s, 'utf8') <= 512, 'pushkey is longer than 512 bytes'),
  app_display_name: z.string().optional(),
  device_display_name: z.string().optional(),
  profile_tag: z.string().optional(),
  lang: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  append: z.boolean().optional(),
});

const notificationsQuery = z.object({
  from: z.string().regex(/^\d{1,15}$/, 'from must be a next_token from an earlier response').optional(),
  limit: z
    .string()
    .regex(/^\d{1,6}$/)
    .transform((s) => Math.min(Math.max(Number(s), 1), 100))
    .optional(),
  only: z.string().optional(),
});

function kindParam(v: unknown): RuleKind {
  const s = String(v);
  if (!isRuleKind(s)) throw invalidParam(`Unknown push rule kind: ${s}`);
  return s;
}

function params(req: { params: unknown }): { kind: RuleKind; ruleId: string } {
  const p = req.params as Record<string, string>;
  return { kind: kindParam(p.kind), ruleId: String(p.ruleId) };
}

export function register(r: ApiRouter, deps: PushApiDeps): void {
  const { auth, rules } = deps;

  r.client('GET', '/pushrules/', [auth, (req, res) => void res.json({ global: rules.ruleset(requester(req).userId) })]);
  r.client('GET', '/pushrules/global/', [auth, (req, res) => void res.json(rules.ruleset(requester(req).userId))]);

  r.client('GET', '/pushrules/global/:kind/:ruleId', [
    auth,
    (req, res) => {
      const { kind, ruleId } = params(req);
      res.json(rules.getRule(requester(req).userId, kind, ruleId));
    },
  ]);
  r.client('PUT', '/pushrules/global/:kind/:ruleId', [
    auth,
    async (req, res) => {
      const { kind, ruleId } = params(req);
      const q = parseQuery(putRuleQuery, req.query);
      const body = parseBody(putRuleBody, req.body);
      await rules.putRule(
        requester(req).userId,
        kind,
        ruleId,
        { actions: body.actions as PushAction[], conditions: body.conditions as PushCondition[] | undefined, pattern: body.pattern },
        q,
      );
      res.json({});
    },
  ]);
  r.client('DELETE', '/pushrules/global/:kind/:ruleId', [
    auth,
    async (req, res) => {
      const { kind, ruleId } = params(req);
      await rules.deleteRule(requester(req).userId, kind, ruleId);
      res.json({});
    },
  ]);

  r.client('GET', '/pushrules/global/:kind/:ruleId/enabled', [
    auth,
    (req, res) => {
      const { kind, ruleId } = params(req);
      res.json({ enabled: rules.getRule(requester(req).userId, kind, ruleId).enabled });
    },
  ]);
  r.client('PUT', '/pushrules/global/:kind/:ruleId/enabled', [
    auth,
    async (req, res) => {
      const { kind, ruleId } = params(req);
      const body = parseBody(enabledBody, req.body);
      await rules.setEnabled(requester(req).userId, kind, ruleId, body.enabled);
      res.json({});
    },
  ]);
  r.client('GET', '/pushrules/global/:kind/:ruleId/actions', [
    auth,
    (req, res) => {
      const { kind, ruleId } = params(req);
      res.json({ actions: rules.getRule(requester(req).userId, kind, ruleId).actions });
    },
  ]);
  r.client('PUT', '/pushrules/global/:kind/:ruleId/actions', [
    auth,
    async (req, res) => {
      const { kind, ruleId } = params(req);
      const body = parseBody(actionsBody, req.body);
      await rules.setActions(requester(req).userId, kind, ruleId, body.actions as PushAction[]);
      res.json({});
    },
  ]);

  r.client('GET', '/pushers', [auth, (req, res) => void res.json({ pushers: deps.pushers.list(requester(req).userId) })]);
  r.client('POST', '/pushers/set', [
    auth,
    async (req, res) => {
      const body = parseBody(setPusherBody, req.body);
      const who = requester(req);
      await deps.pushers.set(who.userId, who.deviceId, body);
      res.json({});
    },
  ]);

  r.client('GET', '/notifications', [
    auth,
    (req, res) => {
      const q = parseQuery(notificationsQuery, req.query);
      res.json(
        deps.notifications.notifications(requester(req).userId, {
          from: q.from,
          limit: q.limit ?? 20,
          onlyHighlight: q.only === 'highlight',
        }),
      );
    },
  ]);
}
