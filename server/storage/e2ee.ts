/**
 * Storage of end-to-end encryption data (client-server keys.yaml, cross_signing.yaml,
 * key_backup.yaml, to_device.yaml): device keys, one-time and fallback keys, cross-signing keys
 * and signatures, the device-list stream, to-device inboxes and server-side key backups.
 * Domain operations only; each write is one atomic transaction, and every write that sync must
 * see is stamped with a stream position (storage/stream.ts) inside that transaction.
 * Protocol decisions (which backup key is better, what is valid) belong to services/e2ee/.
 */

export type JsonObject = Record<string, unknown>;

export type CrossSigningKeyType = 'master' | 'self_signing' | 'user_signing';

/** One one-time or fallback key: `algorithm:key_id` split, and its value (string or signed object). */
export interface UploadedKey {
  algorithm: string;
  keyId: string;
  key: unknown;
}

export interface KeyUpload {
  userId: string;
  deviceId: string;
  /** The device_keys object as uploaded; undefined when not part of this upload. */
  deviceKeys?: JsonObject;
  oneTimeKeys: UploadedKey[];
  fallbackKeys: UploadedKey[];
}

/** Thrown (rolling the upload back) when a one-time key id is reused with different content. */
export class OneTimeKeyConflictError extends Error {
  constructor(readonly keyId: string) {
    super(`one-time key ${keyId} already exists with different content`);
    this.name = 'OneTimeKeyConflictError';
  }
}

export interface ClaimRequest {
  userId: string;
  deviceId: string;
  algorithm: string;
}

export interface ClaimedKey extends ClaimRequest {
  keyId: string;
  key: unknown;
}

export interface StoredSignature {
  signerUserId: string;
  signerKeyId: string;
  signature: string;
}

export interface NewSignature extends StoredSignature {
  targetUserId: string;
  /** A device id, or a master key's public key. */
  targetKeyId: string;
}

export type DeviceListChangeKind = 'keys' | 'join' | 'leave';

export interface DeviceListChange {
  position: number;
  userId: string;
  roomId: string | null;
  kind: DeviceListChangeKind;
}

export interface ToDeviceMessage {
  userId: string;
  deviceId: string;
  content: JsonObject;
}

export interface RemoteToDeviceMessage extends ToDeviceMessage {
  destination: string;
  messageId: string;
}

export interface ToDeviceSend {
  sender: string;
  senderDeviceId: string;
  txnId: string;
  eventType: string;
  local: ToDeviceMessage[];
  remote: RemoteToDeviceMessage[];
}

export interface InboxMessage {
  position: number;
  sender: string;
  type: string;
  content: JsonObject;
}

export interface BackupVersion {
  version: string;
  algorithm: string;
  authData: JsonObject;
  etag: string;
  count: number;
}

export interface BackupKeyData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: JsonObject;
}

export interface BackupKey {
  roomId: string;
  sessionId: string;
  data: BackupKeyData;
}

/** Why a backup key write did not happen. */
export type BackupWriteResult =
  | { ok: true; etag: string; count: number }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'wrong_version'; currentVersion: string | null };

/** A remote user's device list as cached here (migration 0017). */
export interface RemoteDeviceList {
  userId: string;
  /** The remote's device-list stream_id this list is at (null: unknown, e.g. from /user/keys/query). */
  streamId: number | null;
  /** A gap in the updates was seen: fetch again before serving. */
  stale: boolean;
  /** device_id → device_keys object ({} for a device without keys), unsigned.device_display_name set. */
  devices: Record<string, JsonObject>;
  masterKey?: JsonObject;
  selfSigningKey?: JsonObject;
}

