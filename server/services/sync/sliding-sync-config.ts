/**
 * Simplified sliding sync (MSC4186) request model, and the pure rules over it: which state a
 * room's `required_state` asks for (wildcards `*`, `$ME`, lazy members), how the room configs of
 * several lists and subscriptions combine (max timeline_limit, union of required_state), and
 * which rooms a list's `filters` keep. The HTTP edge (api/client/sliding-sync.ts) turns both wire
 * forms of required_state (Synapse's `[[type, state_key]]` with `$LAZY`, and the MSC's later
 * `{include, exclude, lazy_members}`) into `RequiredState`.
 */
import type { PresenceState } from '../../storage/sync-data.ts';
import type { EventFilter, Membership } from '../rooms/reader.ts';

export const WILDCARD = '*';
/** State key standing for the requesting user. */
const ME = '$ME';
/** State key (with type m.room.member) asking for lazy-loaded members. */
export const LAZY = '$LAZY';

/** (type, state_key); either may be WILDCARD, the state key may be ME. */
export type StatePair = readonly [type: string, stateKey: string];

export interface RequiredState {
  include: StatePair[];
  exclude: StatePair[];
  /** Members of the timeline's senders (and targets), and member changes on non-gappy syncs. */
  lazyMembers: boolean;
}

export interface RoomConfig {
  timelineLimit: number;
  requiredState: RequiredState;
}

export interface ListFilters {
  isDm?: boolean;
  isEncrypted?: boolean;
  isInvite?: boolean;
  /** Create event `type`s (null: rooms without a type). */
  roomTypes?: (string | null)[];
  notRoomTypes?: (string | null)[];
  spaces?: string[];
  tags?: string[];
  notTags?: string[];
}

export interface ListConfig extends RoomConfig {
  /** Inclusive index ranges into the filtered, sorted rooms; null: all of them. */
  ranges: (readonly [number, number])[] | null;
  filters: ListFilters;
}

/** Extensions scoped to rooms: `lists`/`rooms` name the lists and subscriptions they cover
 * (`*` = all; omitted = all, so a bare `{enabled: true}` covers every room in the response). */
export interface ScopedExtension {
  enabled: boolean;
  lists?: string[];
  rooms?: string[];
}

export interface ExtensionsRequest {
  toDevice?: { enabled: boolean; since?: number; limit?: number };
  e2ee?: { enabled: boolean };
  accountData?: ScopedExtension;
  receipts?: ScopedExtension;
  typing?: ScopedExtension;
}

export interface SlidingSyncRequest {
  connId: string;
  pos?: string;
  timeoutMs: number;
  setPresence?: PresenceState;
  lists: Record<string, ListConfig>;
  roomSubscriptions: Record<string, RoomConfig>;
  extensions: ExtensionsRequest;
}

/** Most timeline events per room and response, whatever the client asks. */
const MAX_TIMELINE_LIMIT = 100;

/** The configs of every list and subscription that matched one room, combined as a superset. */
export interface CombinedConfig {
  timelineLimit: number;
  requiredStates: RequiredState[];
}

export function combineConfigs(configs: readonly RoomConfig[]): CombinedConfig {
  return {
    timelineLimit: Math.min(MAX_TIMELINE_LIMIT, Math.max(0, ...configs.map((c) => c.timelineLimit))),
    requiredStates: configs.map((c) => c.requiredState),
  };
}

/** Identity of a required_state combination: a change means the room's state is sent afresh. */
export function requiredStateKey(c: CombinedConfig): string {
  const one = (rs: RequiredState): string =>
    JSON.stringify([rs.include.map((p) => JSON.stringify(p)).sort(), rs.exclude.map((p) => JSON.stringify(p)).sort(), rs.lazyMembers]);
  return JSON.stringify([...new Set(c.requiredStates.map(one))].sort());
}

function pairMatches(p: StatePair, type: string, stateKey: string, userId: string): boolean {
  const [t, k] = p;
  return (t === WILDCARD || t === type) && (k === WILDCARD || k === stateKey || (k === ME && stateKey === userId));
}

export interface StateSelection {
  /** Whether one state event is asked for (lazy members aside). */
  wanted(type: string, stateKey: string): boolean;
  /** Narrowing for RoomsReader state reads (undefined: every type may be wanted). */
  readerFilter: EventFilter | undefined;
  lazyMembers: boolean;
}

export function selectState(c: CombinedConfig, userId: string): StateSelection {
  const types = new Set<string>();
  let anyType = false;
  for (const rs of c.requiredStates) {
    for (const [t] of rs.include) {
      if (t === WILDCARD) anyType = true;
      else types.add(t);
    }
  }
  return {
    wanted: (type, stateKey) =>
      c.requiredStates.some(
        (rs) => rs.include.some((p) => pairMatches(p, type, stateKey, userId)) && !rs.exclude.some((p) => pairMatches(p, type, stateKey, userId)),
      ),
    readerFilter: anyType ? undefined : { types: [...types] },
    lazyMembers: c.requiredStates.some((rs) => rs.lazyMembers),
  };
}

/** What list filters need to know of one room. */
export interface RoomFacts {
  membership: Membership;
  isDm: boolean;
  encrypted: boolean;
  roomType: string | null;
  tags: string[];
}

/** Whether a room passes a list's filters; `spaceChildren` is the union of the children of the
 * filter's spaces (only computed when the filter has `spaces`). */
export function passesFilters(f: ListFilters, facts: RoomFacts, roomId: string, spaceChildren?: ReadonlySet<string>): boolean {
  if (f.isDm !== undefined && f.isDm !== facts.isDm) return false;
  if (f.isEncrypted !== undefined && f.isEncrypted !== facts.encrypted) return false;
  if (f.isInvite !== undefined && f.isInvite !== (facts.membership === 'invite')) return false;
  if (f.notRoomTypes?.includes(facts.roomType)) return false;
  if (f.roomTypes && !f.roomTypes.includes(facts.roomType)) return false;
  if (f.notTags?.some((t) => facts.tags.includes(t))) return false;
  if (f.tags && !f.tags.some((t) => facts.tags.includes(t))) return false;
  if (f.spaces && !spaceChildren?.has(roomId)) return false;
  return true;
}
