/**
 * Storage of rooms: events, state (state groups + current state), forward extremities,
 * memberships, client transaction ids, the relations index, redactions, aliases and the room
 * directory flag; for federation, remote events whose state is resolved, events kept outside the
 * timeline (outliers, rejected, soft-failed), received transactions and memberships in rooms this
 * server is not in. Domain operations only: services never see SQL. The sql.js implementation is
 * sqljs/rooms.ts; migrations 0004-rooms.sql and 0013-federation-events.sql.
 */
import type { StoredPdu } from '../core/events/types.ts';
import type { NewPushAction } from './push.ts';

export interface RoomRecord {
  roomId: string;
  roomVersion: string;
  creator: string;
  isPublic: boolean;
  createdTs: number;
}

/** One stored event with its bookkeeping. `pdu` is shared (cached): never mutate it. */
export interface EventRecord {
  pdu: StoredPdu;
  roomId: string;
  position: number;
  /** State group of the room state after this event. */
  stateGroup: number;
  /** For state events: the event this one replaced in the room state. */
  replacesState: string | null;
  /** Id of the redaction applied to this event. */
  redactedBy: string | null;
}

export type MembershipValue = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export interface MemberRecord {
  roomId: string;
  userId: string;
  membership: MembershipValue;
  eventId: string;
  position: number;
  forgotten: boolean;
}

export interface MembershipChange {
  roomId: string;
  membership: MembershipValue;
  eventId: string;
  position: number;
}

/** Everything one event write changes, decided by the service; stored atomically. */
export interface PersistEventBatch {
  /** The room (a v12 create event carries no room_id of its own). */
  roomId: string;
  pdu: StoredPdu;
  /** A new room: its row is created with this event (the create event). */
  newRoom?: { roomVersion: string; creator: string; createdTs: number };
  /** State group of the room state before the event (null only for the create event). */
  stateGroupBefore: number | null;
  /** Forward extremities after the event (normally just this event). */
  forwardExtremities: string[];
  /** The client transaction that sent it. */
  txn?: { userId: string; deviceId: string; txnId: string };
  /** `m.relates_to` of the event, when it has a valid one. */
  relation?: { relatesTo: string; relType: string };
  /** For a redaction that applies: the target event id. */
  redacts?: string;
  /** For a redaction whose target is not held: the event it names, recorded so a target
   * backfilled later finds it (redactionsTargeting). */
  redactsUnheld?: string;
  /** A redaction stored before this event (it arrived first) that applies to it. */
  redactedBy?: string;
  /** Remote events: the state before the event (resolved from its prev events' states), stored
   * as a new state group (a delta on stateGroupBefore when that is given). */
  stateBefore?: ReadonlyMap<string, string>;
  /** Remote events: the room's current state after this event, when it is not the state after
   * the event (the DAG forked: resolved across the new forward extremities). */
  currentState?: ReadonlyMap<string, string>;
  /** Events stored in the same write, outside the timeline (e.g. the auth chain of a join). */
  aside?: AsideEvent[];
  /** The event was stored as an outlier before and now joins the timeline. */
  replacesOutlier?: boolean;
  /** Notifying push results for local users (services/push/counts.ts), stored in the same write. */
  pushActions?: readonly NewPushAction[];
}

/** Why an event of the DAG is not in the timeline (migration 0013-federation-events.sql). */
export type AsideKind = 'outlier' | 'rejected' | 'soft_failed';

export interface AsideEvent {
  pdu: StoredPdu;
  kind: AsideKind;
  reason?: string;
  /** rejected / soft_failed: the state before the event, as a group or as a map (new group). */
  stateGroupBefore?: number | null;
  stateBefore?: ReadonlyMap<string, string>;
}

/** Any stored event of a room's DAG, in the timeline or not. */
export interface DagEventRecord {
  pdu: StoredPdu;
  roomId: string;
  kind: 'timeline' | AsideKind;
  /** State after the event (rejected: before it); null for outliers. */
  stateGroup: number | null;
  /** Timeline events: the state event this one replaced (so state before = after minus it). */
  replacesState: string | null;
  /** Timeline events only. */
  position: number | null;
  redactedBy: string | null;
}

