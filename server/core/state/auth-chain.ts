/**
 * The data state resolution reads, declared as tiny interfaces (tests pass a Map), and the auth
 * graph helpers built on them: auth chains, the auth difference and room v12's conflicted state
 * subgraph (rooms/v2 and rooms/v12 "State resolution", "Definitions").
 */
import type { RoomVersion } from '../room-versions.ts';
import { referencedEventIds, stateMapKey, type StoredPdu } from '../events/types.ts';
import type { AuthOptions, AuthState, AuthVerdict } from '../auth/rules.ts';

/** A state set: `stateMapKey(type, state_key)` → event id. */
export type StateMap = ReadonlyMap<string, string>;

/** Where events come from. `isRejected` (optional) marks events rejected on receipt; rejected
 * auth events are not used in the iterative auth checks (rooms/v2 "Rejected events"). */
export interface EventLookup {
  getEvent(eventId: string): StoredPdu | undefined;
  isRejected?(eventId: string): boolean;
}

/** Optional precomputed auth chains (storage may index them): every event reachable through
 * `auth_events`, excluding the event itself; `undefined` when unknown (then walked here). */
export interface AuthChainLookup {
  getAuthChain(eventId: string): Iterable<string> | undefined;
}

/** The auth rules as state resolution calls them (default: core/auth/rules.ts checkEventAuth). */
export type AuthCheck = (
  version: RoomVersion,
  event: StoredPdu,
  authState: AuthState,
  options?: AuthOptions,
) => AuthVerdict;

export interface ResolveOptions {
  /** Replaces the auth rules (tests only); defaults to checkEventAuth. */
  authCheck?: AuthCheck;
  /** Passed through to every auth check (signature checks for 3pid / restricted joins). */
  authOptions?: AuthOptions;
}

export const CREATE_KEY = stateMapKey('m.room.create', '');
export const POWER_LEVELS_KEY = stateMapKey('m.room.power_levels', '');

/** The `m.room.create` event of the room the event belongs to: v12 (room id = create event id
 * with `!`), otherwise the create event among its auth events. */
export function createEventFor(
  version: RoomVersion,
  event: StoredPdu,
  lookup: EventLookup,
): StoredPdu | undefined {
  if (event.type === 'm.room.create' && event.state_key === '') return event;
  if (version.roomIdFromCreateEvent && typeof event.room_id === 'string' && event.room_id.startsWith('!')) {
    const create = lookup.getEvent(`$${event.room_id.slice(1)}`);
    if (create) return create;
  }
  for (const id of referencedEventIds(event.auth_events)) {
    const a = lookup.getEvent(id);
    if (a && a.type === 'm.room.create' && a.state_key === '') return a;
  }
  return undefined;
}

/** Auth graph walks with memoised per-event auth chains. */
export class AuthGraph {
  private readonly chains = new Map<string, ReadonlySet<string>>();

  constructor(
    readonly lookup: EventLookup,
    private readonly chainLookup?: AuthChainLookup,
  ) {}

  authEventIds(eventId: string): string[] {
    const event = this.lookup.getEvent(eventId);
    return event ? referencedEventIds(event.auth_events) : [];
  }

  /** Definition "Auth chain": all events reachable through `auth_events` (not the event itself). */
  authChain(eventId: string): ReadonlySet<string> {
    const known = this.chains.get(eventId);
    if (known) return known;
    const given = this.chainLookup?.getAuthChain(eventId);
    let chain: Set<string>;
    if (given) {
      chain = new Set(given);
    } else {
      chain = new Set();
      const stack = this.authEventIds(eventId);
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (chain.has(id)) continue;
        chain.add(id);
        const memo = this.chains.get(id);
        if (memo) {
          for (const m of memo) chain.add(m);
        } else {
          stack.push(...this.authEventIds(id));
        }
      }
    }
    this.chains.set(eventId, chain);
    return chain;
  }

  /** The full auth chain of a state set: the union of its events' auth chains. The state events
   * themselves are included too; that only adds events that are already in the conflicted state
   * set (an unconflicted event is in every set), so the auth difference below is unchanged. */
  stateSetChain(state: StateMap): Set<string> {
    const out = new Set<string>();
    for (const id of state.values()) {
      out.add(id);
      for (const a of this.authChain(id)) out.add(a);
    }
    return out;
  }

  /** Definition "Auth difference": ∪ C_i − ∩ C_i over the states' full auth chains. */
  authDifference(stateSets: readonly StateMap[]): Set<string> {
    const chains = stateSetsChains(this, stateSets);
    const diff = new Set<string>();
    for (const chain of chains) {
      for (const id of chain) {
        if (!chains.every((c) => c.has(id))) diff.add(id);
      }
    }
    return diff;
  }

  /**
   * v12 definition "Conflicted state subgraph": every event on an `auth_events` path between two
   * events of the conflicted state set, endpoints included. An event e is on such a path iff it is
   * in the auth chain of some conflicted event (backwards) and some conflicted event is in its
   * auth chain (forwards), so: walk backwards from the conflicted set, then forwards from the
   * conflicted set along reversed edges inside that backward region.
   */
  conflictedSubgraph(conflicted: ReadonlySet<string>): Set<string> {
    const region = new Set<string>(conflicted);
    for (const c of conflicted) for (const a of this.authChain(c)) region.add(a);
    const citedBy = new Map<string, string[]>();
    for (const id of region) {
      for (const a of this.authEventIds(id)) {
        if (!region.has(a)) continue;
        const list = citedBy.get(a);
        if (list) list.push(id);
        else citedBy.set(a, [id]);
      }
    }
    const subgraph = new Set<string>();
    const queue = [...conflicted];
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (subgraph.has(id)) continue;
      subgraph.add(id);
      for (const next of citedBy.get(id) ?? []) queue.push(next);
    }
    return subgraph;
  }
}

function stateSetsChains(graph: AuthGraph, stateSets: readonly StateMap[]): Set<string>[] {
  return stateSets.map((s) => graph.stateSetChain(s));
}
