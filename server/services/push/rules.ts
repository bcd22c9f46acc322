/**
 * A user's push rules (spec client-server "Push Rules: API", pushrules.yaml): the server-default
 * rules merged with the user's own, create/update/delete with `before`/`after` ordering, and the
 * enabled flag and actions of any rule (the only things a user may change on a default rule).
 * Every change also rewrites the `m.push_rules` account data ("Push Rules: Events") and
 * announces it to the user's syncs.
 *
 * Evaluation needs each member's compiled rules on every event, so merged and compiled rulesets
 * are cached per user and replaced whenever that user's rules change.
 */
import { MatrixError, invalidParam, missingParam, notFound } from '../../errors.ts';
import { isDefaultRuleId, mergeRuleset } from '../../core/push/default-rules.ts';
import {
  compileRuleset,
  stripHistoricalActions,
  type CompiledRuleset,
  type PushAction,
  type PushCondition,
  type PushRule,
  type PushRuleset,
  type RuleKind,
} from '../../core/push/evaluate.ts';
import type { PushStore, UserPushRules } from '../../storage/push.ts';

export interface PushRulesDeps {
  store: PushStore;
  /** Wakes the user's syncs for the new `m.push_rules` account data (sync/notifier.ts notify). */
  notify(position: number, userIds: Iterable<string>): void;
  /** Users whose compiled rules stay cached; default 10 000. */
  cacheSize?: number;
}

export interface PutRuleBody {
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

interface CachedRules {
  ruleset: PushRuleset;
  compiled: CompiledRuleset;
}

const unknownRule = (): MatrixError => notFound('The push rule was not found.');

function cloneRules(r: UserPushRules): UserPushRules {
  return {
    user: { override: [...r.user.override], content: [...r.user.content], room: [...r.user.room], sender: [...r.user.sender], underride: [...r.user.underride] },
    defaults: new Map(r.defaults),
  };
}

export class PushRulesService {
  private readonly cache = new Map<string, CachedRules>();
  private readonly cacheSize: number;

  constructor(private readonly deps: PushRulesDeps) {
    this.cacheSize = deps.cacheSize ?? 10_000;
  }

  /** The user's effective ruleset (GET /pushrules/global/). Shared: do not mutate. */
  ruleset(userId: string): PushRuleset {
    return this.entry(userId).ruleset;
  }

  /** The user's rules compiled for evaluation (services/push/counts.ts). */
  compiled(userId: string): CompiledRuleset {
    return this.entry(userId).compiled;
  }

  /** Content of the `m.push_rules` account data event. */
  accountDataContent(userId: string): Record<string, unknown> {
    return { global: this.ruleset(userId) };
  }

  getRule(userId: string, kind: RuleKind, ruleId: string): PushRule {
    const rule = this.ruleset(userId)[kind].find((r) => r.rule_id === ruleId);
    if (!rule) throw unknownRule();
    return rule;
  }

