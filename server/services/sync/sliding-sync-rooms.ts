/**
 * Simplified sliding sync (MSC4186): the rooms of one response. Builds the user's room list
 * (sorted by recency), applies list filters and ranges, and for each matched room decides
 * whether it changed since this connection last sent it and, if so, what to send: `initial` with
 * the current required_state and the latest timeline, or the timeline and state changes since.
 * All room reading goes through RoomsReader, so visibility and ignored users apply.
 */
import type { ClientEvent, MembershipEntry, Membership, RoomsReader, StrippedStateEvent, Viewer } from '../rooms/reader.ts';
import type { UnreadCountsSource } from './sources.ts';
import { withoutRoomId } from './sync.ts';
import { formatPaginationToken, parsePositionToken } from './tokens.ts';
import {
  combineConfigs,
  passesFilters,
  requiredStateKey,
  selectState,
  type CombinedConfig,
  type ListFilters,
  type RoomConfig,
  type RoomFacts,
  type SlidingSyncRequest,
} from './sliding-sync-config.ts';

const MEMBER = 'm.room.member';

/** Event types that move a room up the list ("proper" activity, MSC4186 `bump_stamp`). */
const BUMP_TYPES = ['m.room.create', 'm.room.message', 'm.room.encrypted', 'm.sticker', 'm.call.invite', 'm.poll.start', 'm.beacon_info'];

/** What a connection remembers of a room it has sent (or checked and found unchanged). */
export interface RoomStatus {
  /** Stream position the client is up to date with for this room. */
  sentAt: number;
  membership: Membership;
  timelineLimit: number;
  stateKey: string;
}

export interface StrippedHero {
  user_id: string;
  displayname?: string;
  avatar_url?: string;
}

export interface SlidingRoom {
  membership: Membership;
  bump_stamp: number;
  initial?: true;
  lists?: string[];
  name?: string;
  avatar?: string;
  heroes?: StrippedHero[];
  is_dm?: true;
  required_state?: ClientEvent[];
  timeline?: ClientEvent[];
  prev_batch?: string;
  limited?: boolean;
  num_live?: number;
  joined_count?: number;
  invited_count?: number;
  notification_count?: number;
  highlight_count?: number;
  expanded_timeline?: true;
  /** Synapse's (and matrix-rust-sdk's) name for expanded_timeline. */
  unstable_expanded_timeline?: true;
  /** Synapse's name, read by matrix-rust-sdk; `stripped_state` is the MSC's later name. */
  invite_state?: StrippedStateEvent[];
  stripped_state?: StrippedStateEvent[];
}

export interface RoomsDepsForSliding {
  rooms: RoomsReader;
  unreadCounts: UnreadCountsSource;
  /** Stored account data (m.direct, m.tag), undefined when unset. */
  accountDataOf(userId: string, roomId: string | null, type: string): Record<string, unknown> | undefined;
  /** Rooms with events in (since, upTo]; without it every matched room is re-read. */
  roomsWithEvents?(since: number, upTo: number): Set<string>;
}

interface RoomEntry {
  membership: MembershipEntry;
  bump: number;
}

export interface RoomsOutcome {
  lists: Record<string, { count: number }>;
  rooms: Record<string, SlidingRoom>;
  /** Room ids each list's ranges selected (extensions scope), and the subscribed rooms the user may see. */
  listRooms: Map<string, string[]>;
  subscribed: string[];
  /** Rooms sent with `initial` in this response. */
  initialRooms: Set<string>;
  memberships: Map<string, MembershipEntry>;
  statuses: Map<string, RoomStatus>;
}

/** Caches that outlive one request: bump positions per user, member event senders. */
export class SlidingRoomsCache {
  /** Per user: the position the bumps were read up to, and each joined room's bump position. */
  private readonly bumps = new Map<string, { at: number; positions: Map<string, number | null> }>();
  private readonly senders = new Map<string, string>();

