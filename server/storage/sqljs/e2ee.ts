/**
 * sql.js implementation of E2eeStore (storage/e2ee.ts) over the tables of migrations
 * 0006-e2ee.sql and 0017-remote-device-lists.sql. Every write is one synchronous transaction; values that vary between runs come
 * in as parameters, so journal replay is deterministic.
 */
import type { Database, SqlReader, SqlRow, SqlWriter } from '../storage.ts';
import { allocateStreamPosition } from '../stream.ts';
import {
  OneTimeKeyConflictError,
  type BackupKey,
  type BackupKeyData,
  type BackupVersion,
  type BackupWriteResult,
  type ClaimRequest,
  type ClaimedKey,
  type CrossSigningKeyType,
  type DeviceListChange,
  type DeviceListChangeKind,
  type E2eeStore,
  type InboxMessage,
  type JsonObject,
  type KeyUpload,
  type NewSignature,
  type RemoteDeviceList,
  type StoredSignature,
  type ToDeviceSend,
} from '../e2ee.ts';

const parse = (v: SqlRow[string]): JsonObject => JSON.parse(String(v)) as JsonObject;

/** What sync reports for a device at every wake-up: one-time key counts per algorithm and unused
 * fallback key types. */
interface DeviceKeyCounts {
  oneTimeKeys?: Record<string, number>;
  unusedFallbackTypes?: string[];
}

const MAX_REMEMBERED_DEVICES = 10_000;

/** Per database, so that every store over it (services are rebuilt when setup names the server)
 * sees what another wrote. Every write the running server makes to the two key tables is in this
 * file and forgets the device it touched, inside its transaction (a restore clears them in a
 * staged database that no store is built over). */
const keyCountsByDatabase = new WeakMap<Database, Map<string, DeviceKeyCounts>>();

const deviceKey = (userId: string, deviceId: string): string => `${userId}\u0000${deviceId}`;

export class SqlJsE2eeStore implements E2eeStore {
  /** Counts kept between syncs: each /sync asked the database twice per device before. */
  private readonly keyCounts: Map<string, DeviceKeyCounts>;

  constructor(private readonly db: Database) {
    let counts = keyCountsByDatabase.get(db);
    if (!counts) keyCountsByDatabase.set(db, (counts = new Map()));
    this.keyCounts = counts;
  }

  private rememberedCounts(userId: string, deviceId: string): DeviceKeyCounts {
    const key = deviceKey(userId, deviceId);
    let entry = this.keyCounts.get(key);
    if (!entry) {
      if (this.keyCounts.size >= MAX_REMEMBERED_DEVICES) this.keyCounts.clear();
      this.keyCounts.set(key, (entry = {}));
    }
    return entry;
  }

  private forgetCounts(userId: string, deviceId: string): void {
    this.keyCounts.delete(deviceKey(userId, deviceId));
  }

  // ---- device keys, one-time and fallback keys ----

