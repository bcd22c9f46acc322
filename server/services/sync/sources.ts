/**
 * What /sync gathers from services other than rooms. Each source reads the items it stores with
 * stream positions in (since, upTo] (since = null for an initial sync). Implemented by the
 * services named on each member and wired in homeserver.ts; sync.ts calls them.
 */

export interface BasicEvent {
  type: string;
  content: Record<string, unknown>;
}

export interface SyncWindow {
  userId: string;
  deviceId: string;
  /** null for an initial (or full_state) sync. */
  since: number | null;
  upTo: number;
}

export interface AccountDataSource {
  /** services/sync/account-data.ts: global and per-room account data changed in the window. */
  changes(w: SyncWindow): { global: BasicEvent[]; rooms: Map<string, BasicEvent[]> };
}

export interface ReceiptsSource {
  /** services/sync/receipts.ts: one `m.receipt` event per room with receipts changed in the window
   * (private `m.read.private` receipts only for their owner). */
  changes(w: SyncWindow, roomIds: readonly string[]): Map<string, BasicEvent>;
}

export interface TypingSource {
  /** services/sync/typing.ts: current `m.typing` event of each room whose typing set changed
   * after the given typing serial (all rooms with typers when sinceSerial is null). */
  changes(roomIds: readonly string[], sinceSerial: number | null): Map<string, BasicEvent>;
}

export interface PresenceSource {
  /** services/sync/presence.ts: `m.presence` events of users sharing a room with the user, changed in the window. */
  changes(w: SyncWindow): (BasicEvent & { sender: string })[];
}

export interface ToDeviceSource {
  /** services/e2ee/to-device.ts: messages for this device up to upTo, oldest first (max `limit`);
   * messages at or before `since` are deleted first (the client acknowledged them by sending the token). */
  take(w: SyncWindow, limit: number): Promise<(BasicEvent & { sender: string })[]>;
}

export interface DeviceListSource {
  /** services/e2ee/device-keys.ts: users whose devices/keys changed in the window and who share
   * a room with the user (`changed`), and users who no longer share any room (`left`). */
  changes(w: SyncWindow): { changed: string[]; left: string[] };
  /** Counts of unclaimed one-time keys by algorithm, and unused fallback key types. */
  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number>;
  unusedFallbackKeyTypes(userId: string, deviceId: string): string[];
}

export interface UnreadCountsSource {
  /** services/push/counts.ts: notification and highlight counts since the user's read receipt,
   * plus per-thread counts; only notifications up to `upTo`, the sync's durable bound
   * ("durable before announced": an event still being written is not counted yet). */
  counts(userId: string, roomId: string, upTo: number): {
    notification_count: number;
    highlight_count: number;
    threads?: Record<string, { notification_count: number; highlight_count: number }>;
  };
}

export interface SyncSources {
  accountData: AccountDataSource;
  receipts: ReceiptsSource;
  typing: TypingSource;
  presence: PresenceSource;
  toDevice: ToDeviceSource;
  deviceLists: DeviceListSource;
  unreadCounts: UnreadCountsSource;
}
