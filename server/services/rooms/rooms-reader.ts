/**
 * The RoomsReader contract (reader.ts) for /sync, over RoomsStore. Every timeline read applies
 * history visibility (visibility.ts), ignored users and the filter; state reads come from state
 * groups, so "state at position P" is one cached group lookup. Invites received over federation
 * to rooms this server is not in show the stripped state the inviting server sent.
 */
import { parseStateMapKey, stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import type { EventRecord } from '../../storage/rooms.ts';
import { formatPaginationToken } from '../sync/tokens.ts';
import type { ClientEventFormatter } from './client-event.ts';
import type { RoomsDeps } from './deps.ts';
import { matchesFilter } from './event-filter.ts';
import type {
  ClientEvent,
  EventFilter,
  Membership,
  MembershipEntry,
  RoomsReader,
  StrippedStateEvent,
  Viewer,
} from './reader.ts';
import type { EventSender } from './send-event.ts';
import { scanEvents } from './timeline.ts';
import { VisibilityChecker } from './visibility.ts';

function isStrippedEvent(e: Record<string, unknown>): e is Record<string, unknown> & StrippedStateEvent {
  return typeof e.type === 'string' && typeof e.state_key === 'string' && typeof e.sender === 'string' && typeof e.content === 'object' && e.content !== null;
}

/** Stripped state for invitees and knockers (spec: "Stripped state"; Synapse's default set). */
const STRIPPED_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
];

/** The stripped state of a room's current state: the standard set, plus the events at `extraKeys`
 * (state map keys, e.g. the invitee's or knocker's own membership). Also what we send a remote
 * invitee's server as invite_room_state. */
export function strippedStateOf(state: ReadonlyMap<string, StoredPdu>, extraKeys: readonly string[] = []): StrippedStateEvent[] {
  const out: StrippedStateEvent[] = [];
  for (const k of [...STRIPPED_TYPES.map((t) => stateMapKey(t, '')), ...extraKeys]) {
    const e = state.get(k);
    if (e) out.push({ type: e.type, state_key: e.state_key ?? '', sender: e.sender, content: e.content as Record<string, unknown> });
  }
  return out;
}

/** A room's members as of some state, in the order their member events were stored. */
interface MemberList {
  /** The member event ids it was read from: an event id names its content (redaction keeps the
   * membership), so equal ids mean equal memberships, whatever state group they came from. Only
   * the order, which picks the heroes, could go stale: an outlier backfilled later moves. */
  ids: string[];
  members: { userId: string; membership: unknown }[];
}

const MAX_MEMBER_LISTS = 2000;

