/**
 * PDU → client event (spec: client-server "Room event format", "ClientEvent"), with `unsigned`
 * filled for the viewer: `age`, `transaction_id` (only for the sender's own device),
 * `prev_content`/`prev_sender`/`replaces_state` for state events, `redacted_because` for
 * redacted events (whose content is stripped per the room version's redaction rules), and the
 * server-side aggregations under `m.relations`: `m.thread` (latest_event, count,
 * current_user_participated), `m.replace` (the most recent valid edit, spec "Server-side
 * aggregation of m.replace relationships") and `m.reference` (chunk of event ids).
 * Works on batches so each lookup is one query per page, not per event.
 */
import type { RoomVersion } from '../../core/room-versions.ts';
import { redactEvent } from '../../core/events/redaction.ts';
import type { StoredPdu } from '../../core/events/types.ts';
import type { EventRecord, RelationRecord, RoomsStore } from '../../storage/rooms.ts';
import type { ClientEvent, Viewer } from './reader.ts';
import type { RoomCache } from './room-cache.ts';

export const AGGREGATED_REL_TYPES = ['m.thread', 'm.replace', 'm.reference'] as const;

/** The client fields of a PDU, redacted when `redacted`. No unsigned. */
export function pduToClientEvent(version: RoomVersion, pdu: StoredPdu, roomId: string, redacted: boolean): ClientEvent {
  const src = redacted ? (redactEvent(version, pdu) as unknown as StoredPdu) : pdu;
  const ev: ClientEvent = {
    event_id: pdu.event_id,
    type: src.type,
    sender: src.sender,
    origin_server_ts: src.origin_server_ts,
    content: src.content as Record<string, unknown>,
    room_id: roomId,
  };
  if (typeof src.state_key === 'string') ev.state_key = src.state_key;
  // v11 moved `redacts` into content; clients of older versions read it at the top level.
  const redacts = typeof src.redacts === 'string' ? src.redacts : src.content.redacts;
  if (src.type === 'm.room.redaction' && typeof redacts === 'string') ev.redacts = redacts;
  return ev;
}

export class ClientEventFormatter {
  constructor(
    private readonly store: RoomsStore,
    private readonly cache: RoomCache,
    private readonly now: () => number,
  ) {}

  formatOne(rec: EventRecord, viewer: Viewer | undefined, aggregate = true): ClientEvent {
    return this.format([rec], viewer, aggregate)[0]!;
  }

  /** Formats records in the given order. `aggregate` adds m.relations (off for nested events). */
  format(records: readonly EventRecord[], viewer: Viewer | undefined, aggregate = true): ClientEvent[] {
    if (records.length === 0) return [];
    const now = this.now();
    const needed: string[] = [];
    for (const r of records) {
      if (r.replacesState) needed.push(r.replacesState);
      if (r.redactedBy) needed.push(r.redactedBy);
    }
    const related = needed.length > 0 ? this.store.getEvents(needed) : new Map<string, EventRecord>();
    const aggregations = aggregate ? this.aggregations(records, viewer) : new Map<string, Record<string, unknown>>();

    return records.map((rec) => {
      const version = this.cache.version(rec.roomId);
      if (!version) throw new Error(`room ${rec.roomId} has an unknown version`);
      const ev = pduToClientEvent(version, rec.pdu, rec.roomId, rec.redactedBy !== null);
      const unsigned: Record<string, unknown> = { age: Math.max(0, now - rec.pdu.origin_server_ts) };
      if (viewer && rec.pdu.sender === viewer.userId) {
        const txn = this.store.txnOfEvent(rec.pdu.event_id);
        if (txn && txn.userId === viewer.userId && txn.deviceId === viewer.deviceId) unsigned.transaction_id = txn.txnId;
      }
      if (rec.replacesState) {
        const prev = related.get(rec.replacesState);
        if (prev) {
          const prevEv = pduToClientEvent(version, prev.pdu, prev.roomId, prev.redactedBy !== null);
          unsigned.prev_content = prevEv.content;
          unsigned.prev_sender = prevEv.sender;
          unsigned.replaces_state = prev.pdu.event_id;
        }
      }
      if (rec.redactedBy) {
        const because = related.get(rec.redactedBy);
        if (because) {
          const b = pduToClientEvent(version, because.pdu, because.roomId, false);
          b.unsigned = { age: Math.max(0, now - because.pdu.origin_server_ts) };
          unsigned.redacted_because = b;
        }
      }
      const rel = aggregations.get(rec.pdu.event_id);
      if (rel && rec.redactedBy === null) unsigned['m.relations'] = rel;
      ev.unsigned = unsigned;
      return ev;
    });
  }

  private aggregations(records: readonly EventRecord[], viewer: Viewer | undefined): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    const parents = records.filter((r) => r.redactedBy === null);
    const children = this.store.relationsOf(
      parents.map((r) => r.pdu.event_id),
      AGGREGATED_REL_TYPES,
    );
    if (children.length === 0) return out;
    const byParent = new Map<string, RelationRecord[]>();
    for (const c of children) {
      let list = byParent.get(c.relatesTo);
      if (!list) byParent.set(c.relatesTo, (list = []));
      list.push(c);
    }
    const parentById = new Map(parents.map((p) => [p.pdu.event_id, p]));
    // Latest thread events and edit candidates are fetched in one query.
    const fetch: string[] = [];
    for (const list of byParent.values()) {
      const threads = list.filter((c) => c.relType === 'm.thread');
      if (threads.length > 0) fetch.push(threads[threads.length - 1]!.eventId);
      for (const c of list) if (c.relType === 'm.replace') fetch.push(c.eventId);
    }
    const fetched = this.store.getEvents(fetch);

    for (const [parentId, list] of byParent) {
      const parent = parentById.get(parentId)!;
      const rel: Record<string, unknown> = {};
      const threads = list.filter((c) => c.relType === 'm.thread');
      if (threads.length > 0) {
        const latest = fetched.get(threads[threads.length - 1]!.eventId);
        if (latest) {
          rel['m.thread'] = {
            latest_event: this.format([latest], viewer, false)[0],
            count: threads.length,
            current_user_participated:
              viewer !== undefined && (parent.pdu.sender === viewer.userId || threads.some((t) => t.sender === viewer.userId)),
          };
        }
      }
      // Valid replacements: same sender and type as the original, neither a state event.
      let best: EventRecord | undefined;
      if (typeof parent.pdu.state_key !== 'string') {
        for (const c of list) {
          if (c.relType !== 'm.replace') continue;
          const e = fetched.get(c.eventId);
          if (!e || e.redactedBy !== null || e.pdu.sender !== parent.pdu.sender || e.pdu.type !== parent.pdu.type) continue;
          if (typeof e.pdu.state_key === 'string') continue;
          if (
            !best ||
            e.pdu.origin_server_ts > best.pdu.origin_server_ts ||
            (e.pdu.origin_server_ts === best.pdu.origin_server_ts && e.pdu.event_id > best.pdu.event_id)
          ) {
            best = e;
          }
        }
      }
      if (best) rel['m.replace'] = this.format([best], viewer, false)[0];
      const refs = list.filter((c) => c.relType === 'm.reference');
      if (refs.length > 0) rel['m.reference'] = { chunk: refs.map((r) => ({ event_id: r.eventId })) };
      if (Object.keys(rel).length > 0) out.set(parentId, rel);
    }
    return out;
  }
}
