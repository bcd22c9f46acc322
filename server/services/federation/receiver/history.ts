/**
 * Serving a room's events and state to other servers (spec: server-server "Retrieving events",
 * "Backfilling and retrieving missing events", "Room State", "Timestamp to event"; events.yaml,
 * backfill.yaml, event_auth.yaml, room_state.yaml, event_by_timestamp.yaml). Every request must
 * come from a server in the room (403 otherwise), and each event is filtered by history
 * visibility for servers (client-server "History visibility", Synapse's filter_events_for_server):
 * world_readable and shared events are shown; invited/joined events only if one of the server's
 * users was invited/joined at that event; anything else is sent redacted.
 */
import type { RoomVersion } from '../../../core/room-versions.ts';
import { federationWire } from '../../../core/events/hashes.ts';
import { createEventIdFromRoomId } from '../../../core/events/event-id.ts';
import { redactEvent } from '../../../core/events/redaction.ts';
import { parseStateMapKey, referencedEventIds, stateMapKey } from '../../../core/events/types.ts';
import { hasUserOn, userIdServerName } from '../../../core/ids.ts';
import { forbidden, notFound } from '../../../errors.ts';
import type { DagEventRecord, RoomsStore } from '../../../storage/rooms.ts';
import type { EventSender } from '../../rooms/send-event.ts';

/** Events one /backfill round carries at most (what we serve, and what we ask for). */
export const MAX_BACKFILL = 100;
const MAX_MISSING_EVENTS = 20;
/** Auth chains are bounded so one request cannot walk an unbounded graph. */
const MAX_AUTH_CHAIN = 20_000;

export interface HistoryDeps {
  store: RoomsStore;
  sender: EventSender;
  serverName: string;
  now: () => number;
}

type Wire = Record<string, unknown>;

export class FederationHistory {
  constructor(private readonly deps: HistoryDeps) {}

  /** 403 unless one of `origin`'s users is joined to the room now (Synapse's check_server_in_room). */
  requireServerInRoom(origin: string, roomId: string): RoomVersion {
    const entry = this.deps.sender.cache.get(roomId);
    if (!entry) throw notFound('Unknown room');
    if (!hasUserOn(origin, entry.joined)) throw forbidden('Your server is not in this room');
    return entry.version;
  }

  /** GET /event/{eventId}. */
  event(origin: string, eventId: string): { origin: string; origin_server_ts: number; pdus: Wire[] } {
    const rec = this.deps.store.getDagEvent(eventId);
    if (!rec || rec.kind === 'rejected') throw notFound('Unknown event');
    const version = this.requireServerInRoom(origin, rec.roomId);
    return { origin: this.deps.serverName, origin_server_ts: this.deps.now(), pdus: [this.forServer(origin, version, rec)] };
  }

  /** GET /state_ids/{roomId}?event_id: the state before the event and its auth chain. */
  stateIds(origin: string, roomId: string, eventId: string): { pdu_ids: string[]; auth_chain_ids: string[] } {
    this.requireServerInRoom(origin, roomId);
    const state = [...this.stateBefore(roomId, eventId).values()];
    return { pdu_ids: state, auth_chain_ids: this.authChain(state) };
  }

  /** GET /state/{roomId}?event_id: the same with whole events. */
  state(origin: string, roomId: string, eventId: string): { pdus: Wire[]; auth_chain: Wire[] } {
    const version = this.requireServerInRoom(origin, roomId);
    const ids = this.stateIds(origin, roomId, eventId);
    return { pdus: this.wireEvents(version, ids.pdu_ids), auth_chain: this.wireEvents(version, ids.auth_chain_ids) };
  }

  /** GET /event_auth/{roomId}/{eventId}. */
  eventAuth(origin: string, roomId: string, eventId: string): { auth_chain: Wire[] } {
    const version = this.requireServerInRoom(origin, roomId);
    const rec = this.deps.store.getDagEvent(eventId);
    if (!rec || rec.roomId !== roomId) throw notFound('Unknown event');
    return { auth_chain: this.wireEvents(version, this.authChain([eventId], false)) };
  }

  /** GET /backfill/{roomId}?v&limit: the given events and their ancestors, newest first. */
  backfill(origin: string, roomId: string, from: readonly string[], limit: number): { origin: string; origin_server_ts: number; pdus: Wire[] } {
    const version = this.requireServerInRoom(origin, roomId);
    const found = this.walkPrev(roomId, from, Math.min(limit, MAX_BACKFILL), { includeStart: true });
    return { origin: this.deps.serverName, origin_server_ts: this.deps.now(), pdus: found.map((r) => this.forServer(origin, version, r)) };
  }

  /** POST /get_missing_events/{roomId}: ancestors of latest_events back to earliest_events, oldest first. */
  missingEvents(origin: string, roomId: string, q: { earliest_events: string[]; latest_events: string[]; limit: number; min_depth: number }): { events: Wire[] } {
    const version = this.requireServerInRoom(origin, roomId);
    const found = this.walkPrev(roomId, q.latest_events, Math.min(q.limit, MAX_MISSING_EVENTS), {
      includeStart: false,
      stopAt: new Set(q.earliest_events),
      minDepth: q.min_depth,
    });
    return { events: found.reverse().map((r) => this.forServer(origin, version, r)) };
  }

  /** GET /timestamp_to_event/{roomId}?ts&dir. */
  timestampToEvent(origin: string, roomId: string, ts: number, dir: 'f' | 'b'): { event_id: string; origin_server_ts: number } {
    this.requireServerInRoom(origin, roomId);
    const rec = this.deps.store.eventNearTimestamp(roomId, ts, dir);
    if (!rec) throw notFound('No event found');
    return { event_id: rec.pdu.event_id, origin_server_ts: rec.pdu.origin_server_ts };
  }

