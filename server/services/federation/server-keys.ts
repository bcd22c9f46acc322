/**
 * This server's Ed25519 signing key. Generated at first start and kept in the data folder in
 * Synapse's key file format (`ed25519 <version> <unpadded base64 seed>`), so an admin can bring a
 * key over from Synapse.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

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
