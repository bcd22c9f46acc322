/**
 * Storage for the Synapse-compatible admin API (Synapse docs admin_api/*.md): the user listing
 * with its filters and orderings, blocked and purged rooms, room deletion tasks, erased users and
 * server notice rooms. Accounts and rooms themselves stay in storage/users.ts and storage/rooms.ts;
 * only `purgeRoom` reaches into the rooms tables, as Synapse's purge does. Implemented by
 * sqljs/admin.ts over migration 0011-admin.sql.
 */

/** One row of `GET /_synapse/admin/v2/users`, before it is shaped. */
export interface AdminUserRow {
  userId: string;
  isAdmin: boolean;
  isGuest: boolean;
  deactivated: boolean;
  erased: boolean;
  userType: string | null;
  displayname: string | null;
  avatarUrl: string | null;
  /** Milliseconds since the epoch. */
  createdTs: number;
  /** Latest last-seen time of the user's devices (ms), null if never seen. */
  lastSeenTs: number | null;
}

export const USER_ORDERS = [
  'name',
  'is_guest',
  'admin',
  'user_type',
  'deactivated',
  'shadow_banned',
  'displayname',
  'avatar_url',
  'creation_ts',
  'last_seen_ts',
] as const;
export type UserOrder = (typeof USER_ORDERS)[number];

export interface AdminListUsersOptions {
  from: number;
  limit: number;
  /** Substring of the user id. */
  userId?: string;
  /** Substring of the user id or the displayname (case-insensitive). */
  name?: string;
  includeGuests: boolean;
  includeDeactivated: boolean;
  /** true: admins only; false: no admins; undefined: both. */
  admins?: boolean;
  /** User types to leave out; '' stands for users without a type. */
  notUserTypes?: string[];
  orderBy: UserOrder;
  dir: 'f' | 'b';
}

export type RoomDeletionStatus = 'scheduled' | 'active' | 'complete' | 'failed';

/** Synapse's `shutdown_room` object. */
export interface ShutdownRoomResult {
  kicked_users: string[];
  failed_to_kick_users: string[];
  local_aliases: string[];
  new_room_id: string | null;
}

export interface RoomDeletion {
  deleteId: string;
  roomId: string;
  status: RoomDeletionStatus;
  error: string | null;
  shutdownRoom: ShutdownRoomResult;
  createdTs: number;
}

export interface AdminStore {
  // ---- users ----
  listUsers(opts: AdminListUsersOptions): { users: AdminUserRow[]; total: number };
  getUserRow(userId: string): AdminUserRow | undefined;
  markErased(userId: string): Promise<void>;

  // ---- rooms ----
  /** Every room this server has stored, oldest first. */
  roomIds(): string[];
  roomBlock(roomId: string): { userId: string } | undefined;
  /** Blocks (userId set) or unblocks (null) a room. */
  setRoomBlock(roomId: string, userId: string | null, now: number): Promise<void>;
  /** Blocked or purged: local users may not enter. */
  isRoomClosed(roomId: string): boolean;
  /** Removes every trace of the room (events, state, memberships, aliases, indexes) and records
   * it as purged, in one transaction. */
  purgeRoom(roomId: string, now: number): Promise<void>;

  // ---- room deletion tasks ----
  putRoomDeletion(d: RoomDeletion): Promise<void>;
  roomDeletion(deleteId: string): RoomDeletion | undefined;
  roomDeletionsOf(roomId: string): RoomDeletion[];
  /** Tasks a restart interrupted are marked failed. */
  failUnfinishedRoomDeletions(error: string): Promise<void>;

  // ---- server notices ----
  serverNoticeRoom(userId: string): string | undefined;
  setServerNoticeRoom(userId: string, roomId: string): Promise<void>;
}
