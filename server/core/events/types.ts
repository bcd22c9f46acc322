/**
 * Wire types of events (spec: server-server PDUs per room version, client events).
 * Field names are the spec's own; no camelCase copies of events.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** `signatures`: server name → key id → unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/** A PDU as it travels over federation. Fields optional where some room versions omit them:
 * v1–2 have `event_id` and `[id, hashes]` pairs in prev/auth events; v3+ have bare ids;
 * v12's create event has no `room_id`. */
export interface Pdu {
  event_id?: string;
  room_id?: string;
  sender: string;
  origin?: string;
  origin_server_ts: number;
  type: string;
  state_key?: string;
  content: JsonObject;
  prev_events: (string | [string, { sha256?: string }])[];
  auth_events: (string | [string, { sha256?: string }])[];
  depth: number;
  hashes: { sha256: string };
  signatures: Signatures;
  redacts?: string;
  unsigned?: JsonObject;
  [key: string]: unknown;
}

/** A PDU whose event id is known (computed for v3+, carried for v1–2). */
export interface StoredPdu extends Pdu {
  event_id: string;
}

/** Key of a state entry: (type, state_key). */
export type StateKeyTuple = readonly [type: string, stateKey: string];

/** Encodes (type, state_key) as one string key for Maps; NUL cannot appear in either part of valid JSON ids. */
export function stateMapKey(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

export function parseStateMapKey(key: string): StateKeyTuple {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Ids of prev/auth events whatever the room version's format. */
export function referencedEventIds(refs: Pdu['prev_events']): string[] {
  return refs.map((r) => (typeof r === 'string' ? r : r[0]));
}
