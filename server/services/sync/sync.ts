/**
 * GET /sync (client-server sync.yaml; prose "Syncing", "Filtering", "Lazy-loading room members").
 * Gathers, for one device and the window (since, upTo], the rooms (RoomsReader) and everything
 * else (SyncSources), and long-polls on the Notifier when there is nothing to say yet:
 *   1. upTo = notifier.current: never report past the durable, announced position.
 *   2. Initial sync (no `since`) or `full_state`: answer at once, with each room's state at the
 *      start of its timeline.
 *   3. Incremental sync: only rooms with something new (membership change, timeline events,
 *      state, ephemeral events, room account data). A limited timeline carries the room's full
 *      state at its start; otherwise the state changes between `since` and the timeline start.
 *   4. Empty answer and time left: wait on the notifier (woken by the user's notifications), then
 *      re-read from storage; abort when the client goes away.
 */
import type { ClientEvent, EventFilter, MembershipEntry, RoomsReader, StrippedStateEvent, Viewer } from '../rooms/reader.ts';
import type { PresenceState } from '../../storage/sync-data.ts';
import type { Notifier } from './notifier.ts';
import type { BasicEvent, SyncSources, SyncWindow, UnreadCountsSource } from './sources.ts';
import { formatSyncToken, parsePositionToken, parseSyncToken, type SyncToken } from './tokens.ts';
import {
  eventMatches,
  projectEventFields,
  roomMatches,
  timelineLimit,
  type RoomEventFilterSpec,
  type SyncFilter,
} from './filters.ts';

export interface SyncRequest {
  since?: string;
  timeoutMs: number;
  fullState: boolean;
  filter: SyncFilter;
  setPresence?: PresenceState;
  useStateAfter?: boolean;
}

interface EventBatch<E = BasicEvent> {
  events: E[];
}

export interface JoinedRoomSync {
  summary?: Record<string, unknown>;
  state?: EventBatch<ClientEvent>;
  state_after?: EventBatch<ClientEvent>;
  timeline: { events: ClientEvent[]; limited: boolean; prev_batch: string };
  ephemeral: EventBatch;
  account_data: EventBatch;
  unread_notifications: { notification_count: number; highlight_count: number };
  unread_thread_notifications?: Record<string, { notification_count: number; highlight_count: number }>;
}

export interface LeftRoomSync {
  state?: EventBatch<ClientEvent>;
  state_after?: EventBatch<ClientEvent>;
  timeline: { events: ClientEvent[]; limited: boolean; prev_batch: string };
  account_data: EventBatch;
}

export interface SyncResponse {
  next_batch: string;
  rooms: {
    join: Record<string, JoinedRoomSync>;
    invite: Record<string, { invite_state: { events: StrippedStateEvent[] } }>;
    leave: Record<string, LeftRoomSync>;
    knock: Record<string, { knock_state: { events: StrippedStateEvent[] } }>;
  };
  presence: EventBatch<BasicEvent & { sender: string }>;
  account_data: EventBatch;
  to_device: EventBatch<BasicEvent & { sender: string }>;
  device_lists: { changed: string[]; left: string[] };
  device_one_time_keys_count: Record<string, number>;
  device_unused_fallback_key_types: string[];
}

export interface SyncDeps {
  rooms: RoomsReader;
  sources: SyncSources;
  notifier: Notifier;
  /** Marks the user online (or set_presence) while they sync; returns the end-of-sync hook. */
  presence?: { syncStarted(userId: string, setPresence: PresenceState | undefined): Promise<() => void> };
  /** Rooms with events in (since, upTo] (SyncDataStore.roomsWithEventsBetween); without it every
   * joined room's timeline is read on each incremental sync. */
  roomsWithEvents?(since: number, upTo: number): Set<string>;
  /** Most to-device messages per response. */
  toDeviceLimit?: number;
  now?: () => number;
}

/** Unread counts until the push service provides them: nothing unread. */
export const ZERO_UNREAD_COUNTS: UnreadCountsSource = {
  counts: () => ({ notification_count: 0, highlight_count: 0 }),
};

export interface SyncService {
  sync(viewer: Viewer, req: SyncRequest, signal?: AbortSignal): Promise<SyncResponse>;
}

const MEMBER = 'm.room.member';

