/**
 * Server-side key backups (spec: client-server key_backup.yaml; end-to-end encryption module
 * "Server-side key backups"). Versions are per user; keys are written only to the current
 * (newest) version, and an existing key is replaced only by a better one.
 */
import { MatrixError, invalidParam, notFound } from '../../errors.ts';
import type { BackupKey, BackupKeyData, BackupWriteResult, E2eeStore, JsonObject } from '../../storage/e2ee.ts';

export type { BackupKey, BackupKeyData };

export interface BackupInfo {
  algorithm: string;
  auth_data: JsonObject;
  count: number;
  etag: string;
  version: string;
}

export type RoomKeyBackup = Record<string, { sessions: Record<string, BackupKeyData> }>;

/**
 * The replacement rule ("Server-side key backups"): prefer is_verified = true, then the lower
 * first_message_index, then the lower forwarded_count. True when `incoming` should replace.
 */
export function incomingIsBetter(existing: BackupKeyData, incoming: BackupKeyData): boolean {
  if (existing.is_verified !== incoming.is_verified) return incoming.is_verified;
  if (existing.first_message_index !== incoming.first_message_index) return incoming.first_message_index < existing.first_message_index;
  return incoming.forwarded_count < existing.forwarded_count;
}

const unknownVersion = (): MatrixError => notFound('Unknown backup version');

function unwrap(r: BackupWriteResult): { etag: string; count: number } {
  if (r.ok) return { etag: r.etag, count: r.count };
  if (r.reason === 'wrong_version') {
    throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version.', r.currentVersion ? { current_version: r.currentVersion } : {});
  }
  throw unknownVersion();
}

export class KeyBackupService {
  constructor(private readonly store: E2eeStore) {}

  async create(userId: string, algorithm: string, authData: JsonObject): Promise<{ version: string }> {
    return { version: await this.store.createBackup(userId, algorithm, authData) };
  }

  /** The given version, or the newest when version is undefined. */
  info(userId: string, version?: string): BackupInfo {
    const b = this.store.backup(userId, version);
    if (!b) throw version === undefined ? notFound('No current backup version') : unknownVersion();
    return { algorithm: b.algorithm, auth_data: b.authData, count: b.count, etag: b.etag, version: b.version };
  }

  async update(userId: string, version: string, body: { algorithm: string; auth_data: JsonObject; version?: string }): Promise<void> {
    if (body.version !== undefined && body.version !== version) throw invalidParam('version in the body does not match the path');
    const b = this.store.backup(userId, version);
    if (!b) throw unknownVersion();
    if (b.algorithm !== body.algorithm) throw invalidParam('Algorithm does not match');
    if (!(await this.store.updateBackup(userId, version, body.auth_data))) throw unknownVersion();
  }

  async delete(userId: string, version: string): Promise<void> {
    // A version deleted before still succeeds (key_backup.yaml DELETE 200); only never-existing is 404.
    if (!(await this.store.deleteBackup(userId, version))) throw unknownVersion();
  }

  async putKeys(userId: string, version: string, keys: BackupKey[]): Promise<{ etag: string; count: number }> {
    return unwrap(await this.store.putBackupKeys(userId, version, keys, incomingIsBetter));
  }

  getKeys(userId: string, version: string, roomId?: string): RoomKeyBackup {
    const keys = this.store.backupKeys(userId, version, roomId);
    if (keys === undefined) throw unknownVersion();
    const rooms: RoomKeyBackup = {};
    for (const k of keys) (rooms[k.roomId] ??= { sessions: {} }).sessions[k.sessionId] = k.data;
    return rooms;
  }

  getKey(userId: string, version: string, roomId: string, sessionId: string): BackupKeyData {
    const keys = this.store.backupKeys(userId, version, roomId, sessionId);
    if (keys === undefined) throw unknownVersion();
    if (keys.length === 0) throw notFound('Key not found.');
    return keys[0]!.data;
  }

  async deleteKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<{ etag: string; count: number }> {
    return unwrap(await this.store.deleteBackupKeys(userId, version, roomId, sessionId));
  }
}
