/**
 * This server's Ed25519 signing key. Generated at first start and kept in the data folder in
 * Synapse's key file format (`ed25519 <version> <unpadded base64 seed>`), so an admin can bring a
 * key over from Synapse. Also what we publish at `/_matrix/key/v2/server`, old keys included.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { signingKeyFromSeed, type Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import { signJson, type VerifyKey } from '../../core/crypto/signing.ts';
import type { FederationKeysStore } from '../../storage/federation-keys.ts';

export interface SigningKey {
  /** `ed25519:<version>` */
  keyId: string;
  /** The 32-byte Ed25519 seed. */
  seed: Buffer;
}

export const SIGNING_KEY_FILE = 'signing.key';

export function parseSigningKeyFile(text: string): SigningKey {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0);
  const parts = line?.split(/\s+/) ?? [];
  if (parts.length !== 3 || parts[0] !== 'ed25519' || !/^[a-zA-Z0-9_]+$/.test(parts[1]!)) {
    throw new Error('Signing key file must contain "ed25519 <version> <base64 seed>"');
  }
  const seed = Buffer.from(parts[2]!, 'base64');
  if (seed.length !== 32) throw new Error('Signing key seed must be 32 bytes');
  return { keyId: `ed25519:${parts[1]}`, seed };
}

export function formatSigningKeyFile(key: SigningKey): string {
  const version = key.keyId.slice('ed25519:'.length);
  return `ed25519 ${version} ${key.seed.toString('base64').replace(/=+$/, '')}\n`;
}

/** Loads the key from the data folder, creating it (durably, mode 0600) on first start. */
export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  const path = join(dataDir, SIGNING_KEY_FILE);
  if (existsSync(path)) return parseSigningKeyFile(readFileSync(path, 'utf8'));
  // Synapse names versions like a_AbCd: random, so keys from different installs never collide.
  const version = 'a_' + randomBytes(3).toString('base64url').replace(/[^a-zA-Z0-9]/g, 'x');
  const key: SigningKey = { keyId: `ed25519:${version}`, seed: randomBytes(32) };
  const tmp = path + '.tmp';
  writeFileSync(tmp, formatSigningKeyFile(key), { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  return key;
}

/** How long others may cache our key response (Synapse's key_refresh_interval; spec cap is 7 days). */
export const OWN_KEY_VALIDITY_MS = 24 * 3600_000;

/**
 * Our key as published at `/_matrix/key/v2/server` (spec: keys_server.yaml): the current key in
 * `verify_keys`, every key used before in `old_verify_keys` with the time it stopped being used,
 * signed by the current key. Which keys were used is recorded in storage, so replacing the key
 * file (e.g. with a key brought over from Synapse) turns the previous key into an old one.
 */
export class OwnServerKeys {
  readonly signing: Ed25519SigningKey;

  constructor(
    private readonly deps: { serverName: string; key: SigningKey; store: FederationKeysStore; now: () => number },
  ) {
    this.signing = signingKeyFromSeed(deps.key.seed, deps.key.keyId.slice('ed25519:'.length));
  }

  /** Records the current key (and retires any other), once at start. */
  async init(): Promise<void> {
    await this.deps.store.useOwnKey({ keyId: this.signing.keyId, publicKey: this.signing.publicKeyBase64 }, this.deps.now());
  }

  /** The signed key response; valid for OWN_KEY_VALIDITY_MS from now. */
  keyResponse(): Record<string, unknown> {
    const old: Record<string, { key: string; expired_ts: number }> = {};
    for (const k of this.deps.store.ownKeys()) {
      if (k.keyId !== this.signing.keyId && k.expiredTs !== null) old[k.keyId] = { key: k.publicKey, expired_ts: k.expiredTs };
    }
    return signJson(
      {
        server_name: this.deps.serverName,
        valid_until_ts: this.deps.now() + OWN_KEY_VALIDITY_MS,
        verify_keys: { [this.signing.keyId]: { key: this.signing.publicKeyBase64 } },
        old_verify_keys: old,
      },
      this.deps.serverName,
      this.signing,
    );
  }

  /** Our keys as a core KeyLookup entry: the current key never expires for us; old ones did. */
  lookup(): Record<string, VerifyKey> {
    const out: Record<string, VerifyKey> = {};
    for (const k of this.deps.store.ownKeys()) {
      if (k.keyId !== this.signing.keyId && k.expiredTs !== null) out[k.keyId] = { key: k.publicKey, validUntilTs: k.expiredTs };
    }
    out[this.signing.keyId] = { key: this.signing.publicKeyBase64 };
    return out;
  }
}
