/**
 * The server-default push rules (spec v1.19 client-server "Push Notifications" → "Predefined
 * Rules"), copied in the spec's order. v1.17 removed the legacy body-based mention rules
 * (`.m.rule.contains_display_name`, `.m.rule.roomnotif`, `.m.rule.contains_user_name`, MSC4210),
 * so v1.19 has no default `content` rules; the deprecated `contains_display_name` *condition*
 * is still evaluated for user-defined rules. `[the user's Matrix ID]` placeholders are filled in
 * per user, so the rules a client GETs show the real id (as Synapse does).
 *
 * Where user rules go relative to these (spec: server-default rules have lower priority than
 * user-defined rules of the same kind, except `.m.rule.master`, which is above everything) is
 * decided by `mergeRuleset` here, so the core and the API agree on one order.
 */
import type { PushRule, PushRuleset, RuleKind } from './evaluate.ts';

export const MASTER_RULE_ID = '.m.rule.master';

/** Default override rules, spec order (".m.rule.master" first). */
function defaultOverrideRules(userId: string): PushRule[] {
  return [
    { rule_id: '.m.rule.master', default: true, enabled: false, conditions: [], actions: [] },
    {
      rule_id: '.m.rule.suppress_notices',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'content.msgtype', pattern: 'm.notice' }],
      actions: [],
    },
    {
      rule_id: '.m.rule.invite_for_me',
      default: true,
      enabled: true,
      conditions: [
        { key: 'type', kind: 'event_match', pattern: 'm.room.member' },
        { key: 'content.membership', kind: 'event_match', pattern: 'invite' },
        { key: 'state_key', kind: 'event_match', pattern: userId },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
    {
      rule_id: '.m.rule.member_event',
      default: true,
      enabled: true,
      conditions: [{ key: 'type', kind: 'event_match', pattern: 'm.room.member' }],
      actions: [],
    },
    {
      rule_id: '.m.rule.is_user_mention',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    },
    {
      rule_id: '.m.rule.is_room_mention',
      default: true,
      enabled: true,
      conditions: [
        { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
        { kind: 'sender_notification_permission', key: 'room' },
      ],
      actions: ['notify', { set_tweak: 'highlight' }],
    },
    {
      rule_id: '.m.rule.tombstone',
      default: true,
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'type', pattern: 'm.room.tombstone' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      actions: ['notify', { set_tweak: 'highlight' }],
    },
    {
      rule_id: '.m.rule.reaction',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.reaction' }],
      actions: [],
    },
    {
      rule_id: '.m.rule.room.server_acl',
      default: true,
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'type', pattern: 'm.room.server_acl' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      actions: [],
    },
    {
      rule_id: '.m.rule.suppress_edits',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }],
      actions: [],
    },
  ];
}

/** Default underride rules, spec order. */
function defaultUnderrideRules(): PushRule[] {
  return [
    {
      rule_id: '.m.rule.call',
      default: true,
      enabled: true,
      conditions: [{ key: 'type', kind: 'event_match', pattern: 'm.call.invite' }],
      actions: ['notify', { set_tweak: 'sound', value: 'ring' }],
    },
    {
      rule_id: '.m.rule.encrypted_room_one_to_one',
      default: true,
      enabled: true,
      conditions: [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
    {
      rule_id: '.m.rule.room_one_to_one',
      default: true,
      enabled: true,
      conditions: [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
    {
      rule_id: '.m.rule.message',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }],
      actions: ['notify'],
    },
    {
      rule_id: '.m.rule.encrypted',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' }],
      actions: ['notify'],
    },
  ];
}

/** The full server-default ruleset for one user, spec order within each kind. */
export function defaultRuleset(userId: string): PushRuleset {
  return { override: defaultOverrideRules(userId), content: [], room: [], sender: [], underride: defaultUnderrideRules() };
}

/** Whether a rule id names a server-default rule (spec: they MUST start with a dot). */
export function isDefaultRuleId(ruleId: string): boolean {
  return ruleId.startsWith('.');
}

/** A user's changes to one server-default rule: `enabled` and `actions` are all they can change. */
export interface DefaultRuleOverride {
  enabled?: boolean;
  actions?: PushRule['actions'];
}

/**
 * The user's effective ruleset: per kind, user rules (most important first) before the default
 * rules, except `.m.rule.master`, which stays first of all. `overrides` is keyed `kind/rule_id`.
 */
export function mergeRuleset(
  userId: string,
  userRules: Readonly<Record<RuleKind, readonly PushRule[]>>,
  overrides: ReadonlyMap<string, DefaultRuleOverride>,
): PushRuleset {
  const defaults = defaultRuleset(userId);
  const apply = (kind: RuleKind, rule: PushRule): PushRule => {
    const o = overrides.get(`${kind}/${rule.rule_id}`);
    if (!o) return rule;
    return { ...rule, enabled: o.enabled ?? rule.enabled, actions: o.actions ?? rule.actions };
  };
  const out = {} as PushRuleset;
  for (const kind of ['override', 'content', 'room', 'sender', 'underride'] as const) {
    const d = defaults[kind].map((r) => apply(kind, r));
    const master = kind === 'override' ? d.filter((r) => r.rule_id === MASTER_RULE_ID) : [];
    const rest = kind === 'override' ? d.filter((r) => r.rule_id !== MASTER_RULE_ID) : d;
    out[kind] = [...master, ...userRules[kind], ...rest];
  }
  return out;
}
