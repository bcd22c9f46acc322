/**
 * Signing JSON and checking signatures (spec: appendices "Signing Details" and "Checking for a
 * Signature"). The signed bytes are the canonical JSON of the object without `signatures` and
 * `unsigned`; signatures live at `signatures[entity][keyId]` as unpadded Base64.
 */
import type { Signatures } from '../events/types.ts';
import { canonicalJsonBytes, type CanonicalJsonOptions } from '../json/canonical.ts';
import { encodeBase64, tryDecodeBase64 } from '../json/base64.ts';
import { ED25519, ed25519Sign, ed25519Verify, parseKeyId, type Ed25519SigningKey } from './ed25519.ts';

export type { Signatures };

/** A verification key: unpadded Base64 public key, optionally with the time it stops being valid
 * (`valid_until_ts`, or `expired_ts` for old keys). The caller applies the 7-day cap (v5 signing
 * requirements) before handing it in. */
export interface VerifyKey {
  key: string;
  validUntilTs?: number;
}

/** Known keys: entity (server name) → key id → key. A bare string is a key with no expiry. */
export type KeyLookup = Readonly<Record<string, Readonly<Record<string, string | VerifyKey>>>>;

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/** The object minus `signatures` and `unsigned`: what the signature covers. */
export function signableBytes(obj: object, options?: CanonicalJsonOptions): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = obj as Record<string, unknown>;
  return canonicalJsonBytes(rest, options);
}

/** Unpadded Base64 signature of `obj` (signatures and unsigned excluded) by `key`. */
export function computeSignature(obj: object, key: Ed25519SigningKey, options?: CanonicalJsonOptions): string {
  return encodeBase64(ed25519Sign(key, signableBytes(obj, options)));
}

/** Returns a copy of `obj` with `signatures[entity][key.keyId]` added; existing signatures and
 * `unsigned` are carried over untouched (appendix `sign_json`). */
export function signJson<T extends object>(
  obj: T,
  entity: string,
  key: Ed25519SigningKey,
  options?: CanonicalJsonOptions,
): T & { signatures: Signatures } {
  const signature = computeSignature(obj, key, options);
  const old = ((obj as { signatures?: Signatures }).signatures ?? {}) as Signatures;
  const signatures: Signatures = { ...old, [entity]: { ...(old[entity] ?? {}), [key.keyId]: signature } };
  return { ...obj, signatures };
}

/** Checks one signature against one raw or Base64 public key. */
export function verifySignature(
  obj: object,
  signatureBase64: string,
  publicKey: Uint8Array | string,
  options?: CanonicalJsonOptions,
): boolean {
  const sig = typeof signatureBase64 === 'string' ? tryDecodeBase64(signatureBase64) : undefined;
  const pk = typeof publicKey === 'string' ? tryDecodeBase64(publicKey) : publicKey;
  if (sig === undefined || pk === undefined) return false;
  return ed25519Verify(pk, signableBytes(obj, options), sig);
}

export interface VerifyOptions extends CanonicalJsonOptions {
  /** Keys whose validUntilTs is before this time are ignored (v5+: the event's origin_server_ts). */
  atTs?: number;
}

/**
 * Appendix "Checking for a Signature", steps 1–7, for one entity: its entry must exist and hold at
 * least one ed25519 signature by a known key; every signature by a known (unexpired) key must verify.
 * Unknown algorithms and unknown keys are skipped (server-server "Validating hashes and signatures").
 */
export function verifyJsonSignatures(
  obj: object,
  entity: string,
  keys: KeyLookup,
  options: VerifyOptions = {},
): SignatureVerdict {
  const signatures = (obj as { signatures?: unknown }).signatures;
  if (!isRecord(signatures)) return { ok: false, reason: 'no signatures' };
  const entry = signatures[entity];
  // Step 1: the entity's entry must be present.
  if (!isRecord(entry)) return { ok: false, reason: `not signed by ${entity}` };
  // Step 2: keep only algorithms we understand.
  const keyIds = Object.keys(entry).filter((k) => parseKeyId(k)?.algorithm === ED25519);
  if (keyIds.length === 0) return { ok: false, reason: `no ed25519 signature by ${entity}` };
  let bytes: Buffer | undefined;
  let verified = 0;
  for (const keyId of keyIds) {
    // Step 3: look up the verification key; unknown or expired keys are skipped.
    const known = keys[entity]?.[keyId];
    if (known === undefined) continue;
    const vk: VerifyKey = typeof known === 'string' ? { key: known } : known;
    if (options.atTs !== undefined && vk.validUntilTs !== undefined && vk.validUntilTs < options.atTs) continue;
    // Step 4: decode the signature and key.
    const sigB64 = entry[keyId];
    const sig = typeof sigB64 === 'string' ? tryDecodeBase64(sigB64) : undefined;
    if (sig === undefined) return { ok: false, reason: `undecodable signature ${entity} ${keyId}` };
    const pk = tryDecodeBase64(vk.key);
    if (pk === undefined) return { ok: false, reason: `undecodable key ${entity} ${keyId}` };
    // Steps 5–7: strip, encode canonically, verify.
    bytes ??= signableBytes(obj, options);
    if (!ed25519Verify(pk, bytes, sig)) return { ok: false, reason: `bad signature ${entity} ${keyId}` };
    verified++;
  }
  if (verified === 0) return { ok: false, reason: `no known key for ${entity} (${keyIds.join(', ')})` };
  return { ok: true };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
