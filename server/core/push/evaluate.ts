/**
 * Push rule evaluation (spec v1.19 client-server "Push Notifications" → "Push Rules":
 * kinds, actions, conditions; appendices "Glob-style matching" and "Dot-separated property
 * paths"). Pure: the event and a small context (member count, display name, power levels, as
 * lazy lookups so they are only fetched when a rule needs them) come in, a verdict comes out.
 *
 * Evaluation runs for every member on every event, so a ruleset is compiled once into closures
 * (paths pre-split, globs turned into cached RegExps) and reused until the user's rules change.
 */

export type RuleKind = 'override' | 'content' | 'room' | 'sender' | 'underride';
/** Kinds in the order they are checked (spec: override > content > room > sender > underride). */
export const RULE_KINDS: readonly RuleKind[] = ['override', 'content', 'room', 'sender', 'underride'];

export function isRuleKind(s: string): s is RuleKind {
  return (RULE_KINDS as readonly string[]).includes(s);
}

export type TweakAction = { set_tweak: string; value?: unknown; [k: string]: unknown };
export type PushAction = string | TweakAction | Record<string, unknown>;

export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  is?: string;
  value?: unknown;
  [k: string]: unknown;
}

/** Wire shape of a rule (push_rule.yaml). */
export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  conditions?: PushCondition[];
  pattern?: string;
  actions: PushAction[];
}

export type PushRuleset = Record<RuleKind, PushRule[]>;

/** What a condition may need besides the event; called lazily, at most once per evaluation each. */
export interface PushContext {
  /** The user the rules belong to. */
  userId: string;
  /** Joined members of the room (room_member_count). */
  memberCount(): number;
  /** The user's display name in the room, or null (contains_display_name). */
  displayName(): string | null;
  /** The sender's power level (sender_notification_permission). */
  senderPowerLevel(): number;
  /** Power level needed for `notifications[key]` (spec default for `room`: 50). */
  notificationPowerLevel(key: string): number;
}

export interface PushVerdict {
  notify: boolean;
  highlight: boolean;
  /** `set_tweak` entries of the matching rule (highlight included when set). */
  tweaks: Record<string, unknown>;
  /** The matching rule's actions, historical ones stripped ([] when nothing matched). */
  actions: PushAction[];
  /** The rule that matched, or null. */
  ruleId: string | null;
  kind: RuleKind | null;
}

export const NO_NOTIFICATION: PushVerdict = Object.freeze({
  notify: false,
  highlight: false,
  tweaks: {},
  actions: [],
  ruleId: null,
  kind: null,
}) as PushVerdict;

// ---- Dot-separated property paths -------------------------------------------------------

/**
 * Splits `content.m\.relates_to.rel_type` into ['content', 'm.relates_to', 'rel_type']: `\.` is a
 * literal dot, `\\` a literal backslash, any other `\x` stays as is (appendices).
 */
export function splitPropertyPath(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === '\\' && (key[i + 1] === '.' || key[i + 1] === '\\')) {
      cur += key[i + 1];
      i++;
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

const MISSING = Symbol('missing');

function lookup(event: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let v: unknown = event;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, p)) return MISSING;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

// ---- Glob patterns -----------------------------------------------------------------------

const WORD_CHAR = 'A-Za-z0-9_';
const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_MAX = 10_000;

function cached(key: string, build: () => RegExp): RegExp {
  let re = regexCache.get(key);
  if (!re) {
    if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
    re = build();
    regexCache.set(key, re);
  }
  return re;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function globBody(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += escapeRegex(ch);
  }
  return out;
}

/**
 * A glob (`*` any run, `?` one character) as a case-insensitive RegExp. Whole value by default;
 * with `words`, any substring that starts and ends at a word boundary (the `content.body` rule).
 */
export function globToRegExp(glob: string, words = false): RegExp {
  return cached(`${words ? 'w' : 'e'}:${glob}`, () =>
    words
      ? new RegExp(`(?<![${WORD_CHAR}])${globBody(glob)}(?![${WORD_CHAR}])`, 'isu')
      : new RegExp(`^${globBody(glob)}$`, 'isu'),
  );
}

function literalWordRegExp(text: string): RegExp {
  return cached(`l:${text}`, () => new RegExp(`(?<![${WORD_CHAR}])${escapeRegex(text)}(?![${WORD_CHAR}])`, 'iu'));
}

// ---- Conditions --------------------------------------------------------------------------

type EventObj = Readonly<Record<string, unknown>>;
type Check = (event: EventObj, ctx: LazyContext) => boolean;

/** Caches the context's lookups for one evaluation. */
class LazyContext {
  private count: number | undefined;
  private name: string | null | undefined;
  private senderLevel: number | undefined;
  constructor(readonly ctx: PushContext) {}
  memberCount(): number {
    return (this.count ??= this.ctx.memberCount());
  }
  displayName(): string | null {
    if (this.name === undefined) this.name = this.ctx.displayName();
    return this.name;
  }
  senderPowerLevel(): number {
    return (this.senderLevel ??= this.ctx.senderPowerLevel());
  }
}

const NEVER: Check = () => false;

