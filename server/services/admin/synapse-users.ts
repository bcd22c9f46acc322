/**
 * User administration behind Synapse's admin API (Synapse docs admin_api/user_admin_api.md):
 * listing, create-or-modify, deactivation (with erase), password reset, admin flag, sessions and
 * devices. Accounts change only through the accounts services, so tokens, devices and the bus
 * stay consistent; every admin-flag change drops the user's cached tokens.
 */
import { parseUserId } from '../../core/ids.ts';
import { MatrixError, notFound } from '../../errors.ts';
import type { AdminListUsersOptions, AdminStore, AdminUserRow } from '../../storage/admin.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { SyncDataStore } from '../../storage/sync-data.ts';
import type { DeviceRecord } from '../../storage/users.ts';
import type { ProfileService } from '../users/profile.ts';
import type { UserServices } from '../users/user-services.ts';
import { MAX_PASSWORD_LENGTH, normaliseLocalpart } from '../users/accounts.ts';

// The records and sort orders the admin API hands out (the API never imports storage).
export { USER_ORDERS, type AdminUserRow } from '../../storage/admin.ts';
export type { DeviceRecord } from '../../storage/users.ts';

/** Synapse's built-in user types (config `user_types` may add more there; not here). */
const USER_TYPES = ['bot', 'support'] as const;

export interface SynapseUsersDeps {
  users: UserServices;
  profile: ProfileService;
  /** Profile writes that must not touch member events (erasing a deactivated user). */
  profiles: Pick<SyncDataStore, 'setProfileField'>;
  admin: AdminStore;
  rooms: Pick<RoomsStore, 'roomsOfUser'>;
  serverName: string;
  now?: () => number;
}

/** The modifiable fields of `PUT /_synapse/admin/v2/users/{userId}`. */
export interface UserUpsert {
  password?: string;
  logoutDevices: boolean;
  displayname?: string;
  avatarUrl?: string;
  admin?: boolean;
  deactivated?: boolean;
  /** null clears the type; undefined leaves it. */
  userType?: string | null;
}

export class SynapseUsersAdmin {
  private readonly now: () => number;

  constructor(private readonly d: SynapseUsersDeps) {
    this.now = d.now ?? Date.now;
  }

  list(opts: AdminListUsersOptions): { users: AdminUserRow[]; total: number } {
    return this.d.admin.listUsers(opts);
  }

  /** The user row of an existing local user (400 for remote users, 404 for unknown ones). */
  get(userId: string): AdminUserRow {
    this.requireLocal(userId, 'Can only look up local users');
    const row = this.d.admin.getUserRow(userId);
    if (!row) throw notFound('User not found');
    return row;
  }

  /** Creates the user (true) or modifies it (false), as Synapse's PUT v2/users does. */
  async upsert(requesterId: string, userId: string, u: UserUpsert): Promise<{ created: boolean; user: AdminUserRow }> {
    this.requireLocal(userId, 'This endpoint can only be used with local users');
    if (u.password !== undefined && u.password.length > MAX_PASSWORD_LENGTH) throw new MatrixError(400, 'M_PASSWORD_TOO_LONG', 'Password too long');
    if (u.userType !== undefined && u.userType !== null && !(USER_TYPES as readonly string[]).includes(u.userType)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user type');
    }
    const existing = this.d.users.store.getUser(userId);
    if (!existing) {
      await this.create(userId, u);
      return { created: true, user: this.get(userId) };
    }
    if (u.admin === false && requesterId === userId && existing.isAdmin) throw new MatrixError(400, 'M_UNKNOWN', 'You may not demote yourself.');
    if (u.displayname !== undefined) await this.d.profile.setField(userId, userId, 'displayname', { displayname: u.displayname });
    if (u.avatarUrl !== undefined) await this.d.profile.setField(userId, userId, 'avatar_url', { avatar_url: u.avatarUrl });
    if (u.admin !== undefined && u.admin !== existing.isAdmin) await this.setAdmin(requesterId, userId, u.admin);
    if (u.userType !== undefined) await this.d.users.store.setUserType(userId, u.userType);
    if (u.deactivated === true && !existing.deactivated) {
      await this.d.users.accounts.deactivate(userId);
    } else {
      if (u.deactivated === false && existing.deactivated) {
        if (u.password === undefined) throw new MatrixError(400, 'M_UNKNOWN', 'Must provide a password to re-activate an account.');
        await this.d.users.store.reactivateUser(userId);
        this.d.users.tokens.invalidateUser(userId);
      }
      if (u.password !== undefined) await this.d.users.accounts.changePassword(userId, u.password, u.logoutDevices, null);
    }
    return { created: false, user: this.get(userId) };
  }