export interface E2eeStore {
  // ---- device keys, one-time and fallback keys ----
  /** Stores the upload atomically. Returns the device-list stream position when the device keys
   * changed (null otherwise) and the device's unclaimed one-time key counts afterwards.
   * Throws OneTimeKeyConflictError (nothing stored) on a one-time key id clash. */
  uploadKeys(u: KeyUpload): Promise<{ position: number | null; oneTimeKeyCounts: Record<string, number> }>;
  /** Device keys of a user (all devices when deviceIds is undefined), by device id. */
  deviceKeys(userId: string, deviceIds?: readonly string[]): Map<string, JsonObject>;
  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number>;
  unusedFallbackKeyTypes(userId: string, deviceId: string): string[];
  /** Claims, per request, the oldest one-time key, else the fallback key (marked used). */
  claimKeys(requests: readonly ClaimRequest[]): Promise<ClaimedKey[]>;
  /** Device ids of the user that have anything stored here (keys, one-time keys, inbox). */
  devicesWithData(userId: string): string[];
  /** Removes everything stored for a device (keys, inbox, txn ids); records a device-list change
   * for the user and returns its position. */
  deleteDevice(userId: string, deviceId: string): Promise<number>;

  // ---- cross-signing ----
  crossSigningKeys(userId: string): Partial<Record<CrossSigningKeyType, JsonObject>>;
  /** Replaces the given keys and records a device-list change; returns its position. */
  setCrossSigningKeys(userId: string, keys: Partial<Record<CrossSigningKeyType, { publicKey: string; json: JsonObject }>>): Promise<number>;
  signatures(targetUserId: string, targetKeyId: string): StoredSignature[];
  /** Stores signatures and records a device-list change for each target user; returns the
   * position (null when the list is empty). */
  addSignatures(signatures: readonly NewSignature[]): Promise<number | null>;

  // ---- device-list stream ----
  /** Records a change of the user's devices or keys; returns its position. */
  recordKeysChange(userId: string): Promise<number>;
  /** Records a membership change that may make users start or stop sharing rooms. Returns null
   * (nothing recorded) when it repeats the last recorded kind for this user and room. */
  recordMembershipChange(userId: string, roomId: string, kind: 'join' | 'leave'): Promise<number | null>;
  /** Changes with positions in (since, upTo], oldest first. */
  deviceListChanges(since: number, upTo: number): DeviceListChange[];

  // ---- remote users' device lists (a cache; services/e2ee/device-keys.ts decides) ----
  remoteDeviceList(userId: string): RemoteDeviceList | undefined;
  /** Users whose device lists are cached (only those of `among` when given). */
  remoteDeviceListUsers(among?: readonly string[]): string[];
  /** Stores (replaces) a user's cached list. */
  putRemoteDeviceList(list: RemoteDeviceList): Promise<void>;
  /** Marks a cached list stale (no-op when none is cached). */
  markRemoteDeviceListStale(userId: string): Promise<void>;
  dropRemoteDeviceLists(userIds: readonly string[]): Promise<void>;

  // ---- to-device ----
  /** Stores one send. Returns its position, or null when the device already used this txn id. */
  sendToDevice(s: ToDeviceSend): Promise<number | null>;
  /** Deletes what the client acknowledged with `since`, then returns up to `limit` messages with
   * positions ≤ upTo, oldest first. */
  takeToDevice(userId: string, deviceId: string, since: number | null, upTo: number, limit: number): Promise<InboxMessage[]>;

  // ---- key backup ----
  createBackup(userId: string, algorithm: string, authData: JsonObject): Promise<string>;
  /** A live backup version, or the newest live one when version is undefined. */
  backup(userId: string, version?: string): BackupVersion | undefined;
  /** Replaces auth_data; false when the version does not exist (or was deleted). */
  updateBackup(userId: string, version: string, authData: JsonObject): Promise<boolean>;
  /** Deletes a version and its keys; false when it never existed. */
  deleteBackup(userId: string, version: string): Promise<boolean>;
  /** Stores keys into the current version. `prefer(existing, incoming)` decides, inside the
   * transaction, whether an incoming key replaces an existing one. */
  putBackupKeys(
    userId: string,
    version: string,
    keys: readonly BackupKey[],
    prefer: (existing: BackupKeyData, incoming: BackupKeyData) => boolean,
  ): Promise<BackupWriteResult>;
  /** Keys of a live version (optionally one room, one session); undefined when no such version. */
  backupKeys(userId: string, version: string, roomId?: string, sessionId?: string): BackupKey[] | undefined;
  deleteBackupKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<BackupWriteResult>;
}