  /** PUT /pushrules/global/{kind}/{ruleId}: creates or replaces a user rule. */
  async putRule(userId: string, kind: RuleKind, ruleId: string, body: PutRuleBody, place: { before?: string; after?: string }): Promise<void> {
    if (isDefaultRuleId(ruleId)) throw invalidParam('Rule ids starting with "." are reserved for server-default rules');
    if (ruleId.length === 0 || ruleId.includes('/') || ruleId.includes('\\')) throw invalidParam('Rule ids may not be empty or contain "/" or "\\"');
    if (kind === 'content' && typeof body.pattern !== 'string') throw missingParam('Content rules need a pattern');
    await this.update(userId, (cur) => {
      const list = cur.user[kind];
      const i = list.findIndex((r) => r.rule_id === ruleId);
      const existing = i >= 0 ? list[i] : undefined;
      const rule: PushRule = { rule_id: ruleId, default: false, enabled: existing?.enabled ?? true, actions: stripHistoricalActions(body.actions) };
      if (kind === 'override' || kind === 'underride') rule.conditions = body.conditions ?? [];
      if (kind === 'content') rule.pattern = body.pattern;
      const rest = list.filter((r) => r.rule_id !== ruleId);
      let at: number;
      const anchor = place.before ?? place.after;
      if (anchor !== undefined) {
        const j = rest.findIndex((r) => r.rule_id === anchor);
        // Spec: relative placement only against user-defined rules of the same kind.
        if (j < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${anchor}`);
        at = place.before !== undefined ? j : j + 1;
      } else {
        // New rules are the most important of their kind; updated rules keep their place.
        at = i >= 0 ? i : 0;
      }
      rest.splice(at, 0, rule);
      cur.user[kind] = rest;
      return cur;
    });
  }

  /** DELETE /pushrules/global/{kind}/{ruleId}: user rules only. */
  async deleteRule(userId: string, kind: RuleKind, ruleId: string): Promise<void> {
    if (isDefaultRuleId(ruleId)) {
      this.getRule(userId, kind, ruleId);
      throw invalidParam('Server-default rules cannot be deleted');
    }
    await this.update(userId, (cur) => {
      const list = cur.user[kind];
      if (!list.some((r) => r.rule_id === ruleId)) throw unknownRule();
      cur.user[kind] = list.filter((r) => r.rule_id !== ruleId);
      return cur;
    });
  }

  async setEnabled(userId: string, kind: RuleKind, ruleId: string, enabled: boolean): Promise<void> {
    await this.modify(userId, kind, ruleId, { enabled });
  }

  async setActions(userId: string, kind: RuleKind, ruleId: string, actions: PushAction[]): Promise<void> {
    await this.modify(userId, kind, ruleId, { actions: stripHistoricalActions(actions) });
  }

  /** Forgets cached rules (tests, account deactivation). */
  invalidate(userId: string): void {
    this.cache.delete(userId);
  }

  private async modify(userId: string, kind: RuleKind, ruleId: string, change: { enabled?: boolean; actions?: PushAction[] }): Promise<void> {
    await this.update(userId, (cur) => {
      if (isDefaultRuleId(ruleId)) {
        // Exists as a default of this kind? (The merged ruleset knows the defaults.)
        if (!mergeRuleset(userId, cur.user, cur.defaults)[kind].some((r) => r.rule_id === ruleId)) throw unknownRule();
        const key = `${kind}/${ruleId}`;
        cur.defaults.set(key, { ...cur.defaults.get(key), ...change });
        return cur;
      }
      const list = cur.user[kind];
      const i = list.findIndex((r) => r.rule_id === ruleId);
      if (i < 0) throw unknownRule();
      cur.user[kind] = list.map((r, j) => (j === i ? { ...r, ...change } : r));
      return cur;
    });
  }

  private async update(userId: string, fn: (cur: UserPushRules) => UserPushRules): Promise<void> {
    let next: UserPushRules | undefined;
    const written = this.deps.store.updateUserRules(
      userId,
      (cur) => (next = fn(cloneRules(cur))),
      (n) => ({ global: mergeRuleset(userId, n.user, n.defaults) }),
    );
    // The transaction has already run in memory (sql.js writes are synchronous), so evaluation
    // sees the new rules from now on; a store that defers the write leaves `next` unset.
    if (next) this.remember(userId, next);
    else this.cache.delete(userId);
    try {
      const { position } = await written;
      this.deps.notify(position, [userId]);
    } catch (err) {
      this.cache.delete(userId);
      throw err;
    }
  }

  private entry(userId: string): CachedRules {
    const hit = this.cache.get(userId);
    if (hit) return hit;
    return this.remember(userId, this.deps.store.userRules(userId));
  }

  private remember(userId: string, rules: UserPushRules): CachedRules {
    const ruleset = mergeRuleset(userId, rules.user, rules.defaults);
    const entry = { ruleset, compiled: compileRuleset(ruleset) };
    this.cache.delete(userId);
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(userId, entry);
    return entry;
  }
}