export class SqlRoomsReader implements RoomsReader {
  /** Per room, the member list of the last summary: most syncs ask for the same state again. */
  private readonly memberLists = new Map<string, MemberList>();

  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    private readonly formatter: ClientEventFormatter,
  ) {}

  memberships(userId: string, upTo: number): MembershipEntry[] {
    const forgotten = new Set(this.deps.store.roomsOfUser(userId).filter((m) => m.forgotten).map((m) => m.roomId));
    return this.deps.store
      .membershipsAt(userId, upTo)
      .filter((m) => !forgotten.has(m.roomId))
      .map((m) => ({ roomId: m.roomId, membership: m.membership as Membership, eventId: m.eventId, position: m.position }));
  }

  membershipChanges(userId: string, since: number, upTo: number): MembershipEntry[] {
    return this.deps.store
      .membershipChanges(userId, since, upTo)
      .map((m) => ({ roomId: m.roomId, membership: m.membership as Membership, eventId: m.eventId, position: m.position }));
  }

  timeline(viewer: Viewer, roomId: string, since: number | null, upTo: number, limit: number, filter?: EventFilter) {
    const vis = new VisibilityChecker(this.deps.store, roomId, viewer.userId);
    const ignored = this.deps.ignoredUsers?.(viewer.userId);
    const accept = (rec: EventRecord): boolean =>
      !(ignored?.has(rec.pdu.sender) && typeof rec.pdu.state_key !== 'string') && matchesFilter(filter, rec.pdu) && vis.canSee(rec);
    // One more than asked tells whether the timeline is limited.
    const scan = scanEvents(this.deps, roomId, 'b', { atOrBefore: upTo, after: since ?? undefined }, limit + 1, accept);
    const limited = scan.events.length > limit;
    const newest = scan.events.slice(0, limit).reverse();
    const prevBatch = newest.length > 0 ? formatPaginationToken(newest[0]!.position - 1) : formatPaginationToken(upTo);
    return { events: this.formatter.format(newest, viewer), limited, prevBatch };
  }

  private stateIdsAt(roomId: string, at: number): ReadonlyMap<string, string> {
    const group = this.deps.store.stateGroupAt(roomId, at);
    if (group !== null) return this.deps.store.stateGroupIds(group);
    // Before the room's first event here: the state before that event. A room joined over
    // federation starts with our join, and the state before it is the resident server's.
    const first = this.deps.store.eventsBetween(roomId, { dir: 'f', after: at, limit: 1 })[0];
    if (!first) return new Map();
    const after = this.deps.store.stateGroupIds(first.stateGroup);
    if (typeof first.pdu.state_key !== 'string') return after;
    const before = new Map(after);
    const key = stateMapKey(first.pdu.type, first.pdu.state_key);
    if (first.replacesState !== null) before.set(key, first.replacesState);
    else before.delete(key);
    return before;
  }

  private formatState(viewer: Viewer, ids: Iterable<string>): ClientEvent[] {
    const recs = [...this.deps.store.getEvents([...ids], { outliers: true }).values()].sort((a, b) => a.position - b.position);
    return this.formatter.format(recs, viewer, false);
  }

  private stateFilter(viewer: Viewer, filter: EventFilter | undefined): (key: string) => boolean {
    return (key) => {
      const [type, stateKey] = parseStateMapKey(key);
      if (filter?.lazy_load_members && type === 'm.room.member' && stateKey !== viewer.userId) return false;
      if (filter && (filter.types || filter.not_types)) {
        return matchesFilter({ types: filter.types, not_types: filter.not_types }, { type, sender: '', content: {} });
      }
      return true;
    };
  }

  stateAt(viewer: Viewer, roomId: string, at: number, filter?: EventFilter): ClientEvent[] {
    const keep = this.stateFilter(viewer, filter);
    const ids = [...this.stateIdsAt(roomId, at)].filter(([k]) => keep(k)).map(([, id]) => id);
    return this.formatState(viewer, ids);
  }

  stateChanges(viewer: Viewer, roomId: string, since: number, upTo: number, filter?: EventFilter): ClientEvent[] {
    const before = this.deps.store.stateGroupAt(roomId, since);
    const after = this.deps.store.stateGroupAt(roomId, upTo);
    if (after === null || before === after) return [];
    const a = before === null ? new Map<string, string>() : this.deps.store.stateGroupIds(before);
    const b = this.deps.store.stateGroupIds(after);
    const keep = this.stateFilter(viewer, filter);
    const changed: string[] = [];
    for (const [k, id] of b) if (a.get(k) !== id && keep(k)) changed.push(id);
    return this.formatState(viewer, changed);
  }

  strippedState(roomId: string, userId: string): StrippedStateEvent[] {
    // An invite received over federation to a room this server is not in: the inviter's stripped state.
    const remote = this.deps.store.remoteMembership(roomId, userId);
    if (remote && remote.eventId === this.deps.store.member(roomId, userId)?.eventId) return remote.strippedState.filter(isStrippedEvent);
    const entry = this.sender.cache.get(roomId);
    if (!entry) return [];
    return strippedStateOf(entry.state, [stateMapKey('m.room.member', userId)]);
  }

  /** The members as of `upTo`, read from storage only when the member events differ from last time. */
  private memberList(roomId: string, upTo: number): MemberList['members'] {
    const memberIds: string[] = [];
    for (const [k, id] of this.stateIdsAt(roomId, upTo)) if (parseStateMapKey(k)[0] === 'm.room.member') memberIds.push(id);
    const kept = this.memberLists.get(roomId);
    if (kept && kept.ids.length === memberIds.length && kept.ids.every((id, i) => id === memberIds[i])) return kept.members;
    const recs = [...this.deps.store.getEvents(memberIds, { outliers: true }).values()].sort((a, b) => a.position - b.position);
    const members = recs.map((r) => ({ userId: r.pdu.state_key!, membership: r.pdu.content.membership }));
    if (this.memberLists.size >= MAX_MEMBER_LISTS) this.memberLists.clear();
    this.memberLists.set(roomId, { ids: memberIds, members });
    return members;
  }

  summary(roomId: string, userId: string, upTo: number) {
    let joined = 0;
    let invited = 0;
    const heroes: string[] = [];
    const formerHeroes: string[] = [];
    for (const { userId: u, membership: m } of this.memberList(roomId, upTo)) {
      if (m === 'join') joined++;
      if (m === 'invite') invited++;
      if (u === userId) continue;
      if ((m === 'join' || m === 'invite') && heroes.length < 5) heroes.push(u);
      else if ((m === 'leave' || m === 'ban') && formerHeroes.length < 5) formerHeroes.push(u);
    }
    return {
      // Spec: with no joined or invited others, heroes may name those who left.
      'm.heroes': heroes.length > 0 ? heroes : formerHeroes,
      'm.joined_member_count': joined,
      'm.invited_member_count': invited,
    };
  }

  membersAt(viewer: Viewer, roomId: string, userIds: readonly string[], at: number): ClientEvent[] {
    const ids = this.stateIdsAt(roomId, at);
    const wanted = [...new Set(userIds)].map((u) => ids.get(stateMapKey('m.room.member', u))).filter((id): id is string => id !== undefined);
    return this.formatState(viewer, wanted);
  }

  usersSharingRoomsWith(userId: string): Set<string> {
    const out = new Set<string>();
    for (const m of this.deps.store.roomsOfUser(userId)) {
      if (m.membership !== 'join') continue;
      const entry = this.sender.cache.get(m.roomId);
      for (const u of entry?.joined ?? []) out.add(u);
    }
    return out;
  }

  joinedMembers(roomId: string): string[] {
    return [...(this.sender.cache.get(roomId)?.joined ?? [])];
  }
}
