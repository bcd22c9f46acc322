/**
 * The sql.js implementation of UsersStore (storage/users.ts) over migration 0003-accounts.sql.
 * Every write is one synchronous transaction; removing devices allocates a stream position in the
 * same transaction so sync and E2EE can report the device-list change.
 */
import type { Database, SqlReader, SqlRow, SqlWriter } from '../storage.ts';
import { allocateStreamPosition } from '../stream.ts';
import {
  registrationTokenValid,
  type AccessTokenRecord,
  type CreateUserResult,
  type DeviceRecord,
  type DevicesRemoved,
  type IssuedSession,
  type LastSeen,
  type ListUsersOptions,
  type NewSession,
  type NewUser,
  type RefreshTokenRecord,
  type RegistrationTokenRecord,
  type RotateRefreshResult,
  type UserRecord,
  type UsersStore,
} from '../users.ts';
import { likeContaining, str, num } from './row.ts';

function toUser(r: SqlRow): UserRecord {
  return {
    userId: String(r.user_id),
    passwordHash: str(r.password_hash),
    isAdmin: Number(r.is_admin) === 1,
    isGuest: Number(r.is_guest) === 1,
    deactivated: Number(r.deactivated) === 1,
    createdTs: Number(r.created_ts),
    userType: str(r.user_type),
  };
}

function toDevice(r: SqlRow): DeviceRecord {
  return {
    userId: String(r.user_id),
    deviceId: String(r.device_id),
    displayName: str(r.display_name),
    lastSeenIp: str(r.last_seen_ip),
    lastSeenTs: num(r.last_seen_ts),
    lastSeenUserAgent: str(r.last_seen_user_agent),
    createdTs: Number(r.created_ts),
  };
}

function toRegistrationToken(r: SqlRow): RegistrationTokenRecord {
  return {
    token: String(r.token),
    usesAllowed: num(r.uses_allowed),
    pending: Number(r.pending),
    completed: Number(r.completed),
    expiryTime: num(r.expiry_time),
  };
}

function nextId(w: SqlReader, table: 'access_tokens' | 'refresh_tokens'): number {
  const row = w.get(`SELECT COALESCE(MAX(id), 0) AS m FROM ${table}`);
  return Number(row?.m ?? 0) + 1;
}

function insertAccessToken(w: SqlWriter, userId: string, deviceId: string, hash: string, expiresTs: number | null, refreshTokenId: number | null, now: number): number {
  const id = nextId(w, 'access_tokens');
  w.run(
    'INSERT INTO access_tokens (id, token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_id, used) VALUES (?, ?, ?, ?, ?, ?, ?, 0)',
    [id, hash, userId, deviceId, now, expiresTs, refreshTokenId],
  );
  return id;
}

function insertRefreshToken(w: SqlWriter, userId: string, deviceId: string, hash: string, now: number): number {
  const id = nextId(w, 'refresh_tokens');
  w.run('INSERT INTO refresh_tokens (id, token_hash, user_id, device_id, next_token_id, created_ts) VALUES (?, ?, ?, ?, NULL, ?)', [
    id,
    hash,
    userId,
    deviceId,
    now,
  ]);
  return id;
}

