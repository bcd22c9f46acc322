/**
 * Storage of server signing keys (spec: server-server "Retrieving server keys"): our own keys,
 * current and old (published as `old_verify_keys`), other servers' verify keys, and the last
 * signed key response of each server (served verbatim when we act as a notary). Implemented by
 * sqljs/federation-keys.ts, migration 0012-federation-keys.sql.
 */

export interface OwnKeyRecord {
  keyId: string;
  /** Unpadded Base64 public key. */
  publicKey: string;
  firstUsedTs: number;
  /** Set once the key is no longer the current one. */
  expiredTs: number | null;
}

export interface RemoteKeyRecord {
  serverName: string;
  keyId: string;
  publicKey: string;
  /** Signatures made after this time are not trusted (capped at fetchedTs + 7 days; an old key's expired_ts). */
  validUntilTs: number;
  fetchedTs: number;
}

export interface KeyResponseRecord {
  serverName: string;
  validUntilTs: number;
  fetchedTs: number;
  /** The server's own signed /_matrix/key/v2/server object. */
  response: Record<string, unknown>;
}

export interface FederationKeysStore {
  ownKeys(): OwnKeyRecord[];
  /** Records `current` as the key in use and marks every other current key expired at `now`. */
  useOwnKey(current: { keyId: string; publicKey: string }, now: number): Promise<void>;
  remoteKeys(serverName: string): RemoteKeyRecord[];
  /** Stores what one verified key response taught us: its keys (replacing older knowledge of the
   * same key ids) and, when it is the server's own newest answer, the response itself. */
  storeKeyResponse(keys: readonly RemoteKeyRecord[], response: KeyResponseRecord): Promise<void>;
  keyResponse(serverName: string): KeyResponseRecord | undefined;
}