  uploadKeys(u: KeyUpload): Promise<{ position: number | null; oneTimeKeyCounts: Record<string, number> }> {
    return this.db.write((w) => {
      this.forgetCounts(u.userId, u.deviceId);
      let position: number | null = null;
      if (u.deviceKeys !== undefined) {
        const json = JSON.stringify(u.deviceKeys);
        const old = w.get('SELECT key_json FROM e2ee_device_keys WHERE user_id = ? AND device_id = ?', [u.userId, u.deviceId]);
        if (old?.key_json !== json) {
          w.run(
            `INSERT INTO e2ee_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?)
             ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json`,
            [u.userId, u.deviceId, json],
          );
          // Signatures covered the old keys; they say nothing about new ones.
          if (old !== undefined && keysPart(parse(old.key_json)) !== keysPart(u.deviceKeys)) {
            w.run('DELETE FROM e2ee_signatures WHERE target_user_id = ? AND target_key_id = ?', [u.userId, u.deviceId]);
          }
          position = recordChange(w, u.userId, null, 'keys');
        }
      }
      if (u.oneTimeKeys.length > 0) {
        const max = w.get('SELECT MAX(upload_order) AS m FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ?', [u.userId, u.deviceId]);
        // All keys of one upload are equivalent for claim order (keys.yaml /keys/claim).
        const order = Number(max?.m ?? 0) + 1;
        for (const k of u.oneTimeKeys) {
          const json = JSON.stringify(k.key);
          const old = w.get(
            'SELECT key_json FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?',
            [u.userId, u.deviceId, k.algorithm, k.keyId],
          );
          if (old !== undefined) {
            if (old.key_json !== json) throw new OneTimeKeyConflictError(`${k.algorithm}:${k.keyId}`);
            continue;
          }
          w.run(
            'INSERT INTO e2ee_one_time_keys (user_id, device_id, algorithm, key_id, key_json, upload_order) VALUES (?, ?, ?, ?, ?, ?)',
            [u.userId, u.deviceId, k.algorithm, k.keyId, json, order],
          );
        }
      }
      for (const k of u.fallbackKeys) {
        const json = JSON.stringify(k.key);
        const old = w.get('SELECT key_id, key_json FROM e2ee_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?', [
          u.userId,
          u.deviceId,
          k.algorithm,
        ]);
        // Re-uploading the same fallback key keeps its used flag; a new one starts unused.
        if (old !== undefined && old.key_id === k.keyId && old.key_json === json) continue;
        w.run(
          `INSERT INTO e2ee_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES (?, ?, ?, ?, ?, 0)
           ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, key_json = excluded.key_json, used = 0`,
          [u.userId, u.deviceId, k.algorithm, k.keyId, json],
        );
      }
      return { position, oneTimeKeyCounts: otkCounts(w, u.userId, u.deviceId) };
    });
  }

  deviceKeys(userId: string, deviceIds?: readonly string[]): Map<string, JsonObject> {
    return this.db.read((r) => {
      const rows = r.all('SELECT device_id, key_json FROM e2ee_device_keys WHERE user_id = ? ORDER BY device_id', [userId]);
      const wanted = deviceIds && deviceIds.length > 0 ? new Set(deviceIds) : undefined;
      const out = new Map<string, JsonObject>();
      for (const row of rows) {
        const id = String(row.device_id);
        if (!wanted || wanted.has(id)) out.set(id, parse(row.key_json));
      }
      return out;
    });
  }

  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number> {
    const remembered = this.rememberedCounts(userId, deviceId);
    remembered.oneTimeKeys ??= this.db.read((r) => otkCounts(r, userId, deviceId));
    return { ...remembered.oneTimeKeys };
  }

  unusedFallbackKeyTypes(userId: string, deviceId: string): string[] {
    const remembered = this.rememberedCounts(userId, deviceId);
    remembered.unusedFallbackTypes ??= this.db.read((r) =>
      r
        .all('SELECT algorithm FROM e2ee_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm', [userId, deviceId])
        .map((row) => String(row.algorithm)),
    );
    return [...remembered.unusedFallbackTypes];
  }

  claimKeys(requests: readonly ClaimRequest[]): Promise<ClaimedKey[]> {
    return this.db.write((w) => {
      const out: ClaimedKey[] = [];
      for (const q of requests) {
        this.forgetCounts(q.userId, q.deviceId);
        const otk = w.get(
          `SELECT key_id, key_json FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?
           ORDER BY upload_order, key_id LIMIT 1`,
          [q.userId, q.deviceId, q.algorithm],
        );
        if (otk) {
          w.run('DELETE FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?', [
            q.userId,
            q.deviceId,
            q.algorithm,
            otk.key_id,
          ]);
          out.push({ ...q, keyId: String(otk.key_id), key: JSON.parse(String(otk.key_json)) });
          continue;
        }
        const fb = w.get('SELECT key_id, key_json FROM e2ee_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?', [
          q.userId,
          q.deviceId,
          q.algorithm,
        ]);
        if (fb) {
          w.run('UPDATE e2ee_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ?', [q.userId, q.deviceId, q.algorithm]);
          out.push({ ...q, keyId: String(fb.key_id), key: JSON.parse(String(fb.key_json)) });
        }
      }
      return out;
    });
  }

