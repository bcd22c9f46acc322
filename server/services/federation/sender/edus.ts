/**
 * The EDUs this server sends (spec: server-server "Typing Notifications", "Receipts",
 * "Presence", "Device Management" (m.device_list_update, m.signing_key_update), "Send-to-device
 * messaging"): each local change becomes an EDU for the servers that should see it.
 * Typing and presence are ephemeral; receipts and device list updates go through the durable
 * outbox; to-device messages are already queued by the e2ee store, so they only wake the queue.
 */
import { canonicalJson } from '../../../core/json/canonical.ts';
import { userIdServerName } from '../../../core/ids.ts';
import type { FederationQueueStore, NewEdu } from '../../../storage/federation-queue.ts';
import type { FederationSender } from './sender.ts';
import { remoteServersOf } from '../room-servers.ts';

/** Keys of a local user as a remote server may see them (DeviceKeysService.query with a remote viewer). */
export interface LocalKeys {
  devices: { deviceId: string; displayName: string | null }[];
  deviceKeys: Record<string, Record<string, unknown>>;
  masterKey?: Record<string, unknown>;
  selfSigningKey?: Record<string, unknown>;
}

export interface EduDeps {
  serverName: string;
  sender: FederationSender;
  store: FederationQueueStore;
  usersSharingRoomsWith(userId: string): Set<string>;
  localKeys(userId: string): LocalKeys;
  sendPresence(): boolean;
}

/** Device list stream ids: several devices may change at one stream position, and a receiver
 * ignores an update whose stream_id is not above the last it saw, so each gets its own id. */
const DEVICES_PER_POSITION = 1000;

export class EduProducer {
  constructor(private readonly deps: EduDeps) {}

  /** The stream_id of the last m.device_list_update sent for a local user (0 before any). */
  deviceListStreamId(userId: string): number {
    return this.deps.store.announcedDeviceList(userId)?.lastStreamId ?? 0;
  }

  private isLocal(userId: string): boolean {
    return userIdServerName(userId) === this.deps.serverName;
  }

  private serversSharingRoomsWith(userId: string): Set<string> {
    return remoteServersOf(this.deps.serverName, this.deps.usersSharingRoomsWith(userId));
  }

  typing(roomId: string, userId: string, typing: boolean): void {
    if (!this.isLocal(userId)) return;
    void this.deps.sender.sendEdu(
      this.deps.sender.serversInRoom(roomId),
      { edu_type: 'm.typing', content: { room_id: roomId, user_id: userId, typing } },
      { ephemeralKey: `typing\u0000${roomId}\u0000${userId}` },
    );
  }

  /** A public m.read receipt (private ones never leave the server). */
  receipt(r: { roomId: string; userId: string; eventId: string; ts: number; threadId: string | null }): Promise<void> {
    if (!this.isLocal(r.userId)) return Promise.resolve();
    const data: Record<string, unknown> = { ts: r.ts };
    if (r.threadId !== null) data.thread_id = r.threadId;
    return this.deps.sender.sendEdu(
      this.deps.sender.serversInRoom(r.roomId),
      { edu_type: 'm.receipt', content: { [r.roomId]: { 'm.read': { [r.userId]: { event_ids: [r.eventId], data } } } } },
      { coalesceKey: `receipt\u0000${r.roomId}\u0000${r.userId}\u0000${r.threadId ?? ''}` },
    );
  }

  /** Only with the setting federationSendPresence (presence is chatty; Synapse's use_presence). */
  presence(userId: string, content: { presence: string; last_active_ago?: number; status_msg?: string | null; currently_active?: boolean }): void {
    if (!this.deps.sendPresence() || !this.isLocal(userId)) return;
    void this.deps.sender.sendEdu(
      this.serversSharingRoomsWith(userId),
      { edu_type: 'm.presence', content: { push: [{ user_id: userId, ...content }] } },
      { ephemeralKey: `presence\u0000${userId}` },
    );
  }

  /** To-device messages for remote users were queued by the e2ee store. */
  toDevice(destinations: Iterable<string>): void {
    this.deps.sender.wake(destinations);
  }

  /**
   * bus `deviceListChanged` for a local user: an m.device_list_update per device (the changed one
   * is not named, so all are sent, and devices gone since the last announcement as deleted), and
   * an m.signing_key_update when the cross-signing keys changed.
   */
  async deviceListChanged(userId: string, position: number): Promise<void> {
    if (!this.isLocal(userId)) return;
    const servers = this.serversSharingRoomsWith(userId);
    if (servers.size === 0) return;
    const { store } = this.deps;
    const prev = store.announcedDeviceList(userId);
    const keys = this.deps.localKeys(userId);
    const current = keys.devices.map((d) => d.deviceId);
    const deleted = (prev?.deviceIds ?? []).filter((d) => !current.includes(d));
    const updates: Record<string, unknown>[] = [];
    let last = prev?.lastStreamId ?? null;
    let i = 0;
    const push = (content: Record<string, unknown>): void => {
      const streamId = position * DEVICES_PER_POSITION + i++;
      if (last !== null && streamId <= last) return;
      updates.push({ user_id: userId, ...content, stream_id: streamId, prev_id: last === null ? [] : [last] });
      last = streamId;
    };
    for (const d of keys.devices) {
      const content: Record<string, unknown> = { device_id: d.deviceId };
      if (d.displayName) content.device_display_name = d.displayName;
      const k = keys.deviceKeys[d.deviceId];
      if (k) content.keys = k;
      push(content);
    }
    for (const d of deleted) push({ device_id: d, deleted: true });
    const signing: Record<string, unknown> = {};
    if (keys.masterKey) signing.master_key = keys.masterKey;
    if (keys.selfSigningKey) signing.self_signing_key = keys.selfSigningKey;
    const signingJson = Object.keys(signing).length > 0 ? canonicalJson(signing) : '';
    const rows: NewEdu[] = [];
    for (const destination of servers) {
      for (const u of updates) rows.push({ destination, eduType: 'm.device_list_update', content: u });
      if (signingJson !== (prev?.signingKeys ?? '') && signingJson !== '') {
        rows.push({ destination, eduType: 'm.signing_key_update', content: { user_id: userId, ...signing } });
      }
    }
    await store.enqueueDeviceListUpdate(userId, { lastStreamId: last ?? 0, deviceIds: current, signingKeys: signingJson }, rows);
    this.deps.sender.wake(servers);
  }
}
