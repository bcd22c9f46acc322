/**
 * Content hashes and reference hashes of events (spec: server-server "Calculating the content hash
 * for an event", "Calculating the reference hash for an event", "Validating hashes and signatures
 * on received events").
 *
 * From room version 3 the event id is derived, not part of the PDU (pdu_v3+). Hearth's stored PDUs
 * still carry `event_id` for convenience, so it is removed before hashing in those versions.
 */
import type { RoomVersion } from '../room-versions.ts';
import { canonicalJsonBytes } from '../json/canonical.ts';
import { encodeBase64, tryDecodeBase64 } from '../json/base64.ts';
import { sha256 } from '../crypto/sha256.ts';
import { redactedView } from './redaction.ts';

type HashVersion = Pick<RoomVersion, 'eventIdFormat' | 'redactionRules' | 'strictCanonicalJson'>;

/** The event as it is on the wire for this room version: without `event_id` from v3 on. */
export function wireForm(version: Pick<RoomVersion, 'eventIdFormat'>, event: object): Record<string, unknown> {
  const copy = { ...(event as Record<string, unknown>) };
  if (version.eventIdFormat !== 'v1') delete copy.event_id;
  return copy;
}

/** A PDU as sent to other servers: the room version's wire form, without our `unsigned`. */
export function federationWire(version: Pick<RoomVersion, 'eventIdFormat'>, pdu: object): Record<string, unknown> {
  const { unsigned: _u, ...rest } = wireForm(version, pdu);
  return rest;
}

/** SHA-256 over the canonical JSON of the event without `unsigned`, `signatures` and `hashes`. */
export function computeContentHash(version: HashVersion, event: object): Buffer {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = wireForm(version, event);
  return sha256(canonicalJsonBytes(rest, { strict: version.strictCanonicalJson }));
}

/** The value for `hashes.sha256`: unpadded standard Base64 of the content hash. */
export function contentHashBase64(version: HashVersion, event: object): string {
  return encodeBase64(computeContentHash(version, event));
}

/** True iff `hashes.sha256` is present and equals the computed content hash. When false, the
 * receiver keeps the redacted copy of the event instead (spec: "Validating hashes and signatures"). */
export function checkContentHash(version: HashVersion, event: object): boolean {
  const hashes = (event as { hashes?: unknown }).hashes;
  const claimed = typeof hashes === 'object' && hashes !== null ? (hashes as { sha256?: unknown }).sha256 : undefined;
  if (typeof claimed !== 'string') return false;
  const bytes = tryDecodeBase64(claimed);
  return bytes !== undefined && bytes.equals(computeContentHash(version, event));
}

/** Reference hash: 1. redact, 2. drop `signatures` and `unsigned` (and `age_ts`, which old events
 * carried at the top level; redaction drops it anyway), 3. canonical JSON, 4. SHA-256. */
export function computeReferenceHash(version: HashVersion, event: object): Buffer {
  return sha256(referenceBytes(version, event));
}

/** Steps 1–3 of the reference hash. For an event without a top-level `age_ts` these are also the
 * bytes its signatures cover (redacted, without `signatures` and `unsigned`). */
export function referenceBytes(version: HashVersion, event: object): Buffer {
  const redacted = redactedView(version, wireForm(version, event));
  delete redacted.signatures;
  delete redacted.unsigned;
  delete redacted.age_ts;
  return canonicalJsonBytes(redacted, { strict: version.strictCanonicalJson });
}

/** Reference hash as unpadded standard Base64 (the form v1–2 prev/auth tuples carry). */
export function referenceHashBase64(version: HashVersion, event: object): string {
  return encodeBase64(computeReferenceHash(version, event));
}