  devicesWithData(userId: string): string[] {
    return this.db.read((r) =>
      r
        .all(
          `SELECT device_id FROM e2ee_device_keys WHERE user_id = ?
           UNION SELECT device_id FROM e2ee_one_time_keys WHERE user_id = ?
           UNION SELECT device_id FROM e2ee_fallback_keys WHERE user_id = ?
           UNION SELECT device_id FROM e2ee_to_device_inbox WHERE user_id = ?
           ORDER BY device_id`,
          [userId, userId, userId, userId],
        )
        .map((row) => String(row.device_id)),
    );
  }

  deleteDevice(userId: string, deviceId: string): Promise<number> {
    return this.db.write((w) => {
      this.forgetCounts(userId, deviceId);
      const p = [userId, deviceId];
      w.run('DELETE FROM e2ee_device_keys WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_fallback_keys WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_to_device_inbox WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_to_device_acks WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_to_device_txns WHERE user_id = ? AND device_id = ?', p);
      w.run('DELETE FROM e2ee_signatures WHERE target_user_id = ? AND target_key_id = ?', p);
      return recordChange(w, userId, null, 'keys');
    });
  }

  // ---- cross-signing ----

  crossSigningKeys(userId: string): Partial<Record<CrossSigningKeyType, JsonObject>> {
    return this.db.read((r) => {
      const out: Partial<Record<CrossSigningKeyType, JsonObject>> = {};
      for (const row of r.all('SELECT key_type, key_json FROM e2ee_cross_signing_keys WHERE user_id = ?', [userId])) {
        out[String(row.key_type) as CrossSigningKeyType] = parse(row.key_json);
      }
      return out;
    });
  }

  setCrossSigningKeys(
    userId: string,
    keys: Partial<Record<CrossSigningKeyType, { publicKey: string; json: JsonObject }>>,
  ): Promise<number> {
    return this.db.write((w) => {
      for (const [type, k] of Object.entries(keys) as [CrossSigningKeyType, { publicKey: string; json: JsonObject }][]) {
        const old = w.get('SELECT public_key FROM e2ee_cross_signing_keys WHERE user_id = ? AND key_type = ?', [userId, type]);
        // Signatures on a replaced key (others' trust in it) are void.
        if (old !== undefined && old.public_key !== k.publicKey) {
          w.run('DELETE FROM e2ee_signatures WHERE target_user_id = ? AND target_key_id = ?', [userId, old.public_key]);
        }
        w.run(
          `INSERT INTO e2ee_cross_signing_keys (user_id, key_type, public_key, key_json) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = excluded.public_key, key_json = excluded.key_json`,
          [userId, type, k.publicKey, JSON.stringify(k.json)],
        );
      }
      return recordChange(w, userId, null, 'keys');
    });
  }

  signatures(targetUserId: string, targetKeyId: string): StoredSignature[] {
    return this.db.read((r) =>
      r
        .all(
          `SELECT signer_user_id, signer_key_id, signature FROM e2ee_signatures
           WHERE target_user_id = ? AND target_key_id = ? ORDER BY signer_user_id, signer_key_id`,
          [targetUserId, targetKeyId],
        )
        .map((row) => ({ signerUserId: String(row.signer_user_id), signerKeyId: String(row.signer_key_id), signature: String(row.signature) })),
    );
  }

  addSignatures(signatures: readonly NewSignature[]): Promise<number | null> {
    if (signatures.length === 0) return Promise.resolve(null);
    return this.db.write((w) => {
      for (const s of signatures) {
        w.run(
          `INSERT INTO e2ee_signatures (target_user_id, target_key_id, signer_user_id, signer_key_id, signature) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (target_user_id, target_key_id, signer_user_id, signer_key_id) DO UPDATE SET signature = excluded.signature`,
          [s.targetUserId, s.targetKeyId, s.signerUserId, s.signerKeyId, s.signature],
        );
      }
      const position = allocateStreamPosition(w);
      for (const user of new Set(signatures.map((s) => s.targetUserId))) {
        w.run('INSERT INTO e2ee_device_list_changes (stream_pos, user_id, room_id, kind) VALUES (?, ?, NULL, ?)', [position, user, 'keys']);
      }
      return position;
    });
  }