  private async create(userId: string, u: UserUpsert): Promise<void> {
    const localpart = parseUserId(userId)!.localpart;
    if (normaliseLocalpart(localpart, this.d.serverName) !== localpart) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID may not contain upper-case letters');
    }
    const r = await this.d.users.store.createUser({
      userId,
      passwordHash: u.password !== undefined ? await this.d.users.passwords.hash(u.password) : null,
      isAdmin: u.admin ?? false,
      userType: u.userType ?? null,
      displayname: u.displayname !== undefined && u.displayname !== '' ? u.displayname : localpart,
      createdTs: this.now(),
    });
    if (!r.ok) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
    if (u.avatarUrl !== undefined && u.avatarUrl !== '') await this.d.profiles.setProfileField(userId, 'avatar_url', u.avatarUrl);
    // An account created deactivated has no password and no sessions: just flag it.
    if (u.deactivated === true) await this.d.users.store.deactivateUser(userId);
  }

  /** Deactivates the account (its rooms are left through the bus); erasing also forgets the
   * profile and marks the user erased. */
  async deactivate(userId: string, erase: boolean): Promise<void> {
    this.requireLocal(userId, 'Can only deactivate local users');
    if (!this.d.users.store.getUser(userId)) throw notFound('User not found');
    await this.d.users.accounts.deactivate(userId);
    if (erase) {
      // Straight to the profile store: a profile-service write would re-send member events into
      // the rooms the user is leaving right now.
      await this.d.profiles.setProfileField(userId, 'displayname', undefined);
      await this.d.profiles.setProfileField(userId, 'avatar_url', undefined);
      await this.d.admin.markErased(userId);
    }
  }

  async resetPassword(userId: string, newPassword: string, logoutDevices: boolean): Promise<void> {
    this.requireLocal(userId, 'Can only change the password of local users');
    const user = this.d.users.store.getUser(userId);
    if (!user) throw notFound('User not found');
    if (user.deactivated) throw new MatrixError(400, 'M_UNKNOWN', 'The user is deactivated');
    await this.d.users.accounts.changePassword(userId, newPassword, logoutDevices, null);
  }

  isAdmin(userId: string): boolean {
    this.requireLocal(userId, 'Only local users can be admins of this homeserver');
    const user = this.d.users.store.getUser(userId);
    if (!user) throw notFound('User not found');
    return user.isAdmin;
  }

  async setAdmin(requesterId: string, userId: string, admin: boolean): Promise<void> {
    this.requireLocal(userId, 'Only local users can be admins of this homeserver');
    if (!this.d.users.store.getUser(userId)) throw notFound('User not found');
    if (!admin && requesterId === userId) throw new MatrixError(400, 'M_UNKNOWN', 'You may not demote yourself.');
    await this.d.users.store.setAdmin(userId, admin);
    // Requesters carry isAdmin from the token cache.
    this.d.users.tokens.invalidateUser(userId);
  }

  joinedRooms(userId: string): string[] {
    return this.d.rooms
      .roomsOfUser(userId)
      .filter((m) => m.membership === 'join')
      .map((m) => m.roomId);
  }

  usernameAvailable(username: string): { available: true } {
    return this.d.users.registration.available(username);
  }

  // ---- devices (last-seen data not yet flushed included) ----

  devices(userId: string): DeviceRecord[] {
    this.get(userId);
    return this.d.users.devices.records(userId).map((r) => this.withPendingLastSeen(r));
  }

  device(userId: string, deviceId: string): DeviceRecord {
    this.get(userId);
    const rec = this.d.users.store.getDevice(userId, deviceId);
    if (!rec) throw notFound('Device not found');
    return this.withPendingLastSeen(rec);
  }

  async renameDevice(userId: string, deviceId: string, displayName: string | undefined): Promise<void> {
    this.device(userId, deviceId);
    if (displayName !== undefined) await this.d.users.devices.rename(userId, deviceId, displayName);
  }

  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    this.get(userId);
    await this.d.users.devices.delete(userId, deviceIds);
  }

  private withPendingLastSeen(r: DeviceRecord): DeviceRecord {
    const p = this.d.users.tokens.pendingLastSeenFor(r.userId, r.deviceId);
    return p ? { ...r, lastSeenIp: p.ip, lastSeenTs: p.ts, lastSeenUserAgent: p.userAgent } : r;
  }

  private requireLocal(userId: string, message: string): void {
    const p = parseUserId(userId);
    if (!p) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    if (p.serverName !== this.d.serverName) throw new MatrixError(400, 'M_UNKNOWN', message);
  }
}
