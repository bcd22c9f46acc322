/**
 * Storage of the personal and ephemeral-but-persisted data /sync reports besides room events:
 * stored filters (filter.yaml), account data and room tags (account-data.yaml, tags.yaml),
 * receipts and read markers (receipts.yaml, read_markers.yaml), presence (presence.yaml), and the
 * profile fields behind profile.yaml and users.yaml. Each write that sync reports allocates one
 * stream position and returns it, so the caller can announce it once the write is durable.
 * Implemented by sqljs/sync-data.ts.
 */

export interface AccountDataRow {
  /** null for global account data. */
  roomId: string | null;
  type: string;
  content: Record<string, unknown>;
  position: number;
}

export interface ReceiptRow {
  roomId: string;
  userId: string;
  receiptType: string;
  /** null for an unthreaded receipt. */
  threadId: string | null;
  eventId: string;
  ts: number;
  position: number;
}

export type PresenceState = 'online' | 'unavailable' | 'offline';

export interface PresenceRow {
  userId: string;
  presence: PresenceState;
  statusMsg: string | null;
  lastActiveTs: number;
  position: number;
}

export interface ProfileRecord {
  displayname: string | null;
  avatar_url: string | null;
  /** Other fields (m.tz, custom namespaced keys), values as stored JSON. */
  fields: Record<string, unknown>;
}

export interface DirectoryEntry {
  userId: string;
  displayname: string | null;
  avatarUrl: string | null;
}

export interface SyncDataStore {
  // Filters.
  createFilter(userId: string, filterJson: string): Promise<string>;
  getFilter(userId: string, filterId: string): string | undefined;

  // Account data ('' never reaches callers: roomId null means global).
  getAccountData(userId: string, roomId: string | null, type: string): Record<string, unknown> | undefined;
  /** Sets (replacing) one account data entry; resolves with its new stream position once durable. */
  putAccountData(userId: string, roomId: string | null, type: string, content: Record<string, unknown>): Promise<number>;
  /** Read-modify-write of one entry inside a single write (tags); `update` must be synchronous.
   * Returns the new position, or null when update returned null (nothing written). */
  updateAccountData(
    userId: string,
    roomId: string | null,
    type: string,
    update: (current: Record<string, unknown> | undefined) => Record<string, unknown> | null,
  ): Promise<number | null>;
  /** Entries with positions in (since, upTo] (all up to upTo when since is null). */
  accountDataChanges(userId: string, since: number | null, upTo: number): AccountDataRow[];

  // Receipts.
  /** Stores a receipt unless it is identical to the current one; resolves with the position (null if unchanged). */
  putReceipt(r: Omit<ReceiptRow, 'position'>): Promise<number | null>;
  /** Receipts in these rooms with positions in (since, upTo]. */
  receiptChanges(roomIds: readonly string[], since: number | null, upTo: number): ReceiptRow[];
  /** The user's receipts in a room (for notification counts). */
  userReceipts(userId: string, roomId: string): ReceiptRow[];

  // Presence.
  getPresence(userId: string): PresenceRow | undefined;
  setPresence(userId: string, p: { presence: PresenceState; statusMsg: string | null; lastActiveTs: number }): Promise<number>;
  /** Presence rows changed in (since, upTo] (all when since is null), of the given users only when userIds is set. */
  presenceChanges(since: number | null, upTo: number, userIds?: ReadonlySet<string>): PresenceRow[];

  // Profiles and local users (tables owned by the accounts area; read and profile columns updated here).
  userExists(userId: string): boolean;
  getProfile(userId: string): ProfileRecord | undefined;
  /** Sets (value defined) or removes (undefined) one field; displayname/avatar_url set NULL when removed. */
  setProfileField(userId: string, field: string, value: unknown): Promise<void>;
  /** Local users whose user id or display name contains `term` (case-insensitive), at most `max`. */
  searchProfiles(term: string, max: number): DirectoryEntry[];
  /** Users joined to a room whose join rule is `public` or history visibility `world_readable`
   * (read from the rooms area's current_state, events and room_members tables). */
  usersInPublicRooms(): Set<string>;
  /** Rooms with at least one event at a position in (since, upTo] (rooms area's events table):
   * lets incremental /sync skip rooms where nothing happened. */
  roomsWithEventsBetween(since: number, upTo: number): Set<string>;
}