  // ---- remote users' device lists ----

  remoteDeviceList(userId: string): RemoteDeviceList | undefined {
    const row = this.db.read((r) =>
      r.get('SELECT stream_id, stale, devices_json, master_key_json, self_signing_key_json FROM e2ee_remote_device_lists WHERE user_id = ?', [userId]),
    );
    if (!row) return undefined;
    const list: RemoteDeviceList = {
      userId,
      streamId: row.stream_id === null ? null : Number(row.stream_id),
      stale: Number(row.stale) === 1,
      devices: parse(row.devices_json) as Record<string, JsonObject>,
    };
    if (row.master_key_json !== null) list.masterKey = parse(row.master_key_json);
    if (row.self_signing_key_json !== null) list.selfSigningKey = parse(row.self_signing_key_json);
    return list;
  }

  remoteDeviceListUsers(among?: readonly string[]): string[] {
    const rows = this.db.read((r) =>
      among === undefined
        ? r.all('SELECT user_id FROM e2ee_remote_device_lists ORDER BY user_id')
        : // One JSON parameter, however many users (the primary key answers each).
          r.all('SELECT user_id FROM e2ee_remote_device_lists WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id', [JSON.stringify(among)]),
    );
    return rows.map((row) => String(row.user_id));
  }

  putRemoteDeviceList(list: RemoteDeviceList): Promise<void> {
    return this.db.write((w) => {
      w.run(
        `INSERT INTO e2ee_remote_device_lists (user_id, stream_id, stale, devices_json, master_key_json, self_signing_key_json) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id, stale = excluded.stale, devices_json = excluded.devices_json,
           master_key_json = excluded.master_key_json, self_signing_key_json = excluded.self_signing_key_json`,
        [
          list.userId,
          list.streamId,
          list.stale ? 1 : 0,
          JSON.stringify(list.devices),
          list.masterKey ? JSON.stringify(list.masterKey) : null,
          list.selfSigningKey ? JSON.stringify(list.selfSigningKey) : null,
        ],
      );
    });
  }

  markRemoteDeviceListStale(userId: string): Promise<void> {
    return this.db.write((w) => {
      w.run('UPDATE e2ee_remote_device_lists SET stale = 1 WHERE user_id = ?', [userId]);
    });
  }

  dropRemoteDeviceLists(userIds: readonly string[]): Promise<void> {
    return this.db.write((w) => {
      w.run('DELETE FROM e2ee_remote_device_lists WHERE user_id IN (SELECT value FROM json_each(?))', [JSON.stringify(userIds)]);
    });
  }

  // ---- device-list stream ----

  recordKeysChange(userId: string): Promise<number> {
    return this.db.write((w) => recordChange(w, userId, null, 'keys'));
  }

  recordMembershipChange(userId: string, roomId: string, kind: 'join' | 'leave'): Promise<number | null> {
    return this.db.write((w) => {
      const last = w.get(
        'SELECT kind FROM e2ee_device_list_changes WHERE user_id = ? AND room_id = ? ORDER BY stream_pos DESC LIMIT 1',
        [userId, roomId],
      );
      // join → join (a profile change) or leave → ban changes nothing about who shares rooms.
      if (last?.kind === kind) return null;
      return recordChange(w, userId, roomId, kind);
    });
  }

  deviceListChanges(since: number, upTo: number): DeviceListChange[] {
    return this.db.read((r) =>
      r
        .all('SELECT stream_pos, user_id, room_id, kind FROM e2ee_device_list_changes WHERE stream_pos > ? AND stream_pos <= ? ORDER BY stream_pos', [
          since,
          upTo,
        ])
        .map((row) => ({
          position: Number(row.stream_pos),
          userId: String(row.user_id),
          roomId: row.room_id === null ? null : String(row.room_id),
          kind: String(row.kind) as DeviceListChangeKind,
        })),
    );
  }

