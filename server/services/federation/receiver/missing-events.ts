/**
 * What the receiver asks of the sending server when a PDU arrives with gaps behind it (spec:
 * server-server "Retrieving events", "Backfill and retrieving missing events"): missing prev
 * events through POST /get_missing_events, the state at an event through GET /state_ids (and
 * GET /state when many events are unknown), single events through GET /event and auth chains
 * through GET /event_auth. The HTTP side is `RemoteRooms` (wired over part A's federation
 * client); this file only shapes the requests and bounds the answers.
 */
import { referencedEventIds, type Pdu } from '../../../core/events/types.ts';
import { isJsonObject } from '../../../core/auth/power-levels.ts';

/** The federation requests the receiver makes; each resolves to the remote's PDUs as sent. */
export interface RemoteRooms {
  getMissingEvents(
    destination: string,
    roomId: string,
    body: { earliest_events: string[]; latest_events: string[]; limit: number; min_depth: number },
  ): Promise<{ events: unknown[] }>;
  stateIds(destination: string, roomId: string, eventId: string): Promise<{ pdu_ids: string[]; auth_chain_ids: string[] }>;
  state(destination: string, roomId: string, eventId: string): Promise<{ pdus: unknown[]; auth_chain: unknown[] }>;
  event(destination: string, eventId: string): Promise<{ pdus: unknown[] }>;
  eventAuth(destination: string, roomId: string, eventId: string): Promise<{ auth_chain: unknown[] }>;
}

/** Synapse asks for 10 missing events at a time; more means a large gap, better filled by state. */
const MISSING_EVENTS_LIMIT = 10;
/** With more unknown state events than this, one /state call beats many /event calls. */
const FETCH_STATE_INDIVIDUALLY_MAX = 10;

/**
 * Missing prev events between our forward extremities and `event`, oldest first. The remote may
 * answer with anything: only objects are kept, the rest is left to the receiver's checks.
 */
export async function fetchMissingPrevEvents(
  remote: RemoteRooms,
  origin: string,
  roomId: string,
  event: { eventId: string; depth: number },
  extremities: readonly string[],
  minDepth: number,
): Promise<unknown[]> {
  const res = await remote.getMissingEvents(origin, roomId, {
    earliest_events: [...extremities],
    latest_events: [event.eventId],
    limit: MISSING_EVENTS_LIMIT,
    min_depth: minDepth,
  });
  const events = Array.isArray(res?.events) ? res.events.filter(isJsonObject).slice(0, MISSING_EVENTS_LIMIT) : [];
  return sortByDepth(events);
}

/** Unknown events named by /state_ids, fetched one by one or through /state when many. */
export async function fetchStateEvents(
  remote: RemoteRooms,
  origin: string,
  roomId: string,
  atEventId: string,
  unknownIds: readonly string[],
): Promise<unknown[]> {
  if (unknownIds.length === 0) return [];
  if (unknownIds.length > FETCH_STATE_INDIVIDUALLY_MAX) {
    const res = await remote.state(origin, roomId, atEventId);
    return [...asArray(res?.auth_chain), ...asArray(res?.pdus)].filter(isJsonObject);
  }
  const out: unknown[] = [];
  for (const id of unknownIds) out.push(...(await fetchEvent(remote, origin, id)));
  return out;
}

export async function fetchEvent(remote: RemoteRooms, origin: string, eventId: string): Promise<unknown[]> {
  const res = await remote.event(origin, eventId);
  return asArray(res?.pdus).filter(isJsonObject).slice(0, 1);
}

function sortByDepth(events: unknown[]): unknown[] {
  const depth = (e: unknown): number => (isJsonObject(e) && typeof e.depth === 'number' ? e.depth : 0);
  return [...events].sort((a, b) => depth(a) - depth(b));
}

/** Orders events so each comes after the events it references (auth and prev) within the list;
 * ties and cycles fall back to depth order. */
export function topologicalOrder<T extends Pick<Pdu, 'auth_events' | 'prev_events' | 'depth'> & { event_id: string }>(events: readonly T[]): T[] {
  const byId = new Map(events.map((e) => [e.event_id, e]));
  const done = new Set<string>();
  const out: T[] = [];
  const visiting = new Set<string>();
  const visit = (e: T): void => {
    if (done.has(e.event_id) || visiting.has(e.event_id)) return;
    visiting.add(e.event_id);
    for (const ref of referencedEventIds([...e.auth_events, ...e.prev_events])) {
      const dep = byId.get(ref);
      if (dep) visit(dep);
    }
    visiting.delete(e.event_id);
    done.add(e.event_id);
    out.push(e);
  };
  for (const e of [...events].sort((a, b) => a.depth - b.depth)) visit(e);
  return out;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