/** An event of history older than the room's timeline here (fetched by backfill), with the
 * state before it; stored at a negative position, before everything the room has. */
export interface BackfilledEvent {
  pdu: StoredPdu;
  stateBefore: ReadonlyMap<string, string>;
  relation?: { relatesTo: string; relType: string };
  /** A redaction: the event it names, recorded (redactions table) whether or not that event is
   * held, so a target backfilled later finds it (redactionsTargeting). */
  redacts?: string;
}

/** A redaction the service found valid for its target (held, or in the same backfill batch). */
export interface AppliedRedaction {
  redactionId: string;
  target: string;
}
/** A local user's membership in a room this server is not in (an invite received over /invite). */
export interface RemoteMembership {
  roomId: string;
  userId: string;
  eventId: string;
  roomVersion: string;
  strippedState: Record<string, unknown>[];
}

export interface PersistedEvent {
  position: number;
  /** State group after the event. */
  stateGroup: number;
  /** The room's current state group after the write (stateGroup unless `currentState` was given). */
  currentGroup: number;
  /** For state events, the event replaced in the current state (null if none). */
  replacesState: string | null;
}

/**
 * A write applied in order. `result` is visible to every read and write that starts after the
 * call returns (so the next event can build on it); `durable` resolves once it is fsync'd, and
 * only then may it be announced (ARCHITECTURE "durable before announced").
 */
export interface OrderedWrite<T> {
  result: T;
  durable: Promise<void>;
}

export interface RelationRecord {
  eventId: string;
  relatesTo: string;
  relType: string;
  type: string;
  sender: string;
  position: number;
}

export interface PublicRoomsPage {
  roomIds: string[];
  total: number;
}

export interface RoomsStore {
  // ---- events and state --------------------------------------------------------------------
  persistEvent(batch: PersistEventBatch): OrderedWrite<PersistedEvent>;
  getRoom(roomId: string): RoomRecord | undefined;
  getEvent(eventId: string): EventRecord | undefined;
  /** Records of the ids found (missing ids are absent from the map). */
  /** Timeline events by id. With `outliers`, also events kept aside but not rejected (the state a
   * federated join brought, soft-failed events that state resolution kept), with position 0:
   * state readers need them, timeline readers must not see them. */
  getEvents(eventIds: readonly string[], opts?: { outliers?: boolean }): Map<string, EventRecord>;
  /** (stateMapKey → event id) of the room's current state. */
  currentStateIds(roomId: string): Map<string, string>;
  /** The state group after the room's latest event (null for an unknown room). */
  currentStateGroup(roomId: string): number | null;
  forwardExtremities(roomId: string): string[];
  /** (stateMapKey → event id) of a state group. Shared and cached: never mutate. */
  stateGroupIds(group: number): ReadonlyMap<string, string>;
  /** The state group after the last event of the room at or before `position` (null if none). */
  stateGroupAt(roomId: string, position: number): number | null;
  /** The room's event positions in the given window, ordered by position (ascending for 'f', descending for 'b'). */
  eventsBetween(roomId: string, opts: { dir: 'f' | 'b'; after?: number; atOrBefore?: number; limit: number }): EventRecord[];
  /** The latest event position in the room (null when it has no events). */
  latestPosition(roomId: string): number | null;
  /** Closest event to `ts` in direction dir ('f': at or after; 'b': at or before). */
  eventNearTimestamp(roomId: string, ts: number, dir: 'f' | 'b'): EventRecord | undefined;
  /** The state events of one type, with positions, oldest first (history visibility timeline). */
  stateEventsOfType(roomId: string, type: string): { position: number; eventId: string; stateKey: string; content: Record<string, unknown> }[];