  // ---- to-device ----

  sendToDevice(s: ToDeviceSend): Promise<number | null> {
    return this.db.write((w) => {
      const seen = w.get('SELECT 1 AS x FROM e2ee_to_device_txns WHERE user_id = ? AND device_id = ? AND txn_id = ?', [
        s.sender,
        s.senderDeviceId,
        s.txnId,
      ]);
      if (seen) return null;
      const position = allocateStreamPosition(w);
      w.run('INSERT INTO e2ee_to_device_txns (user_id, device_id, txn_id, stream_pos) VALUES (?, ?, ?, ?)', [
        s.sender,
        s.senderDeviceId,
        s.txnId,
        position,
      ]);
      for (const m of s.local) {
        w.run(
          `INSERT INTO e2ee_to_device_inbox (user_id, device_id, stream_pos, sender, event_type, content_json) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, device_id, stream_pos) DO NOTHING`,
          [m.userId, m.deviceId, position, s.sender, s.eventType, JSON.stringify(m.content)],
        );
      }
      for (const m of s.remote) {
        w.run(
          `INSERT INTO e2ee_to_device_outbox (stream_pos, destination, sender, user_id, device_id, event_type, content_json, message_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_pos, user_id, device_id) DO NOTHING`,
          [position, m.destination, s.sender, m.userId, m.deviceId, s.eventType, JSON.stringify(m.content), m.messageId],
        );
      }
      return position;
    });
  }

  async takeToDevice(userId: string, deviceId: string, since: number | null, upTo: number, limit: number): Promise<InboxMessage[]> {
    const key = [userId, deviceId];
    if (since !== null) {
      // What `since` acknowledges: everything up to it, unless the sync that produced it
      // returned only part of the inbox (then only what it delivered).
      const bound = this.db.read((r) => {
        const ack = r.get('SELECT up_to, delivered_pos FROM e2ee_to_device_acks WHERE user_id = ? AND device_id = ?', key);
        return ack && Number(ack.up_to) === since ? Number(ack.delivered_pos) : since;
      });
      const pending = this.db.read((r) =>
        r.get('SELECT 1 AS x FROM e2ee_to_device_inbox WHERE user_id = ? AND device_id = ? AND stream_pos <= ?', [...key, bound]),
      );
      // Most syncs have nothing to delete: skip the write (and its fsync) then.
      if (pending) {
        await this.db.write((w) => w.run('DELETE FROM e2ee_to_device_inbox WHERE user_id = ? AND device_id = ? AND stream_pos <= ?', [...key, bound]));
      }
    }
    const rows = this.db.read((r) =>
      r.all(
        `SELECT stream_pos, sender, event_type, content_json FROM e2ee_to_device_inbox
         WHERE user_id = ? AND device_id = ? AND stream_pos <= ? ORDER BY stream_pos LIMIT ?`,
        [...key, upTo, limit + 1],
      ),
    );
    const truncated = rows.length > limit;
    const delivered = rows.slice(0, limit).map((row) => ({
      position: Number(row.stream_pos),
      sender: String(row.sender),
      type: String(row.event_type),
      content: parse(row.content_json),
    }));
    const hadAck = this.db.read((r) => r.get('SELECT 1 AS x FROM e2ee_to_device_acks WHERE user_id = ? AND device_id = ?', key)) !== undefined;
    if (truncated) {
      const last = delivered.length > 0 ? delivered[delivered.length - 1]!.position : (since ?? 0);
      await this.db.write((w) =>
        w.run(
          `INSERT INTO e2ee_to_device_acks (user_id, device_id, up_to, delivered_pos) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id, device_id) DO UPDATE SET up_to = excluded.up_to, delivered_pos = excluded.delivered_pos`,
          [...key, upTo, last],
        ),
      );
    } else if (hadAck) {
      await this.db.write((w) => w.run('DELETE FROM e2ee_to_device_acks WHERE user_id = ? AND device_id = ?', key));
    }
    return delivered;
  }

