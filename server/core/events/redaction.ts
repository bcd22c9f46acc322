/**
 * The redaction algorithm per room version (spec: rooms/fragments v1-redactions, v6-redactions,
 * rooms/v8.md "Redactions", v9-redactions, v11-redactions). Used to redact events for clients and,
 * more importantly, to find the part of an event that signatures and reference hashes cover
 * (server-server "Signing Events").
 *
 * `unsigned` is not in any allowlist, so it is dropped; a caller that serves the event to clients
 * re-adds what it needs (e.g. `redacted_because`).
 */
import type { RedactionRules, RoomVersion } from '../room-versions.ts';

/** Top-level keys kept by rules v1–v9. */
const TOP_LEVEL_V1 = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
]);

/** v11 drops `origin`, `membership` and `prev_state` from the list (v11-redactions). */
const TOP_LEVEL_V11 = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
]);

const POWER_LEVELS_V1 = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

/** Content keys kept per event type; `'all'` keeps the whole content (v11 m.room.create). */
type ContentRules = Readonly<Record<string, readonly string[] | 'all'>>;

const CONTENT_V1: ContentRules = {
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': POWER_LEVELS_V1,
  'm.room.aliases': ['aliases'],
  'm.room.history_visibility': ['history_visibility'],
};

// v6: m.room.aliases loses its special case (its auth rule went away too).
const { 'm.room.aliases': _aliases, ...CONTENT_V6 } = CONTENT_V1;

// v8: join_rules keep `allow` (restricted rooms).
const CONTENT_V8: ContentRules = { ...CONTENT_V6, 'm.room.join_rules': ['join_rule', 'allow'] };

// v9: member events keep `join_authorised_via_users_server`, so restricted joins stay checkable.
const CONTENT_V9: ContentRules = {
  ...CONTENT_V8,
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
};

// v11: create keeps everything; power levels keep `invite`; redaction keeps `redacts`.
// (Member's `third_party_invite.signed` is handled in code: it is a nested key.)
const CONTENT_V11: ContentRules = {
  ...CONTENT_V9,
  'm.room.create': 'all',
  'm.room.power_levels': [...POWER_LEVELS_V1, 'invite'],
  'm.room.redaction': ['redacts'],
};

const RULES: Readonly<Record<RedactionRules, { topLevel: ReadonlySet<string>; content: ContentRules }>> = {
  v1: { topLevel: TOP_LEVEL_V1, content: CONTENT_V1 },
  v6: { topLevel: TOP_LEVEL_V1, content: CONTENT_V6 },
  v8: { topLevel: TOP_LEVEL_V1, content: CONTENT_V8 },
  v9: { topLevel: TOP_LEVEL_V1, content: CONTENT_V9 },
  v11: { topLevel: TOP_LEVEL_V11, content: CONTENT_V11 },
};

/**
 * Returns a redacted deep copy of `event` (the input is not modified). Accepts a RoomVersion or
 * anything carrying its `redactionRules`. The result always has a `content` object, empty if
 * nothing is kept (as Synapse's `prune_event_dict` does), so hashes agree across servers.
 */
export function redactEvent<T extends object>(
  version: Pick<RoomVersion, 'redactionRules'>,
  event: T,
): Record<string, unknown> {
  return structuredClone(redactedView(version, event));
}

/**
 * The redacted form without the deep copy: new top-level and `content` objects whose values are
 * shared with `event`. For hashing and signing, which only read it (every event sent builds it
 * twice; the copy was most of redaction's cost). Never modify what it shares.
 */
export function redactedView<T extends object>(version: Pick<RoomVersion, 'redactionRules'>, event: T): Record<string, unknown> {
  const rules = RULES[version.redactionRules];
  const source = event as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (rules.topLevel.has(key) && key !== 'content' && source[key] !== undefined) out[key] = source[key];
  }
  out.content = redactContent(version.redactionRules, rules.content, source.type, source.content);
  return out;
}

function redactContent(
  ruleName: RedactionRules,
  rules: ContentRules,
  type: unknown,
  content: unknown,
): Record<string, unknown> {
  if (typeof type !== 'string' || !isObject(content) || !Object.hasOwn(rules, type)) return {};
  const keep = rules[type]!;
  if (keep === 'all') return { ...content };
  const out: Record<string, unknown> = {};
  for (const key of keep) {
    if (Object.hasOwn(content, key) && content[key] !== undefined) out[key] = content[key];
  }
  // v11: a member event keeps `third_party_invite.signed` (and only that) so 3pid invites
  // remain verifiable after redaction.
  if (ruleName === 'v11' && type === 'm.room.member') {
    const tpi = content.third_party_invite;
    if (isObject(tpi) && Object.hasOwn(tpi, 'signed')) out.third_party_invite = { signed: tpi.signed };
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