  constructor(private readonly deps: Pick<RoomsDepsForSliding, 'rooms' | 'roomsWithEvents'>) {}

  /** Position of the latest bump event the viewer can see in each joined room. Read
   * incrementally: only rooms with events since the last read are looked at again. */
  bumpPositions(viewer: Viewer, joined: readonly string[], upTo: number): Map<string, number | null> {
    let c = this.bumps.get(viewer.userId);
    if (!c) this.bumps.set(viewer.userId, (c = { at: upTo, positions: new Map() }));
    if (c.at >= upTo && joined.every((r) => c.positions.has(r))) return c.positions;
    const active = c.at < upTo && this.deps.roomsWithEvents ? this.deps.roomsWithEvents(c.at, upTo) : null;
    // A concurrent request may have read further already (still within the announced position).
    const to = Math.max(c.at, upTo);
    const positions = new Map<string, number | null>();
    for (const roomId of joined) {
      const known = c.positions.has(roomId);
      const cached = c.positions.get(roomId) ?? null;
      if (known && (c.at >= upTo || (active !== null && !active.has(roomId)))) {
        positions.set(roomId, cached);
        continue;
      }
      const tl = this.deps.rooms.timeline(viewer, roomId, known ? c.at : null, to, 1, { types: BUMP_TYPES });
      // prev_batch names the gap just before the returned event (services/sync/tokens.ts).
      positions.set(roomId, tl.events.length > 0 ? parsePositionToken(tl.prevBatch) + 1 : cached);
    }
    // Rooms no longer joined are dropped: a later rejoin reads them afresh.
    this.bumps.set(viewer.userId, { at: to, positions });
    return positions;
  }

