/**
 * sql.js implementation of FederationKeysStore (storage/federation-keys.ts; tables in
 * migrations/0012-federation-keys.sql). Times are parameters, never SQL clocks.
 */
import type { Database, SqlRow } from '../storage.ts';
import type { FederationKeysStore, KeyResponseRecord, OwnKeyRecord, RemoteKeyRecord } from '../federation-keys.ts';

function toOwn(row: SqlRow): OwnKeyRecord {
  return {
    keyId: String(row.key_id),
    publicKey: String(row.public_key),
    firstUsedTs: Number(row.first_used_ts),
    expiredTs: row.expired_ts === null || row.expired_ts === undefined ? null : Number(row.expired_ts),
  };
}

function toRemote(row: SqlRow): RemoteKeyRecord {
  return {
    serverName: String(row.server_name),
    keyId: String(row.key_id),
    publicKey: String(row.public_key),
    validUntilTs: Number(row.valid_until_ts),
    fetchedTs: Number(row.fetched_ts),
  };
}

export function createSqlJsFederationKeys(db: Database): FederationKeysStore {
  return {
    ownKeys() {
      return db.read((r) => r.all('SELECT key_id, public_key, first_used_ts, expired_ts FROM federation_own_keys ORDER BY first_used_ts, key_id')).map(toOwn);
    },

    async useOwnKey(current, now) {
      await db.write((w) => {
        w.run('UPDATE federation_own_keys SET expired_ts = ? WHERE expired_ts IS NULL AND key_id <> ?', [now, current.keyId]);
        w.run(
          `INSERT INTO federation_own_keys (key_id, public_key, first_used_ts, expired_ts) VALUES (?, ?, ?, NULL)
           ON CONFLICT (key_id) DO UPDATE SET expired_ts = NULL`,
          [current.keyId, current.publicKey, now],
        );
      });
    },

    remoteKeys(serverName) {
      return db
        .read((r) => r.all('SELECT server_name, key_id, public_key, valid_until_ts, fetched_ts FROM federation_remote_keys WHERE server_name = ?', [serverName]))
        .map(toRemote);
    },

    async storeKeyResponse(keys, response) {
      await db.write((w) => {
        for (const k of keys) {
          w.run(
            `INSERT INTO federation_remote_keys (server_name, key_id, public_key, valid_until_ts, fetched_ts) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (server_name, key_id) DO UPDATE SET public_key = excluded.public_key,
               valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts
             WHERE excluded.fetched_ts >= federation_remote_keys.fetched_ts`,
            [k.serverName, k.keyId, k.publicKey, k.validUntilTs, k.fetchedTs],
          );
        }
        w.run(
          `INSERT INTO federation_key_responses (server_name, valid_until_ts, fetched_ts, response) VALUES (?, ?, ?, ?)
           ON CONFLICT (server_name) DO UPDATE SET valid_until_ts = excluded.valid_until_ts,
             fetched_ts = excluded.fetched_ts, response = excluded.response
           WHERE excluded.valid_until_ts >= federation_key_responses.valid_until_ts`,
          [response.serverName, response.validUntilTs, response.fetchedTs, JSON.stringify(response.response)],
        );
      });
    },

    keyResponse(serverName) {
      const row = db.read((r) => r.get('SELECT server_name, valid_until_ts, fetched_ts, response FROM federation_key_responses WHERE server_name = ?', [serverName]));
      if (!row) return undefined;
      return {
        serverName: String(row.server_name),
        validUntilTs: Number(row.valid_until_ts),
        fetchedTs: Number(row.fetched_ts),
        response: JSON.parse(String(row.response)) as Record<string, unknown>,
      } satisfies KeyResponseRecord;
    },
  };
}
