/**
 * Auth events selection (spec: server-server "Auth events selection"): which state entries a
 * PDU's `auth_events` should list. Used both to build new events and to check received ones
 * (auth rule 2.2 / v12 3.2).
 */
import type { RoomVersion } from '../room-versions.ts';
import { stateMapKey, type Pdu, type StateKeyTuple, type StoredPdu } from '../events/types.ts';
import { isJsonObject } from './power-levels.ts';

/** The fields of an event that the selection depends on (a proto-event is enough). */
export type AuthSelectionInput = Pick<Pdu, 'type' | 'sender' | 'content' | 'state_key'>;

/**
 * The (type, state_key) pairs the event's auth events are selected from, in spec order.
 * The create event has none; v12 never selects the create event (its id is the room id).
 */
export function authEventKeys(version: RoomVersion, event: AuthSelectionInput): StateKeyTuple[] {
  if (event.type === 'm.room.create') return [];
  const keys: StateKeyTuple[] = [];
  if (!version.roomIdFromCreateEvent) keys.push(['m.room.create', '']);
  keys.push(['m.room.power_levels', '']);
  keys.push(['m.room.member', event.sender]);
  if (event.type === 'm.room.member' && typeof event.state_key === 'string') {
    keys.push(['m.room.member', event.state_key]);
    const membership = event.content.membership;
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      keys.push(['m.room.join_rules', '']);
    }
    const tpi = event.content.third_party_invite;
    if (membership === 'invite' && tpi !== undefined) {
      const token = isJsonObject(tpi) && isJsonObject(tpi.signed) ? tpi.signed.token : undefined;
      if (typeof token === 'string') keys.push(['m.room.third_party_invite', token]);
    }
    const via = event.content.join_authorised_via_users_server;
    if (membership === 'join' && version.restrictedJoinRule && typeof via === 'string') {
      keys.push(['m.room.member', via]);
    }
  }
  // The sender and target (or authoriser) may be the same user: list each key once.
  const seen = new Set<string>();
  return keys.filter(([t, s]) => {
    const k = stateMapKey(t, s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The auth events to list for `event`, picked from `state` (current state, or the state
 * before the event). Entries absent from `state` are skipped ("if any"). */
export function selectAuthEvents(
  version: RoomVersion,
  event: AuthSelectionInput,
  state: ReadonlyMap<string, StoredPdu>,
): StoredPdu[] {
  const out: StoredPdu[] = [];
  for (const [type, stateKey] of authEventKeys(version, event)) {
    const found = state.get(stateMapKey(type, stateKey));
    if (found) out.push(found);
  }
  return out;
}

/** The event ids to put in a new PDU's `auth_events`. */
export function selectAuthEventIds(
  version: RoomVersion,
  event: AuthSelectionInput,
  state: ReadonlyMap<string, StoredPdu>,
): string[] {
  return selectAuthEvents(version, event, state).map((e) => e.event_id);
}
