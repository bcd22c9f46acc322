/**
 * Messages and history (spec: client-server room_send.yaml, redaction.yaml,
 * message_pagination.yaml, event_context.yaml, rooms.yaml GET /event/{eventId},
 * room_event_by_timestamp.yaml). Timeline order is the stream position; a pagination token
 * `t<pos>` names the gap just after pos (services/sync/tokens.ts), so /messages also accepts sync
 * tokens. Every read is filtered by history visibility (visibility.ts) and ignored users, and
 * never passes the durable position announced to sync.
 */
import { stateMapKey, type JsonObject } from '../../core/events/types.ts';
import { readPowerLevels, userPowerLevel } from '../../core/auth/power-levels.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { EventRecord } from '../../storage/rooms.ts';
import { formatPaginationToken, parsePositionToken } from '../sync/tokens.ts';
import type { ClientEventFormatter } from './client-event.ts';
import type { RoomsDeps } from './deps.ts';
import { matchesFilter } from './event-filter.ts';
import type { ClientEvent, EventFilter, Viewer } from './reader.ts';
import type { EventSender } from './send-event.ts';
import { roomAccess } from './state.ts';
import { VisibilityChecker } from './visibility.ts';

/** Before every event, backfilled ones included (the largest magnitude a token carries). */
export const TIMELINE_START = -(10 ** 15 - 1);

export interface ScanResult {
  events: EventRecord[];
  /** Position of the last row looked at (accepted or not); null if none. */
  lastScanned: number | null;
  /** No rows remain in the window. */
  exhausted: boolean;
}

/** Reads rows in `dir` from a window until `limit` are accepted or the window is exhausted. */
export function scanEvents(
  deps: RoomsDeps,
  roomId: string,
  dir: 'f' | 'b',
  window: { after?: number; atOrBefore?: number },
  limit: number,
  accept: (rec: EventRecord) => boolean,
): ScanResult {
  const events: EventRecord[] = [];
  let { after, atOrBefore } = window;
  let lastScanned: number | null = null;
  if (limit <= 0) return { events, lastScanned, exhausted: false };
  const batch = Math.max(limit * 2, 20);
  for (;;) {
    if (after !== undefined && atOrBefore !== undefined && atOrBefore <= after) return { events, lastScanned, exhausted: true };
    const rows = deps.store.eventsBetween(roomId, { dir, after, atOrBefore, limit: batch });
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      lastScanned = row.position;
      if (accept(row)) {
        events.push(row);
        if (events.length === limit) {
          const exhausted = i === rows.length - 1 && rows.length < batch;
          return { events, lastScanned, exhausted };
        }
      }
    }
    if (rows.length < batch) return { events, lastScanned, exhausted: true };
    if (dir === 'b') atOrBefore = lastScanned! - 1;
    else after = lastScanned!;
  }
}

/** What one backfill round came to: history was stored ('backfilled'); none was, though older
 * history exists on other servers, since the room has backward extremities (prev events of our
 * oldest events that we lack) ('pending'); or there is none to fetch ('complete'). */
export type BackfillOutcome = 'backfilled' | 'pending' | 'complete';

/** History older than any event held here, from other servers (wired by the federation part:
 * services/federation/backfill.ts). */
export interface HistoryBackfill {
  /** One round, bounded in time, never rejecting. */
  fetch(roomId: string, limit: number): Promise<BackfillOutcome>;
}

export interface MessagesQuery {
  from?: string;
  to?: string;
  dir: 'b' | 'f';
  limit: number;
  filter?: EventFilter;
}

