/**
 * Storage interface for accounts and sessions: users (+ their initial profile row), devices,
 * access/refresh tokens (stored as SHA-256 digests) and registration tokens. Reads are synchronous
 * (in-memory state), writes resolve once durable. Each operation is one atomic transaction.
 * Implemented by storage/sqljs/users.ts; used by services/users/ and the Synapse admin API.
 */

export interface UserRecord {
  userId: string;
  passwordHash: string | null;
  isAdmin: boolean;
  isGuest: boolean;
  deactivated: boolean;
  createdTs: number;
  userType: string | null;
}

export interface DeviceRecord {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: number | null;
  lastSeenUserAgent: string | null;
  createdTs: number;
}

/** An access token row joined with the fields a request needs from its user. */
export interface AccessTokenRecord {
  id: number;
  userId: string;
  deviceId: string;
  expiresTs: number | null;
  refreshTokenId: number | null;
  used: boolean;
  isAdmin: boolean;
  deactivated: boolean;
}

export interface RefreshTokenRecord {
  id: number;
  userId: string;
  deviceId: string;
  nextTokenId: number | null;
}

export interface RegistrationTokenRecord {
  token: string;
  usesAllowed: number | null;
  pending: number;
  completed: number;
  expiryTime: number | null;
}

/** A new login session: a device (created or reused) and its tokens. */
export interface NewSession {
  deviceId: string;
  /** Display name for a device that does not exist yet; ignored when the device is reused. */
  initialDisplayName?: string | null;
  accessTokenHash: string;
  /** Present when the client asked for a refresh token. */
  refreshTokenHash?: string;
  /** Access token expiry (ms since epoch); null for non-expiring tokens. */
  expiresTs: number | null;
}

export interface IssuedSession {
  accessTokenId: number;
  refreshTokenId: number | null;
  /** True when the device already existed; its previous tokens were revoked. */
  deviceReused: boolean;
}

export interface NewUser {
  userId: string;
  passwordHash: string | null;
  isAdmin: boolean;
  userType: string | null;
  displayname: string | null;
  createdTs: number;
  /** Log the new user in within the same transaction. */
  session?: NewSession;
  /** A registration token this registration consumed: pending-1, completed+1. */
  consumeRegistrationToken?: string;
}

export type CreateUserResult = { ok: true; session: IssuedSession | null } | { ok: false; reason: 'user_in_use' };

/** Devices removed by an operation and the stream position their removal was recorded at. */
export interface DevicesRemoved {
  deviceIds: string[];
  /** Allocated in the same write when at least one device was removed; null otherwise. */
  streamPosition: number | null;
}

export interface LastSeen {
  userId: string;
  deviceId: string;
  ip: string;
  ts: number;
  userAgent: string | null;
}

export type RotateRefreshResult =
  | { ok: true; accessTokenId: number; refreshTokenId: number; revokedAccessTokenIds: number[] }
  /** The token is unknown, or already superseded by a pair that has been used. */
  | { ok: false };

export interface ListUsersOptions {
  from: number;
  limit: number;
  /** Substring of the user id (case-insensitive). */
  name?: string;
  deactivated?: boolean;
  admins?: boolean;
}

export interface UsersStore {
  // ---- users ----
  getUser(userId: string): UserRecord | undefined;
  /** Case-insensitive lookup, for logins typed with different capitalisation. */
  findUserIdIgnoringCase(userId: string): string | undefined;
  createUser(user: NewUser): Promise<CreateUserResult>;
  listUsers(opts: ListUsersOptions): { users: UserRecord[]; total: number };
  setAdmin(userId: string, isAdmin: boolean): Promise<boolean>;
  setUserType(userId: string, userType: string | null): Promise<boolean>;
  /** Sets the password hash; with `logoutExceptDevice` also removes every other device. */
  setPasswordHash(userId: string, passwordHash: string | null, logout?: { exceptDeviceId: string | null }): Promise<DevicesRemoved>;
  /** Marks the user deactivated, wipes the password and removes every device and token. */
  deactivateUser(userId: string): Promise<DevicesRemoved>;
  /** Reactivation (admin API): clears the flag; a password must be set separately. */
  reactivateUser(userId: string): Promise<boolean>;

  // ---- sessions ----
  /** Creates or reuses the device and stores the tokens; reusing a device revokes its tokens. */
  createSession(userId: string, session: NewSession, now: number): Promise<IssuedSession>;
  findAccessToken(tokenHash: string): AccessTokenRecord | undefined;
  findRefreshToken(tokenHash: string): RefreshTokenRecord | undefined;
  /** Whether a token of the pair that replaced `refreshTokenId` (its successor) has been used. */
  successorUsed(refreshTokenId: number): boolean;
  /**
   * First use of an access token: marks it used and, when it came from a refresh, retires the
   * refresh token it replaced together with that token's access tokens. Returns the ids of the
   * revoked access tokens.
   */
  markAccessTokenUsed(accessTokenId: number): Promise<number[]>;
  /**
   * Exchanges a refresh token for a new pair on the same device. If the old token already has a
   * successor that was never used, that unused pair is replaced (the client retried).
   */
  rotateRefreshToken(oldRefreshTokenId: number, next: { accessTokenHash: string; refreshTokenHash: string; expiresTs: number | null }, now: number): Promise<RotateRefreshResult>;

  // ---- devices ----
  listDevices(userId: string): DeviceRecord[];
  getDevice(userId: string, deviceId: string): DeviceRecord | undefined;
  /** Returns the stream position of the change, or null when the device does not exist. */
  setDeviceDisplayName(userId: string, deviceId: string, displayName: string | null): Promise<number | null>;
  /** Removes the devices (those that exist) with all their tokens. */
  deleteDevices(userId: string, deviceIds: string[]): Promise<DevicesRemoved>;
  /** Removes every device of the user except `exceptDeviceId`. */
  deleteAllDevices(userId: string, exceptDeviceId: string | null): Promise<DevicesRemoved>;
  /** Batched last-seen update (devices that no longer exist are skipped). */
  recordLastSeen(entries: LastSeen[]): Promise<void>;

  // ---- registration tokens ----
  getRegistrationToken(token: string): RegistrationTokenRecord | undefined;
  listRegistrationTokens(): RegistrationTokenRecord[];
  /** Inserts a token; false when it already exists. */
  createRegistrationToken(t: { token: string; usesAllowed: number | null; expiryTime: number | null }): Promise<boolean>;
  /** Updates the given fields; returns the new record, or undefined when the token is unknown. */
  updateRegistrationToken(token: string, fields: { usesAllowed?: number | null; expiryTime?: number | null }): Promise<RegistrationTokenRecord | undefined>;
  deleteRegistrationToken(token: string): Promise<boolean>;
  /** Atomically checks validity at `now` and counts one pending use; false when not valid. */
  reserveRegistrationToken(token: string, now: number): Promise<boolean>;
  /** Gives back a pending use (the registration session ended without registering). */
  releaseRegistrationToken(token: string): Promise<void>;
  /** Pending uses belong to in-memory sessions, which a restart forgets. */
  resetPendingRegistrationTokens(): Promise<void>;
}

/** Synapse's validity rule: known, not expired, and pending + completed below uses_allowed. */
export function registrationTokenValid(t: RegistrationTokenRecord | undefined, now: number): boolean {
  if (!t) return false;
  if (t.expiryTime !== null && t.expiryTime <= now) return false;
  if (t.usesAllowed !== null && t.pending + t.completed >= t.usesAllowed) return false;
  return true;
}