  // ---- federation: the DAG beyond the timeline ------------------------------------------------
  /** Stores events outside the timeline (outliers, rejected, soft-failed); known ids are skipped. */
  persistAside(roomId: string, events: readonly AsideEvent[]): OrderedWrite<void>;
  /** Backfilled history, oldest first: placed before the room's earliest timeline event (negative
   * positions, in the given order; outliers move into the timeline, known timeline events are
   * skipped), with `aside` (e.g. rejected ones) in the same write. Forward extremities, current
   * state and current memberships are untouched; member events enter the membership history.
   * `redactions` then apply as a live redaction does (redacted_by set, relations dropped), to
   * targets in the batch or stored before. */
  persistBackfill(roomId: string, events: readonly BackfilledEvent[], aside: readonly AsideEvent[], redactions?: readonly AppliedRedaction[]): OrderedWrite<void>;
  /** Ids of the redactions stored (applied or not) that name each of `eventIds`. */
  redactionsTargeting(eventIds: readonly string[]): Map<string, string[]>;
  getDagEvent(eventId: string): DagEventRecord | undefined;
  getDagEvents(eventIds: readonly string[]): Map<string, DagEventRecord>;
  /** A local user's membership in a room this server is not in: the event is stored aside, the
   * membership (and stripped state for sync) recorded at a new stream position. The record
   * speaks for the user only while the member's event is this one (remoteMembership callers check). */
  persistRemoteMembership(m: RemoteMembership & { pdu: StoredPdu; membership: MembershipValue }): OrderedWrite<{ position: number }>;
  remoteMembership(roomId: string, userId: string): RemoteMembership | undefined;
  /** The stored answer to a received federation transaction (origin, txnId). */
  receivedTxn(origin: string, txnId: string): Record<string, unknown> | undefined;
  storeReceivedTxn(origin: string, txnId: string, response: Record<string, unknown>, now: number): Promise<void>;

  // ---- transactions -------------------------------------------------------------------------
  txnEventId(userId: string, deviceId: string, roomId: string, txnId: string): string | undefined;
  txnOfEvent(eventId: string): { userId: string; deviceId: string; txnId: string } | undefined;
  /** Forgets the transaction ids of events sent before `beforeTs`, and the stored answers to
   * federation transactions received before it; resolves with how many rows went. */
  forgetTransactionsBefore(beforeTs: number): Promise<number>;

  // ---- memberships --------------------------------------------------------------------------
  member(roomId: string, userId: string): MemberRecord | undefined;
  members(roomId: string): MemberRecord[];
  roomsOfUser(userId: string): MemberRecord[];
  /** The user's membership changes in (since, upTo], oldest first, in every room. */
  membershipChanges(userId: string, since: number, upTo: number): MembershipChange[];
  /** The user's membership in every room as of `upTo` (latest change at or before it). */
  membershipsAt(userId: string, upTo: number): MembershipChange[];
  /** The user's membership changes in one room, oldest first. */
  membershipHistory(roomId: string, userId: string): MembershipChange[];
  forget(roomId: string, userId: string): Promise<void>;

  // ---- relations ----------------------------------------------------------------------------
  /** Children of `eventId`, by position, in direction dir, strictly after/before `from`. */
  relations(eventId: string, opts: { relType?: string; eventType?: string; dir: 'f' | 'b'; from?: number; limit: number }): RelationRecord[];
  /** Children of many parents (aggregations), oldest first; only rel types in `relTypes`. */
  relationsOf(eventIds: readonly string[], relTypes: readonly string[]): RelationRecord[];
  /** Thread roots of a room (events with m.thread children), by latest thread activity, newest first. */
  threadRoots(roomId: string, opts: { participant?: string; before?: number; limit: number }): { rootId: string; latestPosition: number }[];

  // ---- aliases and directory ------------------------------------------------------------------
  /** False when the alias exists already. */
  createAlias(alias: string, roomId: string, creator: string): Promise<boolean>;
  deleteAlias(alias: string): Promise<boolean>;
  getAlias(alias: string): { roomId: string; creator: string } | undefined;
  aliasesOfRoom(roomId: string): string[];
  setPublic(roomId: string, isPublic: boolean): Promise<void>;
  publicRoomIds(): string[];
}