export class TimelineService {
  private backfill: HistoryBackfill | undefined;

  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    private readonly formatter: ClientEventFormatter,
  ) {}

  /** room_send: idempotent per (user, device, txnId). */
  async send(viewer: Viewer, roomId: string, type: string, content: JsonObject, txnId: string): Promise<string> {
    // Idempotency per (user, device, room, txnId) is checked under the room lock by the sender.
    if (!this.sender.cache.get(roomId)) throw forbidden('You are not in this room, or it does not exist');
    const sent = await this.sender.send({ roomId, sender: viewer.userId, type, content, txn: { deviceId: viewer.deviceId, txnId } });
    return sent.eventId;
  }

  /** redaction: the sender may redact their own events, or others' with the `redact` power level. */
  async redact(viewer: Viewer, roomId: string, eventId: string, txnId: string, reason?: string): Promise<string> {
    const existing = this.deps.store.txnEventId(viewer.userId, viewer.deviceId, roomId, txnId);
    if (existing) return existing;
    const entry = this.sender.cache.get(roomId);
    if (!entry) throw forbidden('You are not in this room, or it does not exist');
    const target = this.deps.store.getEvent(eventId);
    if (!target || target.roomId !== roomId) throw notFound('Event not found');
    if (target.pdu.sender !== viewer.userId) {
      const pl = readPowerLevels(entry.version, entry.state.get(stateMapKey('m.room.create', '')), entry.state.get(stateMapKey('m.room.power_levels', '')));
      if (userPowerLevel(pl, viewer.userId) < pl.levels.redact) throw forbidden('You may not redact events of other users');
    }
    const content: JsonObject = {};
    if (reason !== undefined) content.reason = reason;
    const sent = await this.sender.send({
      roomId,
      sender: viewer.userId,
      type: 'm.room.redaction',
      content,
      redacts: eventId,
      applyRedaction: true,
      txn: { deviceId: viewer.deviceId, txnId },
    });
    return sent.eventId;
  }

  /** The viewer's window on the room: up to the durable position, or where they left. */
  private upperBound(viewer: Viewer, roomId: string): number {
    const access = roomAccess(this.deps, this.sender, roomId, viewer.userId);
    const durable = this.deps.notifier.current;
    return access.upTo === 'current' ? durable : Math.min(durable, access.upTo);
  }

  private acceptor(viewer: Viewer, roomId: string, filter?: EventFilter): (rec: EventRecord) => boolean {
    const vis = new VisibilityChecker(this.deps.store, roomId, viewer.userId);
    const ignored = this.deps.ignoredUsers?.(viewer.userId);
    return (rec) => {
      if (ignored?.has(rec.pdu.sender) && typeof rec.pdu.state_key !== 'string') return false;
      return matchesFilter(filter, rec.pdu) && vis.canSee(rec);
    };
  }

  /** Wired by the federation part; without it pagination ends at the oldest event held here. */
  useBackfill(backfill: HistoryBackfill): void {
    this.backfill = backfill;
  }

  /** message_pagination: `messages`, and when a backwards page reaches the oldest event held
   * here, one backfill round (bounded in time, never failing the request), then the page again. */
  async paginate(viewer: Viewer, roomId: string, q: MessagesQuery): Promise<ReturnType<TimelineService['messages']>> {
    const page = this.messages(viewer, roomId, q);
    if (q.dir !== 'b' || q.to !== undefined || page.end !== undefined || !this.backfill) return page;
    const outcome = await this.backfill.fetch(roomId, q.limit);
    if (outcome === 'backfilled') return this.messages(viewer, roomId, q);
    // Older history exists but did not come in time: a page that has events keeps an `end`, so
    // the client asks again (no `end` means the room starts here). An empty page ends it, as in
    // Synapse, so a server that never answers cannot keep a client paginating forever.
    return outcome === 'pending' ? this.messages(viewer, roomId, q, { moreBefore: true }) : page;
  }

  messages(
    viewer: Viewer,
    roomId: string,
    q: MessagesQuery,
    opts: { moreBefore?: boolean } = {},
  ): { chunk: ClientEvent[]; start: string; end?: string; state?: ClientEvent[] } {
    const bound = this.upperBound(viewer, roomId);
    const accept = this.acceptor(viewer, roomId, q.filter);
    const to = q.to !== undefined ? parsePositionToken(q.to) : undefined;
    let start: number;
    let scan: ScanResult;
    if (q.dir === 'b') {
      start = q.from !== undefined ? Math.min(parsePositionToken(q.from), bound) : bound;
      scan = scanEvents(this.deps, roomId, 'b', { atOrBefore: start, after: to }, q.limit, accept);
    } else {
      start = q.from !== undefined ? parsePositionToken(q.from) : TIMELINE_START;
      scan = scanEvents(this.deps, roomId, 'f', { after: start, atOrBefore: to !== undefined ? Math.min(to, bound) : bound }, q.limit, accept);
    }
    const res: { chunk: ClientEvent[]; start: string; end?: string; state?: ClientEvent[] } = {
      chunk: this.formatter.format(scan.events, viewer),
      start: q.from ?? formatPaginationToken(start),
    };
    if (scan.lastScanned !== null && (!scan.exhausted || q.dir === 'f' || (opts.moreBefore && scan.events.length > 0))) {
      res.end = formatPaginationToken(q.dir === 'b' ? scan.lastScanned - 1 : scan.lastScanned);
    }
    if (q.filter?.lazy_load_members && scan.events.length > 0) {
      const newest = q.dir === 'b' ? scan.events[0]!.position : scan.events[scan.events.length - 1]!.position;
      res.state = this.membersAt(viewer, roomId, scan.events, newest);
    }
    return res;
  }

  /** Member events of the senders of `events` in the state at `position` (lazy-loading members). */
  membersAt(viewer: Viewer, roomId: string, events: readonly EventRecord[], position: number): ClientEvent[] {
    const group = this.deps.store.stateGroupAt(roomId, position);
    if (group === null) return [];
    const state = this.deps.store.stateGroupIds(group);
    const ids = [...new Set(events.map((e) => e.pdu.sender))]
      .map((u) => state.get(stateMapKey('m.room.member', u)))
      .filter((id): id is string => id !== undefined);
    const recs = [...this.deps.store.getEvents(ids, { outliers: true }).values()].sort((a, b) => a.position - b.position);
    return this.formatter.format(recs, viewer, false);
  }

  private visibleEvent(viewer: Viewer, roomId: string, eventId: string): EventRecord {
    const bound = this.upperBound(viewer, roomId);
    const rec = this.deps.store.getEvent(eventId);
    if (!rec || rec.roomId !== roomId || rec.position > bound) throw notFound('Event not found');
    if (!new VisibilityChecker(this.deps.store, roomId, viewer.userId).canSee(rec)) throw notFound('Event not found');
    return rec;
  }

  event(viewer: Viewer, roomId: string, eventId: string): ClientEvent {
    return this.formatter.formatOne(this.visibleEvent(viewer, roomId, eventId), viewer);
  }

  context(
    viewer: Viewer,
    roomId: string,
    eventId: string,
    limit: number,
    filter?: EventFilter,
  ): { event: ClientEvent; events_before: ClientEvent[]; events_after: ClientEvent[]; start?: string; end?: string; state: ClientEvent[] } {
    const target = this.visibleEvent(viewer, roomId, eventId);
    const bound = this.upperBound(viewer, roomId);
    const accept = this.acceptor(viewer, roomId, filter);
    const nBefore = Math.floor(limit / 2);
    const before = scanEvents(this.deps, roomId, 'b', { atOrBefore: target.position - 1 }, nBefore, accept);
    const after = scanEvents(this.deps, roomId, 'f', { after: target.position, atOrBefore: bound }, limit - nBefore, accept);
    const endPos = after.lastScanned ?? target.position;
    const all = [...before.events, target, ...after.events];
    let state: ClientEvent[];
    if (filter?.lazy_load_members) {
      state = this.membersAt(viewer, roomId, all, endPos);
    } else {
      const group = this.deps.store.stateGroupAt(roomId, endPos);
      const ids = group === null ? [] : [...this.deps.store.stateGroupIds(group).values()];
      state = this.formatter.format([...this.deps.store.getEvents(ids, { outliers: true }).values()].sort((a, b) => a.position - b.position), viewer, false);
    }
    return {
      event: this.formatter.formatOne(target, viewer),
      events_before: this.formatter.format(before.events, viewer),
      events_after: this.formatter.format(after.events, viewer),
      start: formatPaginationToken((before.lastScanned ?? target.position) - 1),
      end: formatPaginationToken(endPos),
      state,
    };
  }

  timestampToEvent(viewer: Viewer, roomId: string, ts: number, dir: 'f' | 'b'): { event_id: string; origin_server_ts: number } {
    const bound = this.upperBound(viewer, roomId);
    const rec = this.deps.store.eventNearTimestamp(roomId, ts, dir);
    if (!rec || rec.position > bound) throw new MatrixError(404, 'M_NOT_FOUND', `No event found ${dir === 'f' ? 'after' : 'before'} ${ts}`);
    return { event_id: rec.pdu.event_id, origin_server_ts: rec.pdu.origin_server_ts };
  }
}
