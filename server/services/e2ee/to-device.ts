/**
 * Send-to-device messaging (spec: client-server to_device.yaml; module "Send-to-Device
 * messaging", "Server behaviour"): messages for local devices wait in an inbox until the
 * device's next sync token passes them. Implements sync's ToDeviceSource. Messages for remote
 * users go to an outbox that the federation sender drains as m.direct_to_device EDUs (woken by the
 * bus event `toDeviceSent`).
 */
import { randomUUID } from 'node:crypto';
import { userIdServerName } from '../../core/ids.ts';
import type { JsonObject, RemoteToDeviceMessage, ToDeviceMessage } from '../../storage/e2ee.ts';
import type { BasicEvent, SyncWindow, ToDeviceSource } from '../sync/sources.ts';
import type { E2eeDeps } from './device-keys.ts';

export class ToDeviceService implements ToDeviceSource {
  constructor(private readonly deps: E2eeDeps) {}

  /** PUT /sendToDevice/{eventType}/{txnId}: idempotent per sending device and txnId. */
  async send(
    requester: { userId: string; deviceId: string },
    eventType: string,
    txnId: string,
    messages: Record<string, Record<string, JsonObject>>,
  ): Promise<void> {
    const local: ToDeviceMessage[] = [];
    const remote: RemoteToDeviceMessage[] = [];
    for (const [userId, byDevice] of Object.entries(messages)) {
      const server = userIdServerName(userId);
      if (server === undefined) continue;
      if (server !== this.deps.serverName) {
        for (const [deviceId, content] of Object.entries(byDevice)) {
          remote.push({ userId, deviceId, content, destination: server, messageId: randomUUID() });
        }
        continue;
      }
      // `*` means every device of the user; named devices that do not exist are dropped (they
      // could never collect the message).
      const known = new Set(this.deps.devices.listDevices(userId).map((d) => d.deviceId));
      const targets = new Map<string, JsonObject>();
      for (const [deviceId, content] of Object.entries(byDevice)) {
        if (deviceId === '*') {
          for (const d of known) if (!targets.has(d)) targets.set(d, content);
        } else if (known.has(deviceId)) {
          targets.set(deviceId, content);
        }
      }
      for (const [deviceId, content] of targets) local.push({ userId, deviceId, content });
    }
    const position = await this.deps.store.sendToDevice({
      sender: requester.userId,
      senderDeviceId: requester.deviceId,
      txnId,
      eventType,
      local,
      remote,
    });
    if (position !== null) this.deps.notifier.notify(position, new Set(local.map((m) => m.userId)));
    // Also for a retried txnId: it wakes the federation queues for what may still be waiting.
    this.deps.bus.publish('toDeviceSent', { recipients: Object.keys(messages) });
  }

  async take(w: SyncWindow, limit: number): Promise<(BasicEvent & { sender: string })[]> {
    const messages = await this.deps.store.takeToDevice(w.userId, w.deviceId, w.since, w.upTo, limit);
    return messages.map((m) => ({ sender: m.sender, type: m.type, content: m.content }));
  }
}