function isScalar(v: unknown): v is string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function compileMemberCount(is: unknown): Check {
  if (typeof is !== 'string') return NEVER;
  const m = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!m) return NEVER;
  const n = Number(m[2]);
  switch (m[1] ?? '==') {
    case '==':
      return (_e, c) => c.memberCount() === n;
    case '<':
      return (_e, c) => c.memberCount() < n;
    case '>':
      return (_e, c) => c.memberCount() > n;
    case '<=':
      return (_e, c) => c.memberCount() <= n;
    default:
      return (_e, c) => c.memberCount() >= n;
  }
}

/** One condition as a closure; unrecognised or malformed conditions never match (spec). */
export function compileCondition(cond: PushCondition): Check {
  switch (cond.kind) {
    case 'event_match': {
      if (typeof cond.key !== 'string' || typeof cond.pattern !== 'string') return NEVER;
      const path = splitPropertyPath(cond.key);
      const re = globToRegExp(cond.pattern, cond.key === 'content.body');
      return (e) => {
        const v = lookup(e, path);
        return typeof v === 'string' && re.test(v);
      };
    }
    case 'event_property_is': {
      if (typeof cond.key !== 'string' || !isScalar(cond.value)) return NEVER;
      const path = splitPropertyPath(cond.key);
      const want = cond.value;
      return (e) => {
        const v = lookup(e, path);
        return v !== MISSING && isScalar(v) && v === want;
      };
    }
    case 'event_property_contains': {
      if (typeof cond.key !== 'string' || !isScalar(cond.value)) return NEVER;
      const path = splitPropertyPath(cond.key);
      const want = cond.value;
      return (e) => {
        const v = lookup(e, path);
        return Array.isArray(v) && v.some((x) => isScalar(x) && x === want);
      };
    }
    case 'contains_display_name':
      return (e, c) => {
        const content = e.content as Record<string, unknown> | undefined;
        const body = content && typeof content === 'object' ? content.body : undefined;
        if (typeof body !== 'string') return false;
        const name = c.displayName();
        if (!name) return false;
        return literalWordRegExp(name).test(body);
      };
    case 'room_member_count':
      return compileMemberCount(cond.is);
    case 'sender_notification_permission': {
      if (typeof cond.key !== 'string') return NEVER;
      const key = cond.key;
      return (_e, c) => c.senderPowerLevel() >= c.ctx.notificationPowerLevel(key);
    }
    default:
      return NEVER;
  }
}

// ---- Actions -----------------------------------------------------------------------------

/** Strips the historical `dont_notify` and `coalesce` actions (spec "Historical Actions"). */
export function stripHistoricalActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((a) => a !== 'dont_notify' && a !== 'coalesce');
}

function verdictOf(rule: PushRule, kind: RuleKind): PushVerdict {
  const actions = stripHistoricalActions(rule.actions);
  let notify = false;
  const tweaks: Record<string, unknown> = {};
  for (const a of actions) {
    if (a === 'notify') notify = true;
    else if (typeof a === 'object' && a !== null && typeof a.set_tweak === 'string') {
      // "If a highlight tweak is given with no value, its value is defined to be true."
      tweaks[a.set_tweak] = a.set_tweak === 'highlight' && !('value' in a) ? true : a.value;
    }
  }
  // Shared by every evaluation that matches this rule: frozen so no caller can change another's.
  return Object.freeze({
    notify,
    highlight: tweaks.highlight === true,
    tweaks: Object.freeze(tweaks),
    actions: Object.freeze(actions) as PushAction[],
    ruleId: rule.rule_id,
    kind,
  });
}

// ---- Rulesets ----------------------------------------------------------------------------

interface CompiledRule {
  kind: RuleKind;
  verdict: PushVerdict;
  checks: Check[];
}

/** A user's ruleset ready to evaluate: enabled rules only, in evaluation order. */
export interface CompiledRuleset {
  readonly rules: readonly CompiledRule[];
}

function checksFor(kind: RuleKind, rule: PushRule): Check[] {
  switch (kind) {
    case 'override':
    case 'underride':
      return (rule.conditions ?? []).map(compileCondition);
    case 'content':
      // Predefined condition: the pattern against content.body, at word boundaries.
      return typeof rule.pattern === 'string' ? [compileCondition({ kind: 'event_match', key: 'content.body', pattern: rule.pattern })] : [NEVER];
    case 'room': {
      const id = rule.rule_id;
      return [(e) => e.room_id === id];
    }
    case 'sender': {
      const id = rule.rule_id;
      return [(e) => e.sender === id];
    }
  }
}

/** Compiles a merged ruleset (see default-rules.ts mergeRuleset); disabled rules are dropped. */
export function compileRuleset(ruleset: Readonly<PushRuleset>): CompiledRuleset {
  const rules: CompiledRule[] = [];
  for (const kind of RULE_KINDS) {
    for (const rule of ruleset[kind] ?? []) {
      if (!rule.enabled) continue;
      rules.push({ kind, verdict: verdictOf(rule, kind), checks: checksFor(kind, rule) });
    }
  }
  return { rules };
}

/**
 * The first matching rule decides (spec: only the highest-priority match's actions apply). The
 * caller skips the event's own sender (spec: never notify users of their own events).
 */
export function evaluatePushRules(compiled: CompiledRuleset, event: EventObj, ctx: PushContext): PushVerdict {
  const lazy = new LazyContext(ctx);
  outer: for (const rule of compiled.rules) {
    for (const check of rule.checks) if (!check(event, lazy)) continue outer;
    return rule.verdict;
  }
  return NO_NOTIFICATION;
}
