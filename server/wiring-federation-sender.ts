/**
 * Wiring of the federation sender and destination health (part of the composition root): the
 * per-destination transaction queues, the EDUs our users cause, and the hooks that feed them.
 *
 * Other parts get the same objects with `await federationSending(ctx)` (memoised on the wiring
 * context, like federationTransport): the receiving side calls `sender.sendOnBehalfOf` for
 * membership events it accepts through send_join/send_leave/send_knock, the admin API reads and
 * resets `health`.
 *
 * Typing, receipts, presence and to-device sends reach the EDU producer as bus events, which the
 * services publish for local users' requests only: what the federation receiver stores for remote
 * users is never echoed back out.
 */
import { randomBytes } from 'node:crypto';
import type { WiringContext, WiringPart } from './wiring.ts';
import { federationTransport, fedPath } from './wiring-federation.ts';
import { redactEvent } from './core/events/redaction.ts';
import { federationWire } from './core/events/hashes.ts';
import { createSqlJsFederationQueue } from './storage/sqljs/federation-queue.ts';
import { DEFAULT_BACKOFF, DestinationHealthService } from './services/federation/destinations.ts';
import { FederationSender } from './services/federation/sender/sender.ts';
import type { TransactionResult } from './services/federation/sender/destination-queue.ts';
import { EduProducer } from './services/federation/sender/edus.ts';
import { remoteServersOf } from './services/federation/room-servers.ts';
import * as userKeysApi from './api/federation/user-keys.ts';

export interface FederationSending {
  sender: FederationSender;
  health: DestinationHealthService;
  edus: EduProducer;
}

const built = new WeakMap<WiringContext, Promise<FederationSending>>();

/** The sender of this homeserver, built on first use. */
export function federationSending(ctx: WiringContext): Promise<FederationSending> {
  let s = built.get(ctx);
  if (!s) {
    s = build(ctx);
    built.set(ctx, s);
  }
  return s;
}

async function build(ctx: WiringContext): Promise<FederationSending> {
  const { settings, serverName, log, bus, rooms, roomsStore } = ctx;
  const t = await federationTransport(ctx);
  const store = createSqlJsFederationQueue(ctx.db);
  const health = new DestinationHealthService(store, { ...DEFAULT_BACKOFF, minRetryMs: settings().federationRetryMinMs ?? DEFAULT_BACKOFF.minRetryMs });
  const sender = new FederationSender({
    serverName,
    store,
    health,
    transport: {
      sendTransaction: (destination, txnId, body) =>
        t.client.request<TransactionResult>(destination, 'PUT', fedPath`/_matrix/federation/v1/send/${txnId}`, { body }),
    },
    rooms: { joinedMembers: (roomId) => rooms.reader.joinedMembers(roomId) },
    loadPdu: (eventId) => {
      const rec = roomsStore.getEvent(eventId);
      const version = rec ? rooms.sender.cache.version(rec.roomId) : undefined;
      if (!rec || !version) return undefined;
      return federationWire(version, rec.redactedBy ? redactEvent(version, rec.pdu) : rec.pdu);
    },
    log: (level, msg, fields) => log[level](msg, fields),
    txnPrefix: `${Date.now().toString(36)}${randomBytes(3).toString('hex')}_`,
  });
  const edus = new EduProducer({
    serverName,
    sender,
    store,
    usersSharingRoomsWith: (u) => rooms.reader.usersSharingRoomsWith(u),
    localKeys: (userId) => {
      const q = ctx.deviceKeys.query('', { [userId]: [] });
      return {
        devices: ctx.users.store.listDevices(userId).map((d) => ({ deviceId: d.deviceId, displayName: d.displayName })),
        deviceKeys: (q.device_keys[userId] ?? {}) as Record<string, Record<string, unknown>>,
        masterKey: q.master_keys[userId],
        selfSigningKey: q.self_signing_keys[userId],
      };
    },
    sendPresence: () => settings().federationSendPresence ?? false,
  });

  bus.on('eventPersisted', ({ pdu, streamPosition }) => sender.onEventPersisted(pdu, streamPosition));
  bus.on('deviceListChanged', ({ userId, streamPosition }) => {
    edus.deviceListChanged(userId, streamPosition).catch((e: unknown) => log.warn('federation: device list update not queued', { error: String(e) }));
  });
  // A destination that answers us, or reaches us, is back: retry it now (Synapse does the same).
  t.client.onOutcome((o) => {
    if (o.ok && health.retryAt(o.destination) > 0) void health.resetBackoff(o.destination);
  });
  t.addInboundCheck((origin) => {
    if (health.retryAt(origin) > 0) void health.resetBackoff(origin);
  });
  observeEphemeral(ctx, edus);
  await sender.start();
  return { sender, health, edus };
}

/** Local typing, read receipts, presence and to-device sends (bus events) become EDUs. */
function observeEphemeral(ctx: WiringContext, edus: EduProducer): void {
  const { bus, presence, serverName, log } = ctx;
  bus.on('typingSet', ({ roomId, userId, typing }) => edus.typing(roomId, userId, typing));
  bus.on('readReceiptSent', (r) => {
    edus.receipt(r).catch((e: unknown) => log.warn('federation: receipt not queued', { error: String(e) }));
  });
  bus.on('presenceSet', ({ userId }) => edus.presence(userId, presence.get(userId, userId)));
  bus.on('toDeviceSent', ({ recipients }) => edus.toDevice(remoteServersOf(serverName, recipients)));
}

/** The sender part: no routes of its own (the admin API reads `health`); stops the queues. */
export const federationSenderPart: WiringPart = async (ctx) => {
  const s = await federationSending(ctx);
  const t = await federationTransport(ctx);
  return {
    mount(r) {
      // Here rather than with the other query endpoints: /user/devices reports the device list
      // version (stream_id) that this part's m.device_list_update EDUs continue from.
      userKeysApi.register(r, {
        fed: t.authMiddleware,
        serverName: ctx.serverName,
        deviceKeys: ctx.deviceKeys,
        devices: ctx.users.store,
        deviceListStreamId: (userId) => s.edus.deviceListStreamId(userId),
      });
    },
    close: () => s.sender.close(),
  };
};
