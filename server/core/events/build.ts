/**
 * Proto-event → signed PDU, and the matching checks on received PDUs (spec: server-server
 * "Adding hashes and signatures to outgoing events", "Validating hashes and signatures on
 * received events"; rooms/fragments v5-signing-requirements; PDU formats pdu_v1…pdu_v12).
 *
 * Order matters: the content hash covers the full event; the signature covers the *redacted*
 * event (which still includes `hashes`); the event id (v3+) is the reference hash of the result.
 */
import type { RoomVersion } from '../room-versions.ts';
import type { JsonObject, Pdu, Signatures, StoredPdu } from './types.ts';
import {
  computeSignature,
  verifyJsonSignatures,
  type KeyLookup,
  type SignatureVerdict,
} from '../crypto/signing.ts';
import { contentHashBase64, checkContentHash, referenceBytes, wireForm } from './hashes.ts';
import { eventIdFromReferenceHash, makeV1EventId } from './event-id.ts';
import { ed25519Sign, type Ed25519SigningKey } from '../crypto/ed25519.ts';
import { encodeBase64 } from '../json/base64.ts';
import { sha256 } from '../crypto/sha256.ts';
import { redactEvent, redactedView } from './redaction.ts';
import { eventIdServerName, userIdServerName } from '../ids.ts';

/** A reference to another event: a bare id, or a v1–2 `[id, {sha256}]` tuple. */
export type EventRef = string | [string, { sha256?: string }];

/** What a service decides; the builder adds hashes, signatures and the id. */
export interface ProtoEvent {
  type: string;
  state_key?: string;
  content: JsonObject;
  sender: string;
  /** Omitted for the create event in room versions whose room id derives from it (v12). */
  room_id?: string;
  prev_events: readonly EventRef[];
  auth_events: readonly EventRef[];
  depth: number;
  origin_server_ts: number;
  /** For m.room.redaction: top-level before v11, `content.redacts` from v11 (pdu_v11). */
  redacts?: string;
  /** Not signed or hashed; carried over as given. */
  unsigned?: JsonObject;
}

export interface BuildOptions {
  /** The signing server (normally the sender's server). */
  serverName: string;
  signingKey: Ed25519SigningKey;
  /** v1–2 only: unpadded Base64 reference hashes of events referenced by bare id. */
  referenceHashes?: ReadonlyMap<string, string> | ((eventId: string) => string | undefined);
  /** v1–2 only: the random localpart of `$localpart:serverName` (core has no randomness). */
  eventIdLocalpart?: string;
}

/** Builds, hashes and signs a PDU for `version`. The result carries `event_id` for convenience
 * (derived for v3+); use `wireForm` before sending it in v3+ rooms. */
export function buildEvent(version: RoomVersion, proto: ProtoEvent, options: BuildOptions): StoredPdu {
  const isV12Create = version.roomIdFromCreateEvent && proto.type === 'm.room.create' && proto.state_key === '';
  if (isV12Create && proto.room_id !== undefined) {
    throw new Error('in this room version the create event has no room_id; it is derived from the event');
  }
  if (!isV12Create && proto.room_id === undefined) throw new Error('room_id is required');

  const content: JsonObject = { ...proto.content };
  const pdu: Pdu = {
    auth_events: formatRefs(version, proto.auth_events, options),
    content,
    depth: proto.depth,
    hashes: { sha256: '' },
    origin_server_ts: proto.origin_server_ts,
    prev_events: formatRefs(version, proto.prev_events, options),
    sender: proto.sender,
    signatures: {},
    type: proto.type,
  };
  if (!isV12Create) pdu.room_id = proto.room_id;
  if (proto.state_key !== undefined) pdu.state_key = proto.state_key;
  if (proto.redacts !== undefined) {
    if (version.redactsInContent) content.redacts = proto.redacts;
    else pdu.redacts = proto.redacts;
  }
  if (version.eventIdFormat === 'v1') {
    if (options.eventIdLocalpart === undefined) throw new Error('room versions 1–2 need eventIdLocalpart');
    pdu.event_id = makeV1EventId(options.eventIdLocalpart, options.serverName);
  }

  pdu.hashes = { sha256: contentHashBase64(version, pdu) };
  // A new event has no age_ts, so what its signature covers and what its id hashes are the same
  // bytes (redacted, without signatures and unsigned): encoded once, for both.
  const bytes = referenceBytes(version, pdu);
  const signed = withSignature(pdu, options.serverName, options.signingKey.keyId, encodeBase64(ed25519Sign(options.signingKey, bytes)));
  const eventId = pdu.event_id ?? eventIdFromReferenceHash(version, sha256(bytes));
  const result: StoredPdu = { ...signed, event_id: eventId };
  if (proto.unsigned !== undefined) result.unsigned = proto.unsigned;
  return result;
}

/** Adds `serverName`'s signature over the redacted event (e.g. a resident server co-signing a
 * join, or an invitee's server signing an invite). Returns a new PDU; other signatures are kept. */
export function signEvent<T extends Pdu>(version: RoomVersion, pdu: T, serverName: string, key: Ed25519SigningKey): T {
  const redacted = redactedView(version, wireForm(version, pdu));
  return withSignature(pdu, serverName, key.keyId, computeSignature(redacted, key, { strict: version.strictCanonicalJson }));
}

