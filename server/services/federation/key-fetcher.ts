/**
 * Other servers' signing keys (spec: server-server "Retrieving server keys"): fetched directly
 * from `/_matrix/key/v2/server`, else through the trusted notaries' `/_matrix/key/v2/query`,
 * verified (self-signed by the keys it lists; notary answers also signed by the notary), cached
 * in storage with validity honoured (`valid_until_ts` capped at 7 days after fetching; old keys
 * valid until their `expired_ts`), and turned into the core's KeyLookup for signature checks.
 * Also the notary side: answers for `/_matrix/key/v2/query` (api/federation/server-keys.ts signs them).
 */
import { verifyJsonSignatures, type KeyLookup, type VerifyKey } from '../../core/crypto/signing.ts';
import { isValidKeyVersion, parseKeyId } from '../../core/crypto/ed25519.ts';
import { parseServerName } from '../../core/ids.ts';
import type { FederationKeysStore, RemoteKeyRecord } from '../../storage/federation-keys.ts';
import type { FederationClient } from './client.ts';
import type { OwnServerKeys } from './server-keys.ts';
import type { RequestKeySource } from './request-auth.ts';

/** A notary we trust; without `verifyKeys`, its own keys are fetched directly. */
export interface TrustedKeyServer {
  serverName: string;
  /** key id → unpadded Base64 public key. */
  verifyKeys?: Record<string, string>;
}

/** Spec (keys_server.yaml): use the lesser of valid_until_ts and 7 days into the future. */
export const MAX_KEY_VALIDITY_MS = 7 * 24 * 3600_000;
/** A server whose keys we just asked for is not asked again this soon (a bogus key id in a
 * request must not make us hammer the claimed origin or the notaries). */
export const REFETCH_INTERVAL_MS = 10_000;
const KEY_FETCH_TIMEOUT_MS = 15_000;

