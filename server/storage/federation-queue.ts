/**
 * Storage of the federation sender (spec: server-server "Transactions", "PDUs", "EDUs"): the
 * durable per-destination outbox of local PDUs and persistent EDUs, the fan-out cursor over
 * the event stream, and each destination's health and backoff. Implemented by
 * sqljs/federation-queue.ts, migration 0014-federation-queue.sql. To-device messages for remote
 * users are queued by the e2ee store (e2ee_to_device_outbox); this store reads and deletes them.
 */

export interface DestinationRecord {
  destination: string;
  lastSuccessTs: number | null;
  lastFailureTs: number | null;
  lastFailureReason: string | null;
  /** When the last failed attempt was made (0 when up). */
  retryLastTs: number;
  /** Backoff; 0 means the destination is up. */
  retryIntervalMs: number;
  /** Consecutive failures. */
  failureCount: number;
  /** Stream position of the newest PDU the destination accepted. */
  lastSuccessfulPos: number | null;
}

/** A local event as the fan-out reads it from the event stream. */
export interface LocalEventRef {
  position: number;
  eventId: string;
  roomId: string;
}

export interface QueuedPdu extends LocalEventRef {
  destination: string;
}

export interface QueuedEdu {
  id: number;
  eduType: string;
  content: Record<string, unknown>;
}

export interface NewEdu {
  destination: string;
  eduType: string;
  content: Record<string, unknown>;
  /** Replaces an unsent EDU of the same destination and key (e.g. `receipt room user`). */
  coalesceKey?: string;
}

/** One to-device message from e2ee_to_device_outbox. */
export interface QueuedToDevice {
  position: number;
  sender: string;
  userId: string;
  deviceId: string;
  eventType: string;
  content: Record<string, unknown>;
  messageId: string;
}

/** What one accepted transaction carried, to be removed from the outbox. */
export interface SentItems {
  pduPositions: number[];
  eduIds: number[];
  toDevice: { position: number; userId: string; deviceId: string }[];
}

export interface QueueCounts {
  pdus: number;
  edus: number;
  toDevice: number;
}

export interface FederationQueueStore {
  // ---- fan-out ------------------------------------------------------------------------------
  /** Every local event at or below this position has been fanned out. */
  dispatchedPosition(): number;
  /** Events sent by users of `serverName` after `after`, oldest first. */
  localEventsAfter(serverName: string, after: number, limit: number): LocalEventRef[];
  /** Adds outbox rows and advances the fan-out cursor, in one write. */
  enqueuePdus(rows: readonly QueuedPdu[], dispatchedUpTo: number): Promise<void>;
  enqueueEdus(rows: readonly NewEdu[]): Promise<void>;

  // ---- one destination's queue --------------------------------------------------------------
  /** Oldest first. */
  pendingPdus(destination: string, limit: number): QueuedPdu[];
  pendingEdus(destination: string, limit: number): QueuedEdu[];
  pendingToDevice(destination: string, limit: number): QueuedToDevice[];
  counts(destination: string): QueueCounts;
  /** Destinations with anything queued. */
  destinationsWithPending(): string[];
  /**
   * Catch-up after a long outage (Synapse's "catch-up" mode): keeps only the newest queued PDU of
   * each room (the receiver fetches the gap with get_missing_events). Returns the rows dropped.
   */
  collapseToLatestPerRoom(destination: string): Promise<number>;

  // ---- health -------------------------------------------------------------------------------
  /** Deletes what the transaction carried and records the success (backoff reset), in one write. */
  transactionSucceeded(destination: string, sent: SentItems, now: number): Promise<void>;
  recordFailure(destination: string, now: number, reason: string, retryIntervalMs: number): Promise<void>;
  /** "Retry now": clears the backoff; the failure count stays until a success (it marks the
   * destination as catching up). */
  resetBackoff(destination: string): Promise<void>;
  destination(destination: string): DestinationRecord | undefined;
  /** Known destinations ordered by name, with total count. */
  listDestinations(opts: { from: number; limit: number; orderBy?: 'destination' | 'retry_last_ts' | 'last_success_ts'; dir?: 'f' | 'b'; search?: string }): {
    destinations: DestinationRecord[];
    total: number;
  };

  /** Rooms where the destination has joined members, with each room's latest stream position
   * (Synapse's destination_rooms), ordered by room id. */
  roomsWithServer(destination: string, opts: { from: number; limit: number }): { rooms: { roomId: string; streamOrdering: number }[]; total: number };

  // ---- device lists -------------------------------------------------------------------------
  /** What was last announced for a local user's devices (undefined: nothing yet). */
  announcedDeviceList(userId: string): AnnouncedDeviceList | undefined;
  /** Queues device list EDUs and records what they announce, in one write. */
  enqueueDeviceListUpdate(userId: string, announced: AnnouncedDeviceList, rows: readonly NewEdu[]): Promise<void>;
}

export interface AnnouncedDeviceList {
  /** The last m.device_list_update stream_id (the next update's prev_id). */
  lastStreamId: number;
  deviceIds: string[];
  /** Canonical JSON of the cross-signing keys last sent in m.signing_key_update ('' if none). */
  signingKeys: string;
}
