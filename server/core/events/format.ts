/**
 * PDU format checks, the first of the "Checks performed on receipt of a PDU" (server-server):
 * the shape per room version (pdu_v1…pdu_v12 and components/pdu_base.yaml), the size limits
 * (client-server "Size limits": 65,536 bytes of canonical JSON in federation format; sender,
 * room_id, state_key, type, event_id ≤ 255 bytes), strict canonical JSON from v6
 * (fragment v6-canonical-json), and prev/auth event counts (≤ 20 / ≤ 10).
 */
import type { RoomVersion } from '../room-versions.ts';
import { canonicalJson, CanonicalJsonError } from '../json/canonical.ts';
import { byteLength, isValidEventId, isValidRoomId, isValidUserId } from '../ids.ts';
import { wireForm } from './hashes.ts';

export type FormatVerdict = { ok: true } | { ok: false; reason: string };

export const MAX_PDU_BYTES = 65536;
export const MAX_FIELD_BYTES = 255;
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;
/** depth_v6.yaml: below 2^53 - 1 from v6; before that 2^63 - 1, which a JS number cannot hold
 * exactly anyway, so the larger bound is only a sanity check. */
const MAX_DEPTH_STRICT = Number.MAX_SAFE_INTEGER;
const MAX_DEPTH_LENIENT = 2 ** 63 - 1;

export function checkPduFormat(version: RoomVersion, value: unknown): FormatVerdict {
  if (!isObject(value)) return fail('PDU is not a JSON object');
  const pdu = value;

  // pdu_base: required fields and their types.
  for (const key of ['sender', 'type'] as const) {
    if (typeof pdu[key] !== 'string') return fail(`${key} must be a string`);
  }
  if (!isInteger(pdu.origin_server_ts)) return fail('origin_server_ts must be an integer');
  if (!isObject(pdu.content)) return fail('content must be an object');
  if (!isInteger(pdu.depth) || (pdu.depth as number) < 0) return fail('depth must be a non-negative integer');
  const maxDepth = version.strictCanonicalJson ? MAX_DEPTH_STRICT : MAX_DEPTH_LENIENT;
  if ((pdu.depth as number) > maxDepth) return fail('depth is too large');
  if (!isObject(pdu.hashes) || typeof pdu.hashes.sha256 !== 'string') return fail('hashes.sha256 must be a string');
  if (!isSignatures(pdu.signatures)) return fail('signatures must map server names to key ids to strings');
  if (pdu.state_key !== undefined && typeof pdu.state_key !== 'string') return fail('state_key must be a string');
  if (pdu.unsigned !== undefined && !isObject(pdu.unsigned)) return fail('unsigned must be an object');
  if (pdu.redacts !== undefined && typeof pdu.redacts !== 'string') return fail('redacts must be a string');

  // Identifiers. Senders use the historical grammar, which servers must accept over federation.
  if (!isValidUserId(pdu.sender as string)) return fail('sender is not a valid user id');
  const isV12Create = version.roomIdFromCreateEvent && pdu.type === 'm.room.create' && pdu.state_key === '';
  if (pdu.room_id === undefined) {
    // room_id_v12.yaml: omitted only from m.room.create; required everywhere else.
    if (!isV12Create) return fail('room_id is required');
  } else if (typeof pdu.room_id !== 'string' || !isValidRoomId(pdu.room_id, version)) {
    return fail('room_id is not a valid room id for this room version');
  }
  if (version.eventIdFormat === 'v1') {
    // pdu_v1: event_id required, `$local:server`.
    if (typeof pdu.event_id !== 'string' || !isValidEventId(pdu.event_id, version)) {
      return fail('event_id is required and must be $localpart:server');
    }
  }

  // prev_events / auth_events: tuples in v1–2, event id strings from v3.
  for (const [key, max] of [
    ['prev_events', MAX_PREV_EVENTS],
    ['auth_events', MAX_AUTH_EVENTS],
  ] as const) {
    const refs = pdu[key];
    if (!Array.isArray(refs)) return fail(`${key} must be an array`);
    if (refs.length > max) return fail(`${key} has more than ${max} entries`);
    for (const ref of refs) {
      const id = version.eventIdFormat === 'v1' ? tupleId(ref) : ref;
      if (typeof id !== 'string' || !id.startsWith('$') || byteLength(id) > MAX_FIELD_BYTES) {
        return fail(
          version.eventIdFormat === 'v1'
            ? `${key} entries must be [event_id, {sha256}] pairs`
            : `${key} entries must be event id strings`,
        );
      }
    }
  }

  // Size limits on individual keys (client-server "Size limits"), in bytes.
  for (const key of ['sender', 'room_id', 'state_key', 'type', 'event_id'] as const) {
    const v = pdu[key];
    if (typeof v === 'string' && byteLength(v) > MAX_FIELD_BYTES) return fail(`${key} exceeds ${MAX_FIELD_BYTES} bytes`);
  }

  // Whole-event size in federation format, which also checks strict canonical JSON from v6.
  let encoded: string;
  try {
    encoded = canonicalJson(wireForm(version, pdu), { strict: version.strictCanonicalJson });
  } catch (e) {
    if (e instanceof CanonicalJsonError) return fail(`not canonical JSON: ${e.message}`);
    throw e;
  }
  if (byteLength(encoded) > MAX_PDU_BYTES) return fail(`event exceeds ${MAX_PDU_BYTES} bytes`);
  return { ok: true };
}

function tupleId(ref: unknown): unknown {
  if (!Array.isArray(ref) || ref.length !== 2 || !isObject(ref[1])) return undefined;
  const hashes = ref[1];
  if (hashes.sha256 !== undefined && typeof hashes.sha256 !== 'string') return undefined;
  return ref[0];
}

function isSignatures(v: unknown): boolean {
  if (!isObject(v)) return false;
  return Object.values(v).every((byKey) => isObject(byKey) && Object.values(byKey).every((s) => typeof s === 'string'));
}

function isInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(reason: string): FormatVerdict {
  return { ok: false, reason };
}