  /** The room state before an event of the room (404 when we do not have its state). */
  stateBefore(roomId: string, eventId: string): Map<string, string> {
    const rec = this.deps.store.getDagEvent(eventId);
    if (!rec || rec.roomId !== roomId || rec.stateGroup === null) throw notFound('Unknown event, or its state is not known here');
    const state = new Map(this.deps.store.stateGroupIds(rec.stateGroup));
    const { pdu } = rec;
    // The group is the state after the event (rejected: before it); undo the event itself.
    if (typeof pdu.state_key === 'string' && rec.kind !== 'rejected') {
      const key = stateMapKey(pdu.type, pdu.state_key);
      if (state.get(key) === eventId) {
        if (rec.replacesState) state.set(key, rec.replacesState);
        else state.delete(key);
      }
    }
    return state;
  }

  /** An event's auth events; in v12 the create event too, which auth_events leave implicit
   * (Synapse's auth_event_ids), so auth chains sent out always carry it. */
  private authRefs(rec: DagEventRecord): string[] {
    const refs = referencedEventIds(rec.pdu.auth_events);
    if (rec.pdu.type !== 'm.room.create' && this.deps.sender.cache.version(rec.roomId)?.roomIdFromCreateEvent) refs.push(createEventIdFromRoomId(rec.roomId));
    return refs;
  }

  /** Every event reachable through auth_events from `ids` (excluding `ids` unless reached again). */
  authChain(ids: readonly string[], includeStart = false): string[] {
    const seen = new Set<string>(includeStart ? ids : []);
    let frontier = [...ids];
    while (frontier.length > 0 && seen.size < MAX_AUTH_CHAIN) {
      const recs = this.deps.store.getDagEvents(frontier);
      const next: string[] = [];
      for (const rec of recs.values()) {
        for (const a of this.authRefs(rec)) {
          if (!seen.has(a)) {
            seen.add(a);
            next.push(a);
          }
        }
      }
      frontier = next;
    }
    return [...seen];
  }

  /** Breadth-first over prev_events, deepest first, within the room. */
  private walkPrev(
    roomId: string,
    start: readonly string[],
    limit: number,
    opts: { includeStart: boolean; stopAt?: ReadonlySet<string>; minDepth?: number },
  ): DagEventRecord[] {
    const out: DagEventRecord[] = [];
    const seen = new Set<string>(start);
    let frontier: string[] = [];
    const startRecs = this.deps.store.getDagEvents(start);
    for (const id of start) {
      const rec = startRecs.get(id);
      if (!rec || rec.roomId !== roomId) continue;
      if (opts.includeStart && rec.kind !== 'rejected') out.push(rec);
      frontier.push(...referencedEventIds(rec.pdu.prev_events));
    }
    while (frontier.length > 0 && out.length < limit) {
      const recs = this.deps.store.getDagEvents(frontier.filter((id) => !seen.has(id) && !opts.stopAt?.has(id)));
      for (const id of frontier) seen.add(id);
      const level = [...recs.values()]
        .filter((r) => r.roomId === roomId && r.kind !== 'rejected' && (opts.minDepth === undefined || r.pdu.depth >= opts.minDepth))
        .sort((a, b) => b.pdu.depth - a.pdu.depth);
      frontier = [];
      for (const r of level) {
        if (out.length >= limit) break;
        out.push(r);
        frontier.push(...referencedEventIds(r.pdu.prev_events));
      }
    }
    return out.slice(0, limit);
  }

  /** The events as sent to other servers (redacted once redacted); rejected and unknown ones left out. */
  wireEvents(version: RoomVersion, ids: readonly string[]): Wire[] {
    const recs = this.deps.store.getDagEvents(ids);
    return ids.flatMap((id) => {
      const rec = recs.get(id);
      return rec && rec.kind !== 'rejected' ? [this.wire(version, rec)] : [];
    });
  }

  private wire(version: RoomVersion, rec: DagEventRecord, redact = false): Wire {
    return federationWire(version, redact || rec.redactedBy ? redactEvent(version, rec.pdu) : rec.pdu);
  }

  /** The event as `origin` may see it: whole, or redacted when history visibility hides it. */
  private forServer(origin: string, version: RoomVersion, rec: DagEventRecord): Wire {
    return this.wire(version, rec, !this.serverCanSee(origin, rec));
  }

  private serverCanSee(origin: string, rec: DagEventRecord): boolean {
    if (rec.stateGroup === null) return true;
    const state = this.deps.store.stateGroupIds(rec.stateGroup);
    const hvId = state.get(stateMapKey('m.room.history_visibility', ''));
    const hv = hvId ? this.deps.store.getDagEvent(hvId)?.pdu.content.history_visibility : 'shared';
    if (hv === 'world_readable' || hv === 'shared' || (hv !== 'invited' && hv !== 'joined')) return true;
    const memberIds: string[] = [];
    for (const [k, id] of state) {
      const [type, stateKey] = parseStateMapKey(k);
      if (type === 'm.room.member' && userIdServerName(stateKey) === origin) memberIds.push(id);
    }
    for (const m of this.deps.store.getDagEvents(memberIds).values()) {
      const membership = m.pdu.content.membership;
      if (membership === 'join' || (hv === 'invited' && membership === 'invite')) return true;
    }
    return false;
  }
}
