/**
 * State resolution v2 (rooms/v2 "State resolution", fragment v2-state-res.md) for room versions
 * 2–11, and its room version 12 variant "v2.1" (rooms/v12 "State resolution"), which
 *   (1) starts the iterative auth checks of step 2 from an *empty* state map instead of the
 *       unconflicted state map,
 *   (2) defines the *conflicted state subgraph*, and
 *   (3) adds that subgraph to the *full conflicted set*.
 * Step 5 (re-applying the unconflicted state map) is the same in both.
 */
import type { RoomVersion } from '../room-versions.ts';
import { parseStateMapKey, referencedEventIds, stateMapKey, type StoredPdu } from '../events/types.ts';
import { checkEventAuth } from '../auth/rules.ts';
import { authEventKeys } from '../auth/auth-events.ts';
import {
  AuthGraph,
  CREATE_KEY,
  POWER_LEVELS_KEY,
  createEventFor,
  type AuthChainLookup,
  type AuthCheck,
  type EventLookup,
  type ResolveOptions,
  type StateMap,
} from './auth-chain.ts';
import { mainlineSort, reverseTopologicalPowerSort } from './sort.ts';

/** Definition "Unconflicted state map and conflicted state set": a key is unconflicted when
 * every state set has it with the same event; otherwise all its events are conflicted. */
export function separateV2(stateSets: readonly StateMap[]): {
  unconflicted: Map<string, string>;
  conflicted: Map<string, Set<string>>;
} {
  const unconflicted = new Map<string, string>();
  const conflicted = new Map<string, Set<string>>();
  const keys = new Set<string>();
  for (const s of stateSets) for (const k of s.keys()) keys.add(k);
  for (const key of keys) {
    const values = new Set<string>();
    let missing = false;
    for (const s of stateSets) {
      const v = s.get(key);
      if (v === undefined) missing = true;
      else values.add(v);
    }
    if (!missing && values.size === 1) unconflicted.set(key, [...values][0]!);
    else conflicted.set(key, values);
  }
  return { unconflicted, conflicted };
}

/** Definition "Power events": power levels, join rules, and kicks/bans (a leave or ban whose
 * sender is not the target). */
export function isPowerEvent(event: StoredPdu): boolean {
  if (event.state_key === undefined) return false;
  if (event.type === 'm.room.power_levels' || event.type === 'm.room.join_rules') {
    return event.state_key === '';
  }
  if (event.type === 'm.room.member') {
    const membership = event.content.membership;
    return (membership === 'leave' || membership === 'ban') && event.sender !== event.state_key;
  }
  return false;
}

/**
 * Definition "Iterative auth checks": apply each event, in order, to the state if the auth rules
 * allow it. The auth state of an event is, per key the rules need (auth events selection), the
 * partially resolved state's event, else the event's own (non-rejected) auth event. For v12 the
 * create event (named by the room id, never an auth event) is added under (m.room.create, '').
 */
export function iterativeAuthChecks(
  version: RoomVersion,
  orderedIds: readonly string[],
  startState: StateMap,
  lookup: EventLookup,
  options: ResolveOptions = {},
): Map<string, string> {
  const authCheck: AuthCheck = options.authCheck ?? checkEventAuth;
  const state = new Map(startState);
  for (const id of orderedIds) {
    const event = lookup.getEvent(id);
    if (!event || event.state_key === undefined) continue;
    const fromAuthEvents = new Map<string, StoredPdu>();
    for (const aid of referencedEventIds(event.auth_events)) {
      const a = lookup.getEvent(aid);
      if (!a || a.state_key === undefined || lookup.isRejected?.(aid)) continue;
      fromAuthEvents.set(stateMapKey(a.type, a.state_key), a);
    }
    const authState = new Map<string, StoredPdu>();
    for (const [type, stateKey] of authEventKeys(version, event)) {
      const key = stateMapKey(type, stateKey);
      const current = state.get(key);
      const chosen = (current === undefined ? undefined : lookup.getEvent(current)) ?? fromAuthEvents.get(key);
      if (chosen) authState.set(key, chosen);
    }
    if (version.roomIdFromCreateEvent) {
      const create = createEventFor(version, event, lookup);
      if (create) authState.set(CREATE_KEY, create);
    }
    if (authCheck(version, event, authState, options.authOptions).allowed) {
      state.set(stateMapKey(event.type, event.state_key), id);
    }
  }
  return state;
}

/** Resolves state sets with the v2 algorithm, or v2.1 when `version.stateRes` is 'v2.1'. */
export function resolveV2(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  lookup: EventLookup,
  authChainLookup?: AuthChainLookup,
  options: ResolveOptions = {},
): Map<string, string> {
  const v21 = version.stateRes === 'v2.1';
  const { unconflicted, conflicted } = separateV2(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const graph = new AuthGraph(lookup, authChainLookup);
  const conflictedSet = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedSet.add(id);

  // Definition "Full conflicted set": the conflicted state set ∪ the auth difference
  // (∪ the conflicted state subgraph, v12 change 3). Events we do not have cannot take part.
  const full = new Set<string>();
  const candidates = [...conflictedSet, ...graph.authDifference(stateSets)];
  if (v21) candidates.push(...graph.conflictedSubgraph(conflictedSet));
  for (const id of candidates) {
    const event = lookup.getEvent(id);
    if (event && event.state_key !== undefined) full.add(id);
  }

  // Step 1: the power events of the full conflicted set, enlarged with the events of their auth
  // chains that are in the full conflicted set, in reverse topological power ordering.
  const selected = new Set<string>();
  for (const id of full) {
    if (!isPowerEvent(lookup.getEvent(id)!)) continue;
    selected.add(id);
    for (const a of graph.authChain(id)) if (full.has(a)) selected.add(a);
  }
  const powerOrdered = reverseTopologicalPowerSort(version, selected, graph);

  // Step 2: iterative auth checks from the unconflicted state map (v2) or the empty state (v2.1).
  let partial = iterativeAuthChecks(version, powerOrdered, v21 ? new Map() : unconflicted, lookup, options);

  // Step 3: the remaining events in mainline ordering based on the partially resolved power levels.
  const remaining = [...full].filter((id) => !selected.has(id));
  const mainlineOrdered = mainlineSort(remaining, partial.get(POWER_LEVELS_KEY), lookup);

  // Step 4: iterative auth checks on the partially resolved state.
  partial = iterativeAuthChecks(version, mainlineOrdered, partial, lookup, options);

  // Step 5: the unconflicted state map wins for its keys.
  for (const [key, id] of unconflicted) partial.set(key, id);
  return partial;
}

/** Readable form of a state map for debugging and test messages: "type|state_key" → id. */
export function describeState(state: StateMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, id] of [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [type, stateKey] = parseStateMapKey(key);
    out[`${type}|${stateKey}`] = id;
  }
  return out;
}
