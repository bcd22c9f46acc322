/**
 * Device management (spec: client-server device_management.yaml). Deleting a device revokes its
 * tokens and announces `deviceListChanged` with the stream position allocated in the same write;
 * E2EE key removal listens to that. Listings overlay last-seen data not yet written.
 */
import type { Bus } from '../bus.ts';
import type { DeviceRecord, UsersStore } from '../../storage/users.ts';
import type { TokenService } from './tokens.ts';

/** The spec's Device object (definitions/client_device.yaml). */
export interface ClientDevice {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

export interface DeviceServiceOptions {
  store: UsersStore;
  tokens: TokenService;
  bus: Bus;
}

export class DeviceService {
  constructor(private readonly o: DeviceServiceOptions) {}

  list(userId: string): ClientDevice[] {
    return this.o.store.listDevices(userId).map((d) => this.toClient(d));
  }

  get(userId: string, deviceId: string): ClientDevice | undefined {
    const d = this.o.store.getDevice(userId, deviceId);
    return d ? this.toClient(d) : undefined;
  }

  /** Raw records (admin API). */
  records(userId: string): DeviceRecord[] {
    return this.o.store.listDevices(userId);
  }

  /** Renames a device; false when it does not exist. The name is part of the device list other
   * users see, so the change is announced. */
  async rename(userId: string, deviceId: string, displayName: string | null): Promise<boolean> {
    const pos = await this.o.store.setDeviceDisplayName(userId, deviceId, displayName);
    if (pos === null) return false;
    this.o.bus.publish('deviceListChanged', { userId, streamPosition: pos });
    return true;
  }

  /** Deletes devices (unknown ids are ignored, as Synapse does) and their tokens. */
  async delete(userId: string, deviceIds: string[]): Promise<string[]> {
    const write = this.o.store.deleteDevices(userId, deviceIds);
    this.o.tokens.invalidateDevices(userId, deviceIds);
    const r = await write;
    this.o.tokens.invalidateDevices(userId, deviceIds);
    if (r.streamPosition !== null) this.o.bus.publish('deviceListChanged', { userId, streamPosition: r.streamPosition });
    return r.deviceIds;
  }

  private toClient(d: DeviceRecord): ClientDevice {
    const out: ClientDevice = { device_id: d.deviceId };
    if (d.displayName !== null) out.display_name = d.displayName;
    const pending = this.o.tokens.pendingLastSeenFor(d.userId, d.deviceId);
    const ip = pending?.ip ?? d.lastSeenIp;
    const ts = pending?.ts ?? d.lastSeenTs;
    if (ip !== null) out.last_seen_ip = ip;
    if (ts !== null) out.last_seen_ts = ts;
    return out;
  }
}
