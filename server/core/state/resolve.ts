/**
 * The one entry point of state resolution: dispatches on the room version's `stateRes` flag to
 * rooms/v1 (resolve-v1.ts) or rooms/v2 / rooms/v12 (resolve-v2.ts). Plain data in and out:
 * state sets keyed by `stateMapKey(type, state_key)`, events through a tiny lookup interface.
 */
import type { RoomVersion } from '../room-versions.ts';
import type { StoredPdu } from '../events/types.ts';
import type { AuthChainLookup, EventLookup, ResolveOptions, StateMap } from './auth-chain.ts';
import { resolveV1 } from './resolve-v1.ts';
import { resolveV2 } from './resolve-v2.ts';

export type { AuthChainLookup, AuthCheck, EventLookup, ResolveOptions, StateMap } from './auth-chain.ts';

/**
 * Resolves `stateSets` (the states after each prev event) into the state before the next event.
 * `events` (a lookup, or a Map by event id) must know every event of the state sets and of their auth chains. Auth chains
 * are walked from `auth_events` unless `authChainLookup` supplies them.
 */
export function resolveState(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  events: EventLookup | ReadonlyMap<string, StoredPdu>,
  authChainLookup?: AuthChainLookup,
  options: ResolveOptions = {},
): Map<string, string> {
  const eventLookup: EventLookup = 'getEvent' in events ? events : { getEvent: (id) => events.get(id) };
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  switch (version.stateRes) {
    case 'v1':
      return resolveV1(version, stateSets, eventLookup, options);
    case 'v2':
    case 'v2.1':
      return resolveV2(version, stateSets, eventLookup, authChainLookup, options);
  }
}