  // ---- key backup ----

  createBackup(userId: string, algorithm: string, authData: JsonObject): Promise<string> {
    return this.db.write((w) => {
      const max = w.get('SELECT MAX(version) AS m FROM e2ee_backup_versions WHERE user_id = ?', [userId]);
      const version = Number(max?.m ?? 0) + 1;
      w.run('INSERT INTO e2ee_backup_versions (user_id, version, algorithm, auth_data_json, etag, deleted) VALUES (?, ?, ?, ?, 0, 0)', [
        userId,
        version,
        algorithm,
        JSON.stringify(authData),
      ]);
      return String(version);
    });
  }

  backup(userId: string, version?: string): BackupVersion | undefined {
    return this.db.read((r) => {
      const row = version === undefined ? latestVersion(r, userId) : liveVersion(r, userId, version);
      if (!row) return undefined;
      return {
        version: String(row.version),
        algorithm: String(row.algorithm),
        authData: parse(row.auth_data_json),
        etag: String(row.etag),
        count: keyCount(r, userId, Number(row.version)),
      };
    });
  }

  updateBackup(userId: string, version: string, authData: JsonObject): Promise<boolean> {
    return this.db.write((w) => {
      const row = liveVersion(w, userId, version);
      if (!row) return false;
      w.run('UPDATE e2ee_backup_versions SET auth_data_json = ? WHERE user_id = ? AND version = ?', [JSON.stringify(authData), userId, Number(row.version)]);
      return true;
    });
  }

  deleteBackup(userId: string, version: string): Promise<boolean> {
    return this.db.write((w) => {
      const v = versionNumber(version);
      if (v === undefined) return false;
      const row = w.get('SELECT version FROM e2ee_backup_versions WHERE user_id = ? AND version = ?', [userId, v]);
      if (!row) return false;
      w.run('UPDATE e2ee_backup_versions SET deleted = 1 WHERE user_id = ? AND version = ?', [userId, v]);
      w.run('DELETE FROM e2ee_backup_keys WHERE user_id = ? AND version = ?', [userId, v]);
      return true;
    });
  }

  putBackupKeys(
    userId: string,
    version: string,
    keys: readonly BackupKey[],
    prefer: (existing: BackupKeyData, incoming: BackupKeyData) => boolean,
  ): Promise<BackupWriteResult> {
    return this.db.write((w): BackupWriteResult => {
      const current = latestVersion(w, userId);
      const target = liveVersion(w, userId, version);
      if (!target) {
        // An unknown version is "not the current one" when a current one exists (key_backup.yaml
        // PUT gives 403 with current_version); with no backup at all it is simply not found.
        return current ? { ok: false, reason: 'wrong_version', currentVersion: String(current.version) } : { ok: false, reason: 'not_found' };
      }
      if (Number(current!.version) !== Number(target.version)) {
        return { ok: false, reason: 'wrong_version', currentVersion: String(current!.version) };
      }
      const v = Number(target.version);
      let changed = false;
      for (const k of keys) {
        const old = w.get(
          `SELECT first_message_index, forwarded_count, is_verified, session_data_json FROM e2ee_backup_keys
           WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?`,
          [userId, v, k.roomId, k.sessionId],
        );
        if (old && !prefer(backupData(old), k.data)) continue;
        w.run(
          `INSERT INTO e2ee_backup_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index,
             forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data_json = excluded.session_data_json`,
          [userId, v, k.roomId, k.sessionId, k.data.first_message_index, k.data.forwarded_count, k.data.is_verified ? 1 : 0, JSON.stringify(k.data.session_data)],
        );
        changed = true;
      }
      return { ok: true, etag: changed ? bumpEtag(w, userId, v) : String(target.etag), count: keyCount(w, userId, v) };
    });
  }