  /** Sender of the user's membership event (was a leave or ban done by someone else?). */
  membershipSender(viewer: Viewer, m: MembershipEntry): string | undefined {
    let sender = this.senders.get(m.eventId);
    if (sender === undefined) {
      sender = this.deps.rooms.membersAt(viewer, m.roomId, [viewer.userId], m.position).find((e) => e.event_id === m.eventId)?.sender;
      if (sender === undefined) return undefined;
      if (this.senders.size > 10_000) this.senders.clear();
      this.senders.set(m.eventId, sender);
    }
    return sender;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function buildRooms(
  deps: RoomsDepsForSliding,
  cache: SlidingRoomsCache,
  viewer: Viewer,
  req: SlidingSyncRequest,
  prev: { upTo: number; rooms: ReadonlyMap<string, RoomStatus> } | null,
  upTo: number,
): RoomsOutcome {
  const { rooms } = deps;
  const userId = viewer.userId;
  const out: RoomsOutcome = {
    lists: {},
    rooms: {},
    listRooms: new Map(),
    subscribed: [],
    initialRooms: new Set(),
    memberships: new Map(),
    statuses: new Map(prev?.rooms ?? []),
  };

  // 1. The user's rooms: joined, invited, knocked; left or banned ones when someone else did it,
  //    or when this connection last saw another membership (so the client learns of the leave).
  const memberships = rooms.memberships(userId, upTo);
  const bumps = cache.bumpPositions(viewer, memberships.filter((m) => m.membership === 'join').map((m) => m.roomId), upTo);
  const entries: RoomEntry[] = [];
  for (const m of memberships) {
    out.memberships.set(m.roomId, m);
    if (m.membership === 'leave' || m.membership === 'ban') {
      const status = prev?.rooms.get(m.roomId);
      const byOther = cache.membershipSender(viewer, m) !== userId;
      if (!byOther && (status === undefined || status.membership === m.membership)) continue;
    }
    // Rooms the user is not in rank by their membership change: later activity is not theirs to see.
    entries.push({ membership: m, bump: (m.membership === 'join' ? bumps.get(m.roomId) : null) ?? m.position });
  }
  entries.sort((a, b) => b.bump - a.bump || (a.membership.roomId < b.membership.roomId ? -1 : 1));
  const bumpOf = new Map(entries.map((e) => [e.membership.roomId, e.bump]));

  // 2. Lists: filter, count, take the ranges. Facts are read once per room and request.
  const direct = directRooms(deps.accountDataOf(userId, null, 'm.direct'));
  const facts = new Map<string, RoomFacts>();
  const factsOf = (m: MembershipEntry): RoomFacts => {
    let f = facts.get(m.roomId);
    if (!f) facts.set(m.roomId, (f = roomFacts(deps, viewer, m, upTo, direct)));
    return f;
  };
  const matched = new Map<string, { configs: RoomConfig[]; lists: string[] }>();
  const match = (roomId: string, config: RoomConfig, list?: string): void => {
    let e = matched.get(roomId);
    if (!e) matched.set(roomId, (e = { configs: [], lists: [] }));
    e.configs.push(config);
    if (list !== undefined) e.lists.push(list);
  };
  for (const [name, list] of Object.entries(req.lists)) {
    const children = list.filters.spaces ? spaceChildren(rooms, viewer, list.filters, out.memberships, upTo) : undefined;
    const filtered = Object.values(list.filters).some((v) => v !== undefined)
      ? entries.filter((e) => passesFilters(list.filters, factsOf(e.membership), e.membership.roomId, children))
      : entries;
    out.lists[name] = { count: filtered.length };
    const selected = new Set<string>();
    for (const [from, to] of list.ranges ?? [[0, filtered.length - 1] as const]) {
      for (let i = Math.max(0, from); i <= Math.min(to, filtered.length - 1); i++) selected.add(filtered[i]!.membership.roomId);
    }
    out.listRooms.set(name, [...selected]);
    for (const roomId of selected) match(roomId, list, name);
  }
  // Subscriptions: rooms the user is or was in, or is invited to / knocked on; others are ignored.
  for (const [roomId, config] of Object.entries(req.roomSubscriptions)) {
    if (!out.memberships.has(roomId)) continue;
    out.subscribed.push(roomId);
    match(roomId, config);
  }

  // 3. Rooms with anything new since they were last sent (one query for all of them).
  let active: Set<string> | null = null;
  if (deps.roomsWithEvents) {
    const since = Math.min(...[...matched.keys()].map((r) => prev?.rooms.get(r)?.sentAt ?? upTo));
    active = since < upTo ? deps.roomsWithEvents(since, upTo) : new Set();
  }

  for (const [roomId, { configs, lists }] of matched) {
    const m = out.memberships.get(roomId)!;
    const status = prev?.rooms.get(roomId);
    const config = combineConfigs(configs);
    const bump = bumpOf.get(roomId) ?? m.position;
    const ctx = { deps, viewer, m, status, config, lists, bump, upTo, prevUpTo: prev?.upTo ?? null, direct, active };
    const built = m.membership === 'invite' || m.membership === 'knock' ? strippedRoom(ctx) : fullRoom(ctx);
    if (built) {
      out.rooms[roomId] = built.room;
      if (built.room.initial) out.initialRooms.add(roomId);
      out.statuses.set(roomId, built.status);
    } else if (status) {
      // Checked and unchanged: the client is up to date with it as of upTo.
      out.statuses.set(roomId, { ...status, sentAt: upTo });
    }
  }
  return out;
}

interface RoomContext {
  deps: RoomsDepsForSliding;
  viewer: Viewer;
  m: MembershipEntry;
  status: RoomStatus | undefined;
  config: CombinedConfig;
  lists: string[];
  bump: number;
  upTo: number;
  prevUpTo: number | null;
  direct: ReadonlySet<string>;
  active: Set<string> | null;
}

type Built = { room: SlidingRoom; status: RoomStatus } | null;

/** Invited or knocked: the stripped state, once per membership. */
function strippedRoom(c: RoomContext): Built {
  const { m, status } = c;
  if (status && status.membership === m.membership) return null;
  const stripped = c.deps.rooms.strippedState(m.roomId, c.viewer.userId);
  const room: SlidingRoom = { membership: m.membership, bump_stamp: c.bump, initial: true, invite_state: stripped, stripped_state: stripped };
  if (c.lists.length > 0) room.lists = c.lists;
  const invite = stripped.find((e) => e.type === MEMBER && e.state_key === c.viewer.userId);
  if (invite?.content.is_direct === true) room.is_dm = true;
  return { room, status: { sentAt: c.upTo, membership: m.membership, timelineLimit: 0, stateKey: '' } };
}

/** Joined, or left/banned (then everything stops at the membership event). */
function fullRoom(c: RoomContext): Built {
  const { deps, viewer, m, status, config } = c;
  const { rooms } = deps;
  const roomId = m.roomId;
  const userId = viewer.userId;
  const end = m.membership === 'join' ? c.upTo : Math.min(m.position, c.upTo);
  const limit = config.timelineLimit;
  const stateKey = requiredStateKey(config);
  const select = selectState(config, userId);
  // Stripped state is all an invitee or knocker had: joining starts the room afresh.
  const initial =
    status === undefined ||
    status.membership === 'invite' ||
    status.membership === 'knock' ||
    (m.membership === 'join' && status.membership !== 'join');
  const since = initial ? null : status!.sentAt;
  const expanded = !initial && limit > status!.timelineLimit;
  const stateChanged = !initial && stateKey !== status!.stateKey;

  let tl: ReturnType<RoomsReader['timeline']>;
  if (initial || expanded) {
    tl = rooms.timeline(viewer, roomId, null, end, limit);
  } else {
    const changed = status!.membership !== m.membership || c.active === null || c.active.has(roomId);
    if (!changed && !stateChanged) return null;
    tl = since! < end ? rooms.timeline(viewer, roomId, since, end, limit) : { events: [], limited: false, prevBatch: formatPaginationToken(end) };
    // Nothing the user may see happened.
    if (tl.events.length === 0 && !stateChanged) return null;
  }

  // required_state: the current state the config asks for (afresh when initial or the config
  // changed), otherwise what changed since the room was last sent; plus lazy members.
  let state: ClientEvent[] =
    since === null || stateChanged
      ? rooms.stateAt(viewer, roomId, end, select.readerFilter)
      : since < end
        ? rooms.stateChanges(viewer, roomId, since, end, select.readerFilter)
        : [];
  state = state.filter((e) => select.wanted(e.type, e.state_key ?? ''));
  if (select.lazyMembers) {
    const needed = new Set<string>();
    for (const e of tl.events) {
      needed.add(e.sender);
      if (e.type === MEMBER && e.state_key !== undefined) needed.add(e.state_key);
    }
    // Member changes of a non-gappy incremental sync, so clients can keep a member cache.
    if (since !== null && !tl.limited && since < end) {
      for (const e of rooms.stateChanges(viewer, roomId, since, end, { types: [MEMBER] })) needed.add(e.state_key ?? '');
    }
    for (const e of state) if (e.type === MEMBER) needed.delete(e.state_key ?? '');
    if (needed.size > 0) state.push(...rooms.membersAt(viewer, roomId, [...needed], end));
  }

  // num_live: the timeline events that happened after the previous response.
  let numLive = 0;
  if (c.prevUpTo !== null && c.prevUpTo < end && tl.events.length > 0) {
    if (!initial && !expanded && since! >= c.prevUpTo) numLive = tl.events.length;
    else {
      const live = new Set(rooms.timeline(viewer, roomId, c.prevUpTo, end, limit).events.map((e) => e.event_id));
      numLive = tl.events.filter((e) => live.has(e.event_id)).length;
    }
  }

  const meta = rooms.stateAt(viewer, roomId, end, { types: ['m.room.name', 'm.room.avatar'] });
  const name = str(meta.find((e) => e.type === 'm.room.name')?.content.name);
  const avatar = str(meta.find((e) => e.type === 'm.room.avatar')?.content.url);
  const summary = rooms.summary(roomId, userId, end);
  const counts = m.membership === 'join' ? deps.unreadCounts.counts(userId, roomId, end) : { notification_count: 0, highlight_count: 0 };

  const room: SlidingRoom = {
    membership: m.membership,
    bump_stamp: c.bump,
    required_state: state.map(withoutRoomId),
    timeline: tl.events.map(withoutRoomId),
    prev_batch: tl.prevBatch,
    limited: tl.limited,
    num_live: numLive,
    joined_count: summary['m.joined_member_count'],
    invited_count: summary['m.invited_member_count'],
    notification_count: counts.notification_count,
    highlight_count: counts.highlight_count,
  };
  if (initial) room.initial = true;
  if (c.lists.length > 0) room.lists = c.lists;
  if (name) room.name = name;
  if (avatar) room.avatar = avatar;
  if (!name && summary['m.heroes'].length > 0) {
    const members = new Map(rooms.membersAt(viewer, roomId, summary['m.heroes'], end).map((e) => [e.state_key, e.content]));
    room.heroes = summary['m.heroes'].map((u) => {
      const h: StrippedHero = { user_id: u };
      const displayname = str(members.get(u)?.displayname);
      const avatarUrl = str(members.get(u)?.avatar_url);
      if (displayname) h.displayname = displayname;
      if (avatarUrl) h.avatar_url = avatarUrl;
      return h;
    });
  }
  if (c.direct.has(roomId)) room.is_dm = true;
  if (expanded) {
    room.expanded_timeline = true;
    room.unstable_expanded_timeline = true;
  }
  return { room, status: { sentAt: c.upTo, membership: m.membership, timelineLimit: limit, stateKey } };
}

/** Rooms named in the user's m.direct account data (user id → room ids). */
function directRooms(content: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  for (const ids of Object.values(content ?? {})) if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') out.add(id);
  return out;
}

function roomFacts(deps: RoomsDepsForSliding, viewer: Viewer, m: MembershipEntry, upTo: number, direct: ReadonlySet<string>): RoomFacts {
  const stub = m.membership === 'invite' || m.membership === 'knock';
  const state: { type: string; state_key?: string; content: Record<string, unknown> }[] = stub
    ? deps.rooms.strippedState(m.roomId, viewer.userId)
    : deps.rooms.stateAt(viewer, m.roomId, m.membership === 'join' ? upTo : Math.min(m.position, upTo), { types: ['m.room.create', 'm.room.encryption'] });
  const create = state.find((e) => e.type === 'm.room.create');
  const invite = stub ? state.find((e) => e.type === MEMBER && e.state_key === viewer.userId) : undefined;
  const tags = deps.accountDataOf(viewer.userId, m.roomId, 'm.tag')?.tags;
  return {
    membership: m.membership,
    isDm: stub ? invite?.content.is_direct === true : direct.has(m.roomId),
    encrypted: state.some((e) => e.type === 'm.room.encryption'),
    roomType: typeof create?.content.type === 'string' ? create.content.type : null,
    tags: tags !== null && typeof tags === 'object' && !Array.isArray(tags) ? Object.keys(tags) : [],
  };
}

/** Children (m.space.child with a `via`) of the filter's spaces the user is joined to; no subspaces. */
function spaceChildren(
  rooms: RoomsReader,
  viewer: Viewer,
  f: ListFilters,
  memberships: ReadonlyMap<string, MembershipEntry>,
  upTo: number,
): Set<string> {
  const out = new Set<string>();
  for (const spaceId of f.spaces ?? []) {
    if (memberships.get(spaceId)?.membership !== 'join') continue;
    for (const e of rooms.stateAt(viewer, spaceId, upTo, { types: ['m.space.child'] })) {
      if (Array.isArray(e.content.via) && e.content.via.length > 0 && e.state_key) out.add(e.state_key);
    }
  }
  return out;
}
