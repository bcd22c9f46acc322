/**
 * CONTRACT between rooms (implements, services/rooms/) and sync (consumes, services/sync/sync.ts).
 * Read-only views of rooms for one user. Positions are stream positions (storage/stream.ts).
 * Events returned are already in client format (`ClientEvent`), with `unsigned` filled for the
 * requesting user (age, transaction_id for their own device, prev_content, redacted_because,
 * m.relations), redacted when redacted, and filtered by history visibility and ignored users.
 */

export interface ClientEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  room_id?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

/** Stripped state (invite/knock rooms): spec "Stripped state". */
export interface StrippedStateEvent {
  type: string;
  state_key: string;
  sender: string;
  content: Record<string, unknown>;
}

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export interface MembershipEntry {
  roomId: string;
  membership: Membership;
  /** The m.room.member event that set it. */
  eventId: string;
  /** Its stream position. */
  position: number;
}

/** What a filter can ask of the timeline and state (subset of the spec's RoomEventFilter). */
export interface EventFilter {
  types?: string[];
  not_types?: string[];
  senders?: string[];
  not_senders?: string[];
  contains_url?: boolean;
  lazy_load_members?: boolean;
  include_redundant_members?: boolean;
}

export interface Viewer {
  userId: string;
  deviceId: string;
}

export interface RoomsReader {
  /** The viewer's current membership in every room (forgotten rooms excluded), as of upTo. */
  memberships(userId: string, upTo: number): MembershipEntry[];
  /** The viewer's membership events with positions in (since, upTo], oldest first. */
  membershipChanges(userId: string, since: number, upTo: number): MembershipEntry[];
  /**
   * Timeline events with positions in (since, upTo] (since null = from the start), filtered for
   * the viewer; returns the newest `limit` in chronological order, `limited` when more were
   * skipped, and `prevBatch` (a pagination token to go back from the first returned event).
   */
  timeline(viewer: Viewer, roomId: string, since: number | null, upTo: number, limit: number, filter?: EventFilter):
    { events: ClientEvent[]; limited: boolean; prevBatch: string };
  /** Room state as of position `at` (the state after the last event at or before it). */
  stateAt(viewer: Viewer, roomId: string, at: number, filter?: EventFilter): ClientEvent[];
  /** State events whose (type, state_key) changed in (since, upTo] (for incremental sync's `state`). */
  stateChanges(viewer: Viewer, roomId: string, since: number, upTo: number, filter?: EventFilter): ClientEvent[];
  /** Stripped state shown to an invitee or knocker (create, name, avatar, join rules, encryption, canonical alias, the member event). */
  strippedState(roomId: string, userId: string): StrippedStateEvent[];
  /** Room summary for sync: heroes and member counts as of upTo. */
  summary(roomId: string, userId: string, upTo: number): {
    'm.heroes': string[];
    'm.joined_member_count': number;
    'm.invited_member_count': number;
  };
  /** Member events of the given users as of `at` (lazy-loading members). */
  membersAt(viewer: Viewer, roomId: string, userIds: readonly string[], at: number): ClientEvent[];
  /** Users who share a joined room with userId (presence, device lists). */
  usersSharingRoomsWith(userId: string): Set<string>;
  /** Joined members of a room. */
  joinedMembers(roomId: string): string[];
}
