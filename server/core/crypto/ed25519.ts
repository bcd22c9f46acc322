/**
 * Ed25519 signing keys over node:crypto (spec: appendices "Signing Details"; server-server
 * "Retrieving server keys": key ids are `ed25519:<version>`, version matching `[a-zA-Z0-9_]`).
 * Seeds come from the caller: core has no randomness. node:crypto, not tweetnacl: the latter was
 * 118× slower on the signing path (ARCHITECTURE.md).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { encodeBase64 } from '../json/base64.ts';

export const ED25519 = 'ed25519';

// DER headers that wrap a raw 32-byte Ed25519 seed (RFC 8410 PKCS#8) and public key (SPKI).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519SigningKey {
  /** `ed25519:<version>`, the signing key identifier used in `signatures`. */
  readonly keyId: string;
  readonly version: string;
  /** Raw 32-byte public key. */
  readonly publicKey: Buffer;
  /** Unpadded standard Base64 of the public key, as published in `verify_keys`. */
  readonly publicKeyBase64: string;
  /** node:crypto private key; the seed itself is not kept. */
  readonly privateKey: KeyObject;
}

/** Valid key version: non-empty, `[a-zA-Z0-9_]` (server-server keys.yaml). */
export function isValidKeyVersion(version: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(version);
}

/** Splits `algorithm:version`. Undefined if there is no `:` or either part is empty. */
export function parseKeyId(keyId: string): { algorithm: string; version: string } | undefined {
  const i = keyId.indexOf(':');
  if (i <= 0 || i === keyId.length - 1) return undefined;
  return { algorithm: keyId.slice(0, i), version: keyId.slice(i + 1) };
}

export function signingKeyFromSeed(seed: Uint8Array, version: string): Ed25519SigningKey {
  if (seed.length !== 32) throw new Error(`ed25519 seed must be 32 bytes, got ${seed.length}`);
  if (!isValidKeyVersion(version)) throw new Error(`invalid key version ${JSON.stringify(version)}`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length));
  return { keyId: `${ED25519}:${version}`, version, publicKey, publicKeyBase64: encodeBase64(publicKey), privateKey };
}

export function publicKeyFromSeed(seed: Uint8Array): Buffer {
  return signingKeyFromSeed(seed, 'x').publicKey;
}

/** Detached 64-byte Ed25519 signature of `data`. */
export function ed25519Sign(key: Ed25519SigningKey, data: Uint8Array): Buffer {
  return sign(null, data, key.privateKey);
}

/** True iff `signature` is a valid signature of `data` by the raw 32-byte `publicKey`.
 * Malformed keys or signatures verify as false rather than throwing. */
export function ed25519Verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, data, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

// Building a KeyObject costs more than a cache lookup; a room's events come from few servers.
const PUBLIC_KEY_CACHE_LIMIT = 1024;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('hex');
  let key = publicKeyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) {
      publicKeyCache.delete(publicKeyCache.keys().next().value!);
    }
    publicKeyCache.set(id, key);
  }
  return key;
}
