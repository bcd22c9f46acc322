/**
 * State resolution for room version 1 (rooms/v1 "State resolution"). R starts as the union of
 * the states without conflicting events; conflicts are then resolved per (type, state_key) in
 * passes: power levels, join rules, members, then everything else. Within one pass every key is
 * checked against R as it was when the pass began, so the result never depends on key order
 * (as Synapse does).
 */
import type { RoomVersion } from '../room-versions.ts';
import { stateMapKey, type StoredPdu } from '../events/types.ts';
import { checkEventAuth } from '../auth/rules.ts';
import { authEventKeys } from '../auth/auth-events.ts';
import { POWER_LEVELS_KEY, type AuthCheck, type EventLookup, type ResolveOptions, type StateMap } from './auth-chain.ts';
import { compareCodePoints } from './sort.ts';
import { sha1Hex } from './sha1.ts';

/** "A conflict occurs between states where those states have different event_ids for the same
 * (event_type, state_key)": a key missing from some states is not a conflict. */
export function separateV1(stateSets: readonly StateMap[]): {
  unconflicted: Map<string, string>;
  conflicted: Map<string, Set<string>>;
} {
  const values = new Map<string, Set<string>>();
  for (const s of stateSets) {
    for (const [key, id] of s) {
      const set = values.get(key);
      if (set) set.add(id);
      else values.set(key, new Set([id]));
    }
  }
  const unconflicted = new Map<string, string>();
  const conflicted = new Map<string, Set<string>>();
  for (const [key, ids] of values) {
    if (ids.size === 1) unconflicted.set(key, [...ids][0]!);
    else conflicted.set(key, ids);
  }
  return { unconflicted, conflicted };
}

/** Ascending depth, then descending sha1(event_id) (the order of the auth-event passes). */
function ascendingDepthDescendingSha1(a: StoredPdu, b: StoredPdu): number {
  if (a.depth !== b.depth) return a.depth - b.depth;
  const ha = sha1Hex(a.event_id);
  const hb = sha1Hex(b.event_id);
  if (ha !== hb) return ha < hb ? 1 : -1;
  return compareCodePoints(a.event_id, b.event_id);
}

export function resolveV1(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  lookup: EventLookup,
  options: ResolveOptions = {},
): Map<string, string> {
  const authCheck: AuthCheck = options.authCheck ?? checkEventAuth;
  // "Start by setting R to the union of the states to be resolved, excluding any conflicting
  // events." Conflicting events we do not have cannot be checked and are dropped.
  const { unconflicted: r, conflicted: conflictedIds } = separateV1(stateSets);
  const conflicted = new Map<string, StoredPdu[]>();
  for (const [key, ids] of conflictedIds) {
    const events = [...ids].map((id) => lookup.getEvent(id)).filter((e): e is StoredPdu => e !== undefined);
    if (events.length === 1) r.set(key, events[0]!.event_id);
    else if (events.length > 1) conflicted.set(key, events);
  }

  const allowedIn = (event: StoredPdu, state: ReadonlyMap<string, string>): boolean => {
    const authState = new Map<string, StoredPdu>();
    for (const [type, stateKey] of authEventKeys(version, event)) {
      const key = stateMapKey(type, stateKey);
      const id = state.get(key);
      const e = id === undefined ? undefined : lookup.getEvent(id);
      if (e) authState.set(key, e);
    }
    return authCheck(version, event, authState, options.authOptions).allowed;
  };

  // The auth-event passes: sort by ascending depth then descending sha1(event_id); take the
  // first; each next one replaces it while it is allowed in R (with the one before it applied),
  // and the first one not allowed ends the pass for this key.
  const resolveAuthKey = (key: string, events: StoredPdu[], base: ReadonlyMap<string, string>): string => {
    const ordered = [...events].sort(ascendingDepthDescendingSha1);
    const state = new Map(base);
    let current = ordered[0]!;
    for (const next of ordered.slice(1)) {
      state.set(key, current.event_id);
      if (!allowedIn(next, state)) break;
      current = next;
    }
    return current.event_id;
  };

  const runPass = (keys: string[], resolveKey: (key: string, events: StoredPdu[], base: ReadonlyMap<string, string>) => string) => {
    const base = new Map(r);
    const resolved = keys.map((key) => [key, resolveKey(key, conflicted.get(key)!, base)] as const);
    for (const [key, id] of resolved) {
      r.set(key, id);
      conflicted.delete(key);
    }
  };
  const keysOfType = (type: string) => [...conflicted.keys()].filter((k) => k.startsWith(`${type}\u0000`));

  // Pass 1: m.room.power_levels; pass 2: m.room.join_rules; pass 3: m.room.member.
  runPass(conflicted.has(POWER_LEVELS_KEY) ? [POWER_LEVELS_KEY] : [], resolveAuthKey);
  runPass(keysOfType('m.room.join_rules'), resolveAuthKey);
  runPass(keysOfType('m.room.member'), resolveAuthKey);

  // Other conflicts: the event with the highest depth and lowest sha1(event_id) that passes
  // authentication in R; if none passes, the last one tried (the lowest depth), as Synapse does.
  runPass([...conflicted.keys()], (_key, events, base) => {
    const ordered = [...events].sort((a, b) => ascendingDepthDescendingSha1(b, a));
    for (const e of ordered) if (allowedIn(e, base)) return e.event_id;
    return ordered[ordered.length - 1]!.event_id;
  });
  return r;
}