export interface KeyFetcherDeps {
  serverName: string;
  store: FederationKeysStore;
  client: Pick<FederationClient, 'request'>;
  ownKeys: OwnServerKeys;
  notaries: () => readonly TrustedKeyServer[];
  now: () => number;
  log: (level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface KeyQueryCriteria {
  /** Key ids that must be known (fetch if any is missing). */
  keyIds?: Readonly<Record<string, readonly string[]>>;
}

export class KeyFetcher implements RequestKeySource {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly lastAttempt = new Map<string, number>();

  constructor(private readonly deps: KeyFetcherDeps) {}

  /**
   * Keys of each server in `serverNames` as a core KeyLookup. A server is fetched when we know no
   * key of it valid at `minimumValidUntilTs` (or not one of the `keyIds` asked for): directly
   * first, then through the notaries. Keys that stay unknown are simply absent; expired keys are
   * included with their validUntilTs so the core can judge old events (v5+: by origin_server_ts).
   */
  async keysFor(serverNames: Iterable<string>, minimumValidUntilTs: number, criteria: KeyQueryCriteria = {}): Promise<KeyLookup> {
    const names = [...new Set(serverNames)];
    const missing = names.filter((s) => s !== this.deps.serverName && !this.satisfied(s, minimumValidUntilTs, criteria.keyIds?.[s]));
    await Promise.all(missing.map((s) => this.refresh(s, minimumValidUntilTs, criteria.keyIds?.[s])));
    const out: Record<string, Record<string, VerifyKey>> = {};
    for (const s of names) out[s] = s === this.deps.serverName ? this.deps.ownKeys.lookup() : this.cached(s);
    return out;
  }

  private cached(serverName: string): Record<string, VerifyKey> {
    const out: Record<string, VerifyKey> = {};
    for (const k of this.deps.store.remoteKeys(serverName)) out[k.keyId] = { key: k.publicKey, validUntilTs: k.validUntilTs };
    return out;
  }

  private satisfied(serverName: string, minTs: number, keyIds: readonly string[] | undefined): boolean {
    const keys = this.deps.store.remoteKeys(serverName);
    if (keyIds && keyIds.length > 0) return keyIds.every((id) => keys.some((k) => k.keyId === id && k.validUntilTs >= minTs));
    return keys.some((k) => k.validUntilTs >= minTs);
  }

  /** One fetch per server at a time, and not more often than REFETCH_INTERVAL_MS. */
  private refresh(serverName: string, minTs: number, keyIds: readonly string[] | undefined): Promise<void> {
    const running = this.inflight.get(serverName);
    if (running) return running;
    const last = this.lastAttempt.get(serverName);
    if (last !== undefined && this.deps.now() - last < REFETCH_INTERVAL_MS) return Promise.resolve();
    this.lastAttempt.set(serverName, this.deps.now());
    if (this.lastAttempt.size > 10_000) this.lastAttempt.delete(this.lastAttempt.keys().next().value!);
    const p = (async () => {
      try {
        await this.fetchDirect(serverName);
      } catch (e) {
        this.deps.log('info', 'direct key fetch failed', { server: serverName, error: (e as Error).message });
      }
      if (this.satisfied(serverName, minTs, keyIds)) return;
      for (const notary of this.deps.notaries()) {
        if (notary.serverName === this.deps.serverName || notary.serverName === serverName) continue;
        try {
          await this.fetchViaNotary(notary, serverName);
        } catch (e) {
          this.deps.log('info', 'notary key fetch failed', { server: serverName, notary: notary.serverName, error: (e as Error).message });
        }
        if (this.satisfied(serverName, minTs, keyIds)) return;
      }
    })().finally(() => this.inflight.delete(serverName));
    this.inflight.set(serverName, p);
    return p;
  }

  /** GET /_matrix/key/v2/server from the server itself; verifies and stores the answer. */
  async fetchDirect(serverName: string): Promise<void> {
    const res = await this.deps.client.request(serverName, 'GET', '/_matrix/key/v2/server', { timeoutMs: KEY_FETCH_TIMEOUT_MS, maxResponseBytes: 1024 * 1024 });
    await this.acceptResponse(serverName, res);
  }

  /** POST /_matrix/key/v2/query to a notary; each answer must be signed by the server and the notary. */
  async fetchViaNotary(notary: TrustedKeyServer, serverName: string): Promise<void> {
    const res = await this.deps.client.request<{ server_keys?: unknown }>(notary.serverName, 'POST', '/_matrix/key/v2/query', {
      body: { server_keys: { [serverName]: {} } },
      timeoutMs: KEY_FETCH_TIMEOUT_MS,
      maxResponseBytes: 4 * 1024 * 1024,
    });
    if (!Array.isArray(res.server_keys)) throw new Error('notary answer has no server_keys list');
    const notaryKeys: KeyLookup = notary.verifyKeys
      ? { [notary.serverName]: notary.verifyKeys }
      : await this.keysFor([notary.serverName], this.deps.now());
    for (const entry of res.server_keys) {
      if ((entry as { server_name?: unknown })?.server_name !== serverName) continue;
      const verdict = verifyJsonSignatures(entry as object, notary.serverName, notaryKeys, { atTs: this.deps.now() });
      if (!verdict.ok) throw new Error(`notary signature: ${verdict.reason}`);
      await this.acceptResponse(serverName, entry);
    }
  }

  /** Validates a key response for `serverName` (spec keys_server.yaml) and stores it. */
  private async acceptResponse(serverName: string, res: unknown): Promise<void> {
    const parsed = parseKeyResponse(serverName, res);
    if (typeof parsed === 'string') throw new Error(parsed);
    const fetchedTs = this.deps.now();
    const cap = fetchedTs + MAX_KEY_VALIDITY_MS;
    const keys: RemoteKeyRecord[] = [
      ...Object.entries(parsed.verifyKeys).map(([keyId, key]) => ({ keyId, publicKey: key, validUntilTs: Math.min(parsed.validUntilTs, cap) })),
      ...Object.entries(parsed.oldVerifyKeys).map(([keyId, k]) => ({ keyId, publicKey: k.key, validUntilTs: Math.min(k.expiredTs, cap) })),
    ].map((k) => ({ ...k, serverName, fetchedTs }));
    await this.deps.store.storeKeyResponse(keys, { serverName, validUntilTs: parsed.validUntilTs, fetchedTs, response: res as Record<string, unknown> });
  }

  /**
   * The notary side of `/_matrix/key/v2/query` for one server: its key responses valid until at
   * least `minimumValidUntilTs` (fetched directly when ours are older), else the last one we have,
   * so that old events can still be checked. Our own answer for our own name.
   */
  async notaryResponses(serverName: string, minimumValidUntilTs: number): Promise<Record<string, unknown>[]> {
    if (serverName === this.deps.serverName) return [this.deps.ownKeys.keyResponse()];
    if (parseServerName(serverName) === undefined) return [];
    let stored = this.deps.store.keyResponse(serverName);
    if (!stored || stored.validUntilTs < minimumValidUntilTs || stored.validUntilTs < this.deps.now()) {
      try {
        await this.fetchDirect(serverName);
      } catch (e) {
        this.deps.log('info', 'notary: direct key fetch failed', { server: serverName, error: (e as Error).message });
      }
      stored = this.deps.store.keyResponse(serverName);
    }
    return stored ? [stored.response] : [];
  }
}

interface ParsedKeyResponse {
  validUntilTs: number;
  verifyKeys: Record<string, string>;
  oldVerifyKeys: Record<string, { key: string; expiredTs: number }>;
}

/** The checks of keys_server.yaml: right server_name, well-formed keys, a numeric valid_until_ts,
 * and signed by the server with the keys it lists (every such signature must verify). */
export function parseKeyResponse(serverName: string, res: unknown): ParsedKeyResponse | string {
  if (typeof res !== 'object' || res === null || Array.isArray(res)) return 'key response is not an object';
  const r = res as Record<string, unknown>;
  if (r.server_name !== serverName) return `key response is for ${String(r.server_name)}, not ${serverName}`;
  if (typeof r.valid_until_ts !== 'number' || !Number.isSafeInteger(r.valid_until_ts)) return 'key response has no valid_until_ts';
  const verifyKeys: Record<string, string> = {};
  for (const [keyId, v] of Object.entries(asRecord(r.verify_keys) ?? {})) {
    const key = asRecord(v)?.key;
    if (!isUsableKeyId(keyId) || typeof key !== 'string') continue;
    verifyKeys[keyId] = key;
  }
  if (Object.keys(verifyKeys).length === 0) return 'key response has no ed25519 verify key';
  const oldVerifyKeys: Record<string, { key: string; expiredTs: number }> = {};
  for (const [keyId, v] of Object.entries(asRecord(r.old_verify_keys) ?? {})) {
    const o = asRecord(v);
    if (!isUsableKeyId(keyId) || typeof o?.key !== 'string' || typeof o.expired_ts !== 'number') continue;
    if (!(keyId in verifyKeys)) oldVerifyKeys[keyId] = { key: o.key, expiredTs: o.expired_ts };
  }
  const verdict = verifyJsonSignatures(res, serverName, { [serverName]: verifyKeys });
  if (!verdict.ok) return `key response signature: ${verdict.reason}`;
  return { validUntilTs: r.valid_until_ts, verifyKeys, oldVerifyKeys };
}

function isUsableKeyId(keyId: string): boolean {
  const p = parseKeyId(keyId);
  return p?.algorithm === 'ed25519' && isValidKeyVersion(p.version);
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