/** The RoomsReader filter for a RoomEventFilter (rooms and limit are applied here). */
function readerFilter(f: RoomEventFilterSpec | undefined, extraNotTypes: string[] = []): EventFilter | undefined {
  if (!f && extraNotTypes.length === 0) return undefined;
  const out: EventFilter = {};
  if (f?.types) out.types = f.types;
  const notTypes = [...(f?.not_types ?? []), ...extraNotTypes];
  if (notTypes.length > 0) out.not_types = notTypes;
  if (f?.senders) out.senders = f.senders;
  if (f?.not_senders) out.not_senders = f.not_senders;
  if (f?.contains_url !== undefined) out.contains_url = f.contains_url;
  return out;
}

/** Whether a timeline filter can drop events (then state changes must cover the whole window). */
function restricts(f: RoomEventFilterSpec | undefined): boolean {
  return !!f && (!!f.types || !!f.not_types || !!f.senders || !!f.not_senders || f.contains_url !== undefined);
}

export function withoutRoomId(ev: ClientEvent): ClientEvent {
  if (ev.room_id === undefined) return ev;
  const { room_id: _r, ...rest } = ev;
  return rest;
}

export function createSync(deps: SyncDeps): SyncService {
  const { rooms, sources, notifier } = deps;
  const toDeviceLimit = deps.toDeviceLimit ?? 100;

  async function build(viewer: Viewer, req: SyncRequest, since: SyncToken | null, upTo: number, typingNow: number): Promise<SyncResponse> {
    const f = req.filter;
    const roomFilter = f.room;
    const userId = viewer.userId;
    const sincePos = since === null ? null : Math.min(since.position, upTo);
    // A typing serial from before a restart (larger than ours) means "send every typing set".
    const typingSince = since === null || since.typing > typingNow ? null : since.typing;
    const w: SyncWindow = { userId, deviceId: viewer.deviceId, since: sincePos, upTo };
    const moved = sincePos === null || sincePos < upTo;
    const full = sincePos === null || req.fullState;
    const limit = timelineLimit(f);
    const tlFilter = roomFilter?.timeline;
    const stFilter = roomFilter?.state;
    const lazy = stFilter?.lazy_load_members === true;
    const fields = f.event_fields;

    const res: SyncResponse = {
      next_batch: formatSyncToken({ position: upTo, typing: typingNow }),
      rooms: { join: {}, invite: {}, leave: {}, knock: {} },
      presence: { events: [] },
      account_data: { events: [] },
      to_device: { events: [] },
      device_lists: { changed: [], left: [] },
      device_one_time_keys_count: {},
      device_unused_fallback_key_types: [],
    };

    // Memberships now, and (incremental) what changed in the window and what it was before.
    const current = rooms.memberships(userId, upTo).filter((m) => roomMatches(roomFilter, m.roomId));
    const changed = new Map<string, MembershipEntry>();
    let before: Map<string, MembershipEntry> | null = null;
    if (sincePos !== null && moved) {
      for (const c of rooms.membershipChanges(userId, sincePos, upTo)) if (roomMatches(roomFilter, c.roomId)) changed.set(c.roomId, c);
      if (changed.size > 0) before = new Map(rooms.memberships(userId, sincePos).map((m) => [m.roomId, m]));
    }
    const joinedIds = current.filter((m) => m.membership === 'join').map((m) => m.roomId);
    const active = sincePos !== null && moved && deps.roomsWithEvents ? deps.roomsWithEvents(sincePos, upTo) : null;

    // Batched per-user sources.
    const accountData = moved ? sources.accountData.changes(w) : { global: [], rooms: new Map<string, BasicEvent[]>() };
    const ephemeralRooms = joinedIds.filter((r) => roomMatches(roomFilter?.ephemeral, r));
    const typing = sources.typing.changes(ephemeralRooms, typingSince);
    const receipts = moved ? sources.receipts.changes(w, ephemeralRooms) : new Map<string, BasicEvent>();

    const project = (evs: ClientEvent[]): ClientEvent[] => evs.map((e) => projectEventFields(withoutRoomId(e), fields));
    const filterState = (evs: ClientEvent[]): ClientEvent[] => evs.filter((e) => eventMatches(stFilter, e));

    /** Timeline of (from, to] plus the state the client needs with it. */
    const roomWindow = (roomId: string, from: number | null, to: number, fullState: boolean) => {
      const timeline = roomMatches(tlFilter, roomId)
        ? rooms.timeline(viewer, roomId, from, to, limit, readerFilter(tlFilter))
        : { events: [], limited: false, prevBatch: formatSyncToken({ position: to, typing: typingNow }) };
      const events = timeline.events;
      const start = events.length > 0 ? parsePositionToken(timeline.prevBatch) : to;
      const stateWanted = roomMatches(stFilter, roomId);
      let state: ClientEvent[] = [];
      let stateAfter: ClientEvent[] | undefined;
      const needFull = fullState || timeline.limited;
      if (stateWanted && req.useStateAfter) {
        stateAfter = filterState(
          fullState || from === null ? rooms.stateAt(viewer, roomId, to, readerFilter(stFilter)) : rooms.stateChanges(viewer, roomId, from, to, readerFilter(stFilter)),
        );
      } else if (stateWanted) {
        if (needFull && lazy) {
          state = rooms.stateAt(viewer, roomId, start, readerFilter(stFilter, [MEMBER]));
          if (eventMatches(stFilter, { type: MEMBER })) {
            const needed = new Set(events.map((e) => e.sender));
            if (fullState) needed.add(userId);
            const members = rooms.membersAt(viewer, roomId, [...needed], start);
            // Membership changes in the gap of a limited incremental sync are never dropped.
            if (!fullState && from !== null && start > from) {
              const have = new Set(members.map((m) => m.event_id));
              for (const e of rooms.stateChanges(viewer, roomId, from, start, { types: [MEMBER] })) if (!have.has(e.event_id)) members.push(e);
            }
            state.push(...members);
          }
        } else if (needFull) {
          state = rooms.stateAt(viewer, roomId, start, readerFilter(stFilter));
        } else if (from !== null && (events.length > 0 || restricts(tlFilter))) {
          // A filtered timeline may hide state events anywhere in the window: cover it all.
          const end = restricts(tlFilter) ? to : start;
          const inTimeline = new Set(events.map((e) => e.event_id));
          state = end > from ? rooms.stateChanges(viewer, roomId, from, end, readerFilter(stFilter)).filter((e) => !inTimeline.has(e.event_id)) : [];
          if (lazy && events.length > 0 && eventMatches(stFilter, { type: MEMBER })) {
            const have = new Set(state.filter((e) => e.type === MEMBER).map((e) => e.state_key));
            const missing = [...new Set(events.map((e) => e.sender))].filter((s) => !have.has(s));
            if (missing.length > 0) state.push(...rooms.membersAt(viewer, roomId, missing, start));
          }
        }
        state = filterState(state);
      }
      return { timeline, events, state, stateAfter };
    };

    for (const m of current) {
      const roomId = m.roomId;
      if (m.membership === 'join') {
        const prev = before?.get(roomId);
        const newlyJoined = changed.has(roomId) && prev?.membership !== 'join';
        const isFull = full || newlyJoined;
        if (!isFull && !moved && !typing.has(roomId)) continue;
        const win =
          isFull || (moved && (active === null || active.has(roomId)))
            ? roomWindow(roomId, sincePos, upTo, isFull)
            : { timeline: { events: [], limited: false, prevBatch: res.next_batch }, events: [] as ClientEvent[], state: [] as ClientEvent[], stateAfter: undefined };
        const ephemeral: BasicEvent[] = [];
        for (const ev of [typing.get(roomId), receipts.get(roomId)]) if (ev && eventMatches(roomFilter?.ephemeral, ev)) ephemeral.push(ev);
        const roomAccountData = roomMatches(roomFilter?.account_data, roomId)
          ? (accountData.rooms.get(roomId) ?? []).filter((e) => eventMatches(roomFilter?.account_data, e))
          : [];
        const hasNews =
          isFull || win.events.length > 0 || win.state.length > 0 || (win.stateAfter?.length ?? 0) > 0 || ephemeral.length > 0 || roomAccountData.length > 0;
        if (!hasNews) continue;
        const memberChange = isFull || win.events.some((e) => e.type === MEMBER) || win.state.some((e) => e.type === MEMBER);
        const counts = sources.unreadCounts.counts(userId, roomId, upTo);
        const room: JoinedRoomSync = {
          timeline: { events: project(win.events), limited: win.timeline.limited, prev_batch: win.timeline.prevBatch },
          ephemeral: { events: ephemeral },
          account_data: { events: roomAccountData },
          unread_notifications: { notification_count: counts.notification_count, highlight_count: counts.highlight_count },
        };
        if (win.stateAfter) room.state_after = { events: project(win.stateAfter) };
        else room.state = { events: project(win.state) };
        if (memberChange) {
          const summary = rooms.summary(roomId, userId, upTo);
          room.summary = summary;
          if (lazy && room.state && isFull) {
            // Heroes' member events accompany the summary when members are lazy-loaded.
            const have = new Set(room.state.events.filter((e) => e.type === MEMBER).map((e) => e.state_key));
            const heroes = summary['m.heroes'].filter((h) => !have.has(h));
            if (heroes.length > 0) room.state.events.push(...project(rooms.membersAt(viewer, roomId, heroes, upTo)));
          }
        }
        if (tlFilter?.unread_thread_notifications && counts.threads && Object.keys(counts.threads).length > 0) {
          // With threaded counts the room's own counts cover the main timeline only (spec: "Receiving notifications").
          room.unread_thread_notifications = counts.threads;
          for (const t of Object.values(counts.threads)) {
            room.unread_notifications.notification_count -= t.notification_count;
            room.unread_notifications.highlight_count -= t.highlight_count;
          }
        }
        res.rooms.join[roomId] = room;
      } else if (m.membership === 'invite') {
        if (full || changed.has(roomId)) res.rooms.invite[roomId] = { invite_state: { events: rooms.strippedState(roomId, userId) } };
      } else if (m.membership === 'knock') {
        if (full || changed.has(roomId)) res.rooms.knock[roomId] = { knock_state: { events: rooms.strippedState(roomId, userId) } };
      } else {
        // leave or ban: on a full sync only with include_leave; incrementally when it just happened.
        const justLeft = changed.has(roomId);
        if (!(full ? roomFilter?.include_leave === true : justLeft)) continue;
        const wasJoined = full || before?.get(roomId)?.membership === 'join';
        const win = roomWindow(roomId, full ? null : sincePos, m.position, full || !wasJoined);
        const left: LeftRoomSync = {
          timeline: { events: project(win.events), limited: win.timeline.limited, prev_batch: win.timeline.prevBatch },
          account_data: {
            events: roomMatches(roomFilter?.account_data, roomId)
              ? (accountData.rooms.get(roomId) ?? []).filter((e) => eventMatches(roomFilter?.account_data, e))
              : [],
          },
        };
        if (win.stateAfter) left.state_after = { events: project(win.stateAfter) };
        else left.state = { events: project(win.state) };
        res.rooms.leave[roomId] = left;
      }
    }

    // Top-level sections.
    res.account_data.events = accountData.global.filter((e) => eventMatches(f.account_data, e));
    if (moved) res.presence.events = sources.presence.changes(w).filter((e) => eventMatches(f.presence, e));
    res.to_device.events = await sources.toDevice.take(w, toDeviceLimit);
    if (sincePos !== null && moved) res.device_lists = sources.deviceLists.changes(w);
    res.device_one_time_keys_count = sources.deviceLists.oneTimeKeyCounts(userId, viewer.deviceId);
    res.device_unused_fallback_key_types = sources.deviceLists.unusedFallbackKeyTypes(userId, viewer.deviceId);
    return res;
  }

  const isEmpty = (r: SyncResponse): boolean =>
    Object.keys(r.rooms.join).length === 0 &&
    Object.keys(r.rooms.invite).length === 0 &&
    Object.keys(r.rooms.leave).length === 0 &&
    Object.keys(r.rooms.knock).length === 0 &&
    r.presence.events.length === 0 &&
    r.account_data.events.length === 0 &&
    r.to_device.events.length === 0 &&
    r.device_lists.changed.length === 0 &&
    r.device_lists.left.length === 0;

  return {
    async sync(viewer, req, signal) {
      const since = req.since !== undefined && req.since !== '' ? parseSyncToken(req.since) : null;
      const now = deps.now ?? Date.now;
      const end = deps.presence ? await deps.presence.syncStarted(viewer.userId, req.setPresence) : undefined;
      try {
        const deadline = now() + Math.max(0, req.timeoutMs);
        const immediate = since === null || req.fullState;
        for (;;) {
          const upTo = notifier.current;
          const typingNow = notifier.typing;
          const res = await build(viewer, req, since, upTo, typingNow);
          if (immediate || signal?.aborted || !isEmpty(res)) return res;
          const remaining = deadline - now();
          if (remaining <= 0) return res;
          // Something arrived while building: read again instead of sleeping through it.
          if (notifier.current !== upTo || notifier.typing !== typingNow) continue;
          await notifier.wait(viewer.userId, remaining, signal);
          // Timeout, abort or shutdown (nothing new): answer with the empty batch.
          if (notifier.current === upTo && notifier.typing === typingNow) return res;
        }
      } finally {
        end?.();
      }
    },
  };
}