/** The PDU with one more signature (a copy; other servers' and keys' signatures are kept). */
function withSignature<T extends Pdu>(pdu: T, serverName: string, keyId: string, signature: string): T {
  const old: Signatures = pdu.signatures ?? {};
  return { ...pdu, signatures: { ...old, [serverName]: { ...(old[serverName] ?? {}), [keyId]: signature } } };
}

function formatRefs(version: RoomVersion, refs: readonly EventRef[], options: BuildOptions): Pdu['prev_events'] {
  if (version.eventIdFormat !== 'v1') return refs.map((r) => (typeof r === 'string' ? r : r[0]));
  // v1–2: [event_id, {sha256: reference hash}] (pdu_v1).
  return refs.map((r): [string, { sha256?: string }] => {
    if (typeof r !== 'string') return [r[0], { ...r[1] }];
    const lookup = options.referenceHashes;
    const hash = typeof lookup === 'function' ? lookup(r) : lookup?.get(r);
    if (hash === undefined) throw new Error(`no reference hash for ${r} (room versions 1–2 need one)`);
    return [r, { sha256: hash }];
  });
}

// ---- Receiving -------------------------------------------------------------------------------

/**
 * Servers whose signatures an event must carry (spec: "Validating hashes and signatures on
 * received events"): the sender's server, except for invites made from a 3pid invite (the
 * sending server may differ; the auth rules check the `signed` block instead); in v1–2 also the
 * event id's server; for restricted joins (v8+) the server of `join_authorised_via_users_server`
 * (auth rule "validly signed by the homeserver of the user ID denoted by the key").
 */
export function requiredSignatureServers(version: RoomVersion, pdu: Pdu): string[] {
  const servers = new Set<string>();
  const content = pdu.content as Record<string, unknown> | undefined;
  const membership = content?.membership;
  const isThirdPartyInvite =
    pdu.type === 'm.room.member' && membership === 'invite' && content !== undefined && 'third_party_invite' in content;
  if (!isThirdPartyInvite) {
    const senderServer = userIdServerName(pdu.sender);
    if (senderServer !== undefined) servers.add(senderServer);
  }
  if (version.eventIdFormat === 'v1' && typeof pdu.event_id === 'string') {
    const idServer = eventIdServerName(pdu.event_id);
    if (idServer !== undefined) servers.add(idServer);
  }
  if (version.restrictedJoinRule && pdu.type === 'm.room.member' && membership === 'join') {
    const via = content?.join_authorised_via_users_server;
    const viaServer = typeof via === 'string' ? userIdServerName(via) : undefined;
    if (viaServer !== undefined) servers.add(viaServer);
  }
  return [...servers];
}

/** Whether `serverName` validly signed the (redacted) event with a known key. Keys expired before
 * the event's origin_server_ts are ignored in versions that enforce key validity (v5+). */
export function isEventSignedBy(version: RoomVersion, pdu: Pdu, serverName: string, keys: KeyLookup): boolean {
  return checkServerSignature(version, pdu, serverName, keys).ok;
}

/** Checks every required signature on the redacted form of `pdu`. Succeeds whether we were given
 * the full event or a redacted copy. */
export function verifyEventSignatures(version: RoomVersion, pdu: Pdu, keys: KeyLookup): SignatureVerdict {
  if (userIdServerName(pdu.sender) === undefined) return { ok: false, reason: 'sender is not a valid user id' };
  if (version.eventIdFormat === 'v1' && (typeof pdu.event_id !== 'string' || eventIdServerName(pdu.event_id) === undefined)) {
    return { ok: false, reason: 'event_id has no server name' };
  }
  const servers = requiredSignatureServers(version, pdu);
  if (servers.length === 0) return { ok: false, reason: 'no server is required to sign this event' };
  for (const server of servers) {
    const verdict = checkServerSignature(version, pdu, server, keys);
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}

function checkServerSignature(version: RoomVersion, pdu: Pdu, serverName: string, keys: KeyLookup): SignatureVerdict {
  let redacted: Record<string, unknown>;
  try {
    redacted = redactedView(version, wireForm(version, pdu));
    return verifyJsonSignatures(redacted, serverName, keys, {
      strict: version.strictCanonicalJson,
      atTs: version.enforceKeyValidity ? pdu.origin_server_ts : undefined,
    });
  } catch (e) {
    return { ok: false, reason: `cannot encode event: ${(e as Error).message}` };
  }
}

export type ReceivedEventVerdict =
  | { ok: false; reason: string }
  /** `event` is the PDU to process further: the input, or its redacted copy if the content hash
   * did not match (the spec says to assume we were sent a redacted event). */
  | { ok: true; contentHashValid: boolean; event: Pdu };

/** Signatures first (failure → drop), then the content hash (failure → use the redacted copy). */
export function checkReceivedEvent(version: RoomVersion, pdu: Pdu, keys: KeyLookup): ReceivedEventVerdict {
  const sig = verifyEventSignatures(version, pdu, keys);
  if (!sig.ok) return sig;
  let hashOk: boolean;
  try {
    hashOk = checkContentHash(version, pdu);
  } catch {
    hashOk = false;
  }
  if (hashOk) return { ok: true, contentHashValid: true, event: pdu };
  return { ok: true, contentHashValid: false, event: redactEvent(version, pdu) as Pdu };
}