  backupKeys(userId: string, version: string, roomId?: string, sessionId?: string): BackupKey[] | undefined {
    return this.db.read((r) => {
      const row = liveVersion(r, userId, version);
      if (!row) return undefined;
      const { sql, params } = keyFilter(userId, Number(row.version), roomId, sessionId);
      return r
        .all(`SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data_json FROM e2ee_backup_keys WHERE ${sql} ORDER BY room_id, session_id`, params)
        .map((k) => ({ roomId: String(k.room_id), sessionId: String(k.session_id), data: backupData(k) }));
    });
  }

  deleteBackupKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<BackupWriteResult> {
    return this.db.write((w): BackupWriteResult => {
      const row = liveVersion(w, userId, version);
      if (!row) return { ok: false, reason: 'not_found' };
      const v = Number(row.version);
      const { sql, params } = keyFilter(userId, v, roomId, sessionId);
      const { changes } = w.run(`DELETE FROM e2ee_backup_keys WHERE ${sql}`, params);
      return { ok: true, etag: changes > 0 ? bumpEtag(w, userId, v) : String(row.etag), count: keyCount(w, userId, v) };
    });
  }
}

// ---- helpers (run inside a read or a write) ----

/** The device's identity: everything but signatures and unsigned, canonical enough to compare. */
function keysPart(o: JsonObject): string {
  const { signatures: _s, unsigned: _u, ...rest } = o;
  return stableStringify(rest);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function recordChange(w: SqlWriter, userId: string, roomId: string | null, kind: DeviceListChangeKind): number {
  const position = allocateStreamPosition(w);
  w.run('INSERT INTO e2ee_device_list_changes (stream_pos, user_id, room_id, kind) VALUES (?, ?, ?, ?)', [position, userId, roomId, kind]);
  return position;
}

function otkCounts(r: SqlReader, userId: string, deviceId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of r.all('SELECT algorithm, COUNT(*) AS n FROM e2ee_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm', [userId, deviceId])) {
    out[String(row.algorithm)] = Number(row.n);
  }
  return out;
}

/** Versions are decimal integers; anything else names no backup. */
function versionNumber(version: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(version) ? Number(version) : undefined;
}

function liveVersion(r: SqlReader, userId: string, version: string): SqlRow | undefined {
  const v = versionNumber(version);
  if (v === undefined) return undefined;
  return r.get('SELECT version, algorithm, auth_data_json, etag FROM e2ee_backup_versions WHERE user_id = ? AND version = ? AND deleted = 0', [userId, v]);
}

function latestVersion(r: SqlReader, userId: string): SqlRow | undefined {
  return r.get('SELECT version, algorithm, auth_data_json, etag FROM e2ee_backup_versions WHERE user_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1', [userId]);
}

function keyCount(r: SqlReader, userId: string, version: number): number {
  return Number(r.get('SELECT COUNT(*) AS n FROM e2ee_backup_keys WHERE user_id = ? AND version = ?', [userId, version])?.n ?? 0);
}

function bumpEtag(w: SqlWriter, userId: string, version: number): string {
  w.run('UPDATE e2ee_backup_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?', [userId, version]);
  return String(w.get('SELECT etag FROM e2ee_backup_versions WHERE user_id = ? AND version = ?', [userId, version])?.etag ?? 0);
}

function keyFilter(userId: string, version: number, roomId?: string, sessionId?: string): { sql: string; params: (string | number)[] } {
  let sql = 'user_id = ? AND version = ?';
  const params: (string | number)[] = [userId, version];
  if (roomId !== undefined) {
    sql += ' AND room_id = ?';
    params.push(roomId);
    if (sessionId !== undefined) {
      sql += ' AND session_id = ?';
      params.push(sessionId);
    }
  }
  return { sql, params };
}

function backupData(row: SqlRow): BackupKeyData {
  return {
    first_message_index: Number(row.first_message_index),
    forwarded_count: Number(row.forwarded_count),
    is_verified: Number(row.is_verified) === 1,
    session_data: parse(row.session_data_json),
  };
}