function deleteDeviceTokens(w: SqlWriter, userId: string, deviceId: string): void {
  w.run('DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
  w.run('DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
}

function insertSession(w: SqlWriter, userId: string, s: NewSession, now: number): IssuedSession {
  const existing = w.get('SELECT 1 AS x FROM devices WHERE user_id = ? AND device_id = ?', [userId, s.deviceId]);
  if (existing) {
    // Spec "Relationship between access tokens and devices": a client-chosen device id that
    // exists already gets fresh tokens; the old ones are invalidated.
    deleteDeviceTokens(w, userId, s.deviceId);
  } else {
    w.run('INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES (?, ?, ?, ?)', [userId, s.deviceId, s.initialDisplayName ?? null, now]);
  }
  const refreshTokenId = s.refreshTokenHash !== undefined ? insertRefreshToken(w, userId, s.deviceId, s.refreshTokenHash, now) : null;
  const accessTokenId = insertAccessToken(w, userId, s.deviceId, s.accessTokenHash, s.expiresTs, refreshTokenId, now);
  return { accessTokenId, refreshTokenId, deviceReused: existing !== undefined };
}

/** Deletes the listed devices that exist, with their tokens; allocates one stream position. */
function removeDevices(w: SqlWriter, userId: string, deviceIds: readonly string[]): DevicesRemoved {
  const removed: string[] = [];
  for (const deviceId of new Set(deviceIds)) {
    const r = w.run('DELETE FROM devices WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
    deleteDeviceTokens(w, userId, deviceId);
    if (r.changes > 0) removed.push(deviceId);
  }
  return { deviceIds: removed, streamPosition: removed.length > 0 ? allocateStreamPosition(w) : null };
}

function removeAllDevices(w: SqlWriter, userId: string, exceptDeviceId: string | null): DevicesRemoved {
  const ids = w
    .all('SELECT device_id FROM devices WHERE user_id = ?', [userId])
    .map((r) => String(r.device_id))
    .filter((d) => d !== exceptDeviceId);
  const result = removeDevices(w, userId, ids);
  // Tokens whose device row is missing (should not happen) go too, except the kept device's.
  if (exceptDeviceId === null) {
    w.run('DELETE FROM access_tokens WHERE user_id = ?', [userId]);
    w.run('DELETE FROM refresh_tokens WHERE user_id = ?', [userId]);
  }
  return result;
}

export function createSqlJsUsersStore(db: Database): UsersStore {
  return {
    // ---- users ----
    getUser(userId) {
      const r = db.read((q) => q.get('SELECT * FROM users WHERE user_id = ?', [userId]));
      return r ? toUser(r) : undefined;
    },

    findUserIdIgnoringCase(userId) {
      const r = db.read((q) => q.get('SELECT user_id FROM users WHERE LOWER(user_id) = LOWER(?) ORDER BY user_id LIMIT 1', [userId]));
      return r ? String(r.user_id) : undefined;
    },

    createUser(u: NewUser): Promise<CreateUserResult> {
      return db.write((w): CreateUserResult => {
        if (w.get('SELECT 1 AS x FROM users WHERE user_id = ?', [u.userId])) return { ok: false, reason: 'user_in_use' };
        w.run('INSERT INTO users (user_id, password_hash, is_admin, is_guest, deactivated, created_ts, user_type) VALUES (?, ?, ?, 0, 0, ?, ?)', [
          u.userId,
          u.passwordHash,
          u.isAdmin ? 1 : 0,
          u.createdTs,
          u.userType,
        ]);
        w.run(
          'INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, NULL) ON CONFLICT (user_id) DO UPDATE SET displayname = excluded.displayname, avatar_url = NULL',
          [u.userId, u.displayname],
        );
        if (u.consumeRegistrationToken !== undefined) {
          w.run(
            'UPDATE registration_tokens SET pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END, completed = completed + 1 WHERE token = ?',
            [u.consumeRegistrationToken],
          );
        }
        const session = u.session ? insertSession(w, u.userId, u.session, u.createdTs) : null;
        return { ok: true, session };
      });
    },

    listUsers(opts: ListUsersOptions) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (opts.name) {
        where.push("LOWER(user_id) LIKE ? ESCAPE '\\'");
        params.push(likeContaining(opts.name.toLowerCase()));
      }
      if (opts.deactivated !== undefined) {
        where.push('deactivated = ?');
        params.push(opts.deactivated ? 1 : 0);
      }
      if (opts.admins !== undefined) {
        where.push('is_admin = ?');
        params.push(opts.admins ? 1 : 0);
      }
      const clause = where.length > 0 ? ' WHERE ' + where.join(' AND ') : '';
      return db.read((q) => {
        const total = Number(q.get(`SELECT COUNT(*) AS n FROM users${clause}`, params)?.n ?? 0);
        const users = q.all(`SELECT * FROM users${clause} ORDER BY user_id LIMIT ? OFFSET ?`, [...params, opts.limit, opts.from]).map(toUser);
        return { users, total };
      });
    },

    setAdmin(userId, isAdmin) {
      return db.write((w) => w.run('UPDATE users SET is_admin = ? WHERE user_id = ?', [isAdmin ? 1 : 0, userId]).changes > 0);
    },

    setUserType(userId, userType) {
      return db.write((w) => w.run('UPDATE users SET user_type = ? WHERE user_id = ?', [userType, userId]).changes > 0);
    },

    setPasswordHash(userId, passwordHash, logout) {
      return db.write((w) => {
        w.run('UPDATE users SET password_hash = ? WHERE user_id = ?', [passwordHash, userId]);
        if (!logout) return { deviceIds: [], streamPosition: null };
        return removeAllDevices(w, userId, logout.exceptDeviceId);
      });
    },

    deactivateUser(userId) {
      return db.write((w) => {
        w.run('UPDATE users SET deactivated = 1, password_hash = NULL WHERE user_id = ?', [userId]);
        return removeAllDevices(w, userId, null);
      });
    },

    reactivateUser(userId) {
      return db.write((w) => w.run('UPDATE users SET deactivated = 0 WHERE user_id = ?', [userId]).changes > 0);
    },

    // ---- sessions ----
    createSession(userId, session, now) {
      return db.write((w) => insertSession(w, userId, session, now));
    },

    findAccessToken(tokenHash): AccessTokenRecord | undefined {
      const r = db.read((q) =>
        q.get(
          `SELECT t.id, t.user_id, t.device_id, t.expires_ts, t.refresh_token_id, t.used, u.is_admin, u.deactivated
           FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?`,
          [tokenHash],
        ),
      );
      if (!r) return undefined;
      return {
        id: Number(r.id),
        userId: String(r.user_id),
        deviceId: String(r.device_id),
        expiresTs: num(r.expires_ts),
        refreshTokenId: num(r.refresh_token_id),
        used: Number(r.used) === 1,
        isAdmin: Number(r.is_admin) === 1,
        deactivated: Number(r.deactivated) === 1,
      };
    },

    findRefreshToken(tokenHash): RefreshTokenRecord | undefined {
      const r = db.read((q) => q.get('SELECT id, user_id, device_id, next_token_id FROM refresh_tokens WHERE token_hash = ?', [tokenHash]));
      if (!r) return undefined;
      return { id: Number(r.id), userId: String(r.user_id), deviceId: String(r.device_id), nextTokenId: num(r.next_token_id) };
    },

    successorUsed(refreshTokenId) {
      return db.read((q) => successorUsedIn(q, refreshTokenId));
    },

    markAccessTokenUsed(accessTokenId) {
      return db.write((w) => {
        const row = w.get('SELECT refresh_token_id, used FROM access_tokens WHERE id = ?', [accessTokenId]);
        if (!row || Number(row.used) === 1) return [];
        w.run('UPDATE access_tokens SET used = 1 WHERE id = ?', [accessTokenId]);
        const refreshId = num(row.refresh_token_id);
        return refreshId === null ? [] : retirePredecessors(w, refreshId);
      });
    },

    rotateRefreshToken(oldId, next, now): Promise<RotateRefreshResult> {
      return db.write((w): RotateRefreshResult => {
        const old = w.get('SELECT user_id, device_id, next_token_id FROM refresh_tokens WHERE id = ?', [oldId]);
        if (!old) return { ok: false };
        const userId = String(old.user_id);
        const deviceId = String(old.device_id);
        const prevNext = num(old.next_token_id);
        if (prevNext !== null) {
          if (successorUsedIn(w, oldId)) return { ok: false };
          // The client never used the pair it was given last time: replace it.
          w.run('DELETE FROM access_tokens WHERE refresh_token_id = ?', [prevNext]);
          w.run('DELETE FROM refresh_tokens WHERE id = ?', [prevNext]);
        }
        const refreshTokenId = insertRefreshToken(w, userId, deviceId, next.refreshTokenHash, now);
        const accessTokenId = insertAccessToken(w, userId, deviceId, next.accessTokenHash, next.expiresTs, refreshTokenId, now);
        w.run('UPDATE refresh_tokens SET next_token_id = ? WHERE id = ?', [refreshTokenId, oldId]);
        // Exchanging this token is a use of the pair it came with: its predecessor retires.
        const revokedAccessTokenIds = retirePredecessors(w, oldId);
        return { ok: true, accessTokenId, refreshTokenId, revokedAccessTokenIds };
      });
    },

    // ---- devices ----
    listDevices(userId) {
      return db.read((q) => q.all('SELECT * FROM devices WHERE user_id = ? ORDER BY device_id', [userId])).map(toDevice);
    },

    getDevice(userId, deviceId) {
      const r = db.read((q) => q.get('SELECT * FROM devices WHERE user_id = ? AND device_id = ?', [userId, deviceId]));
      return r ? toDevice(r) : undefined;
    },

    setDeviceDisplayName(userId, deviceId, displayName) {
      return db.write((w) => {
        const r = w.run('UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?', [displayName, userId, deviceId]);
        return r.changes > 0 ? allocateStreamPosition(w) : null;
      });
    },

    deleteDevices(userId, deviceIds) {
      return db.write((w) => removeDevices(w, userId, deviceIds));
    },

    deleteAllDevices(userId, exceptDeviceId) {
      return db.write((w) => removeAllDevices(w, userId, exceptDeviceId));
    },

    async recordLastSeen(entries: LastSeen[]) {
      if (entries.length === 0) return;
      await db.write((w) => {
        for (const e of entries) {
          w.run('UPDATE devices SET last_seen_ip = ?, last_seen_ts = ?, last_seen_user_agent = ? WHERE user_id = ? AND device_id = ?', [
            e.ip,
            e.ts,
            e.userAgent,
            e.userId,
            e.deviceId,
          ]);
        }
      });
    },

    // ---- registration tokens ----
    getRegistrationToken(token) {
      const r = db.read((q) => q.get('SELECT * FROM registration_tokens WHERE token = ?', [token]));
      return r ? toRegistrationToken(r) : undefined;
    },

    listRegistrationTokens() {
      return db.read((q) => q.all('SELECT * FROM registration_tokens ORDER BY token')).map(toRegistrationToken);
    },

    createRegistrationToken(t) {
      return db.write((w) => {
        const r = w.run(
          'INSERT INTO registration_tokens (token, uses_allowed, pending, completed, expiry_time) VALUES (?, ?, 0, 0, ?) ON CONFLICT (token) DO NOTHING',
          [t.token, t.usesAllowed, t.expiryTime],
        );
        return r.changes > 0;
      });
    },

    updateRegistrationToken(token, fields) {
      return db.write((w) => {
        if (fields.usesAllowed !== undefined) w.run('UPDATE registration_tokens SET uses_allowed = ? WHERE token = ?', [fields.usesAllowed, token]);
        if (fields.expiryTime !== undefined) w.run('UPDATE registration_tokens SET expiry_time = ? WHERE token = ?', [fields.expiryTime, token]);
        const r = w.get('SELECT * FROM registration_tokens WHERE token = ?', [token]);
        return r ? toRegistrationToken(r) : undefined;
      });
    },

    deleteRegistrationToken(token) {
      return db.write((w) => w.run('DELETE FROM registration_tokens WHERE token = ?', [token]).changes > 0);
    },

    reserveRegistrationToken(token, now) {
      return db.write((w) => {
        const r = w.get('SELECT * FROM registration_tokens WHERE token = ?', [token]);
        if (!registrationTokenValid(r ? toRegistrationToken(r) : undefined, now)) return false;
        w.run('UPDATE registration_tokens SET pending = pending + 1 WHERE token = ?', [token]);
        return true;
      });
    },

    async releaseRegistrationToken(token) {
      await db.write((w) => w.run('UPDATE registration_tokens SET pending = pending - 1 WHERE token = ? AND pending > 0', [token]));
    },

    async resetPendingRegistrationTokens() {
      await db.write((w) => w.run('UPDATE registration_tokens SET pending = 0 WHERE pending <> 0'));
    },
  };
}

/** A successor pair counts as used once its access token authenticated a request or its
 * refresh token was itself exchanged. */
function successorUsedIn(q: SqlReader, refreshTokenId: number): boolean {
  const r = q.get('SELECT next_token_id FROM refresh_tokens WHERE id = ?', [refreshTokenId]);
  const nextId = num(r?.next_token_id);
  if (nextId === null) return false;
  const next = q.get('SELECT next_token_id FROM refresh_tokens WHERE id = ?', [nextId]);
  if (!next) return true; // retired already, which only happens after use
  if (num(next.next_token_id) !== null) return true;
  return q.get('SELECT 1 AS x FROM access_tokens WHERE refresh_token_id = ? AND used = 1', [nextId]) !== undefined;
}

/** Retires the refresh token(s) that `refreshTokenId` replaced and their access tokens. */
function retirePredecessors(w: SqlWriter, refreshTokenId: number): number[] {
  const olds = w.all('SELECT id FROM refresh_tokens WHERE next_token_id = ?', [refreshTokenId]).map((r) => Number(r.id));
  const revoked: number[] = [];
  for (const oldId of olds) {
    for (const r of w.all('SELECT id FROM access_tokens WHERE refresh_token_id = ?', [oldId])) revoked.push(Number(r.id));
    w.run('DELETE FROM access_tokens WHERE refresh_token_id = ?', [oldId]);
    w.run('DELETE FROM refresh_tokens WHERE id = ?', [oldId]);
  }
  return revoked;
}
