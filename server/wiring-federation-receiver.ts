/**
 * Wiring of the receiving side of federation (part of the composition root): the PDU receiver,
 * PUT /send with its EDU handlers, the event and state endpoints, and the resident side of
 * joins, leaves, knocks and invites. It builds on the transport (keys, client, X-Matrix) and the
 * sender (accepted send_join/leave/knock events are passed on to the room's other servers).
 * The joining side of membership (joins.ts, hooked into the rooms membership service) is here
 * too: it checks a send_join answer with the receiver's IncomingPdus.
 * Clients paginating /messages past the oldest event held here get older history by backfill.
 */
import type { WiringContext, WiringPart } from './wiring.ts';
import { federationTransport, fedPath } from './wiring-federation.ts';
import { federationSending } from './wiring-federation-sender.ts';
import { hasUserOn, userIdServerName } from './core/ids.ts';
import { forbidden } from './errors.ts';
import type { ToDeviceMessage } from './storage/e2ee.ts';
import { IncomingPdus } from './services/federation/receiver/incoming-pdu.ts';
import type { RemoteRooms } from './services/federation/receiver/missing-events.ts';
import { TransactionReceiver, type EduSinks } from './services/federation/receiver/transactions.ts';
import { FederationHistory } from './services/federation/receiver/history.ts';
import { roomAllowsServer } from './services/federation/receiver/server-acl.ts';
import { ResidentMemberships } from './services/federation/resident.ts';
import { FederationBackfill } from './services/federation/backfill.ts';
import { FederationJoins } from './services/federation/joins.ts';
import { ROOM_VERSIONS } from './core/room-versions.ts';
import { defaultRandomString } from './services/rooms/send-event.ts';
import * as transactionsApi from './api/federation/transactions.ts';
import * as eventsApi from './api/federation/events.ts';
import * as joinsApi from './api/federation/joins.ts';
import * as leavesApi from './api/federation/leaves.ts';
import * as knocksApi from './api/federation/knocks.ts';
import * as invitesApi from './api/federation/invites.ts';

/** Requests the receiver makes to fill gaps, over the signing federation client. */
function remoteRooms(client: Awaited<ReturnType<typeof federationTransport>>['client']): RemoteRooms {
  return {
    getMissingEvents: (d, roomId, body) => client.request(d, 'POST', fedPath`/_matrix/federation/v1/get_missing_events/${roomId}`, { body }),
    stateIds: (d, roomId, eventId) => client.request(d, 'GET', fedPath`/_matrix/federation/v1/state_ids/${roomId}`, { query: { event_id: eventId } }),
    state: (d, roomId, eventId) => client.request(d, 'GET', fedPath`/_matrix/federation/v1/state/${roomId}`, { query: { event_id: eventId } }),
    event: (d, eventId) => client.request(d, 'GET', fedPath`/_matrix/federation/v1/event/${eventId}`),
    eventAuth: (d, roomId, eventId) => client.request(d, 'GET', fedPath`/_matrix/federation/v1/event_auth/${roomId}/${eventId}`),
  };
}

/** Received EDUs into the typing, receipts, presence, device-list and to-device stores. */
function eduSinks(ctx: WiringContext): EduSinks {
  const { typing, syncData, notifier, e2eeStore, rooms, users, serverName } = ctx;
  const sharing = (userId: string): Set<string> => rooms.reader.usersSharingRoomsWith(userId);
  return {
    typing: (roomId, userId, isTyping, timeoutMs) => typing.setRemoteTyping(roomId, userId, isTyping, timeoutMs),
    async receipt(r) {
      const pos = await syncData.putReceipt(r);
      if (pos !== null) notifier.notify(pos, rooms.reader.joinedMembers(r.roomId));
    },
    async presence(userId, p) {
      const pos = await syncData.setPresence(userId, { presence: p.presence, statusMsg: p.statusMsg, lastActiveTs: Date.now() - p.lastActiveAgo });
      notifier.notify(pos, sharing(userId));
    },
    async deviceListChanged(userId, eduType, content) {
      // The cached list first, so a client that sync sends to /keys/query sees the change.
      await ctx.deviceKeys.applyRemoteDeviceListEdu(eduType, content);
      const pos = await e2eeStore.recordKeysChange(userId);
      notifier.notify(pos, sharing(userId));
    },
    async toDevice(m) {
      const local: ToDeviceMessage[] = [];
      for (const [userId, byDevice] of Object.entries(m.messages)) {
        if (userIdServerName(userId) !== serverName || typeof byDevice !== 'object' || byDevice === null) continue;
        const devices = users.store.listDevices(userId).map((d) => d.deviceId);
        for (const [deviceId, content] of Object.entries(byDevice)) {
          for (const d of deviceId === '*' ? devices : devices.filter((x) => x === deviceId)) local.push({ userId, deviceId: d, content });
        }
      }
      if (local.length === 0) return;
      // The remote message id is the idempotency key, per sending server.
      const pos = await e2eeStore.sendToDevice({ sender: m.sender, senderDeviceId: '', txnId: m.messageId, eventType: m.type, local, remote: [] });
      if (pos !== null) notifier.notify(pos, new Set(local.map((l) => l.userId)));
    },
    sharesRoomWithLocalUser: (userId) => hasUserOn(serverName, sharing(userId)),
  };
}

export const federationReceiverPart: WiringPart = async (ctx) => {
  const t = await federationTransport(ctx);
  const sending = await federationSending(ctx);
  const { rooms, roomsStore: store, serverName, notifier, log, bus } = ctx;
  const logTo = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void => log[level](msg, fields);
  const pdus = new IncomingPdus({ store, sender: rooms.sender, keys: t.keys, remote: remoteRooms(t.client), log: logTo });
  rooms.membership.useFederation(
    new FederationJoins({
      serverName,
      signingKey: t.signingKey,
      client: t.client,
      keys: t.keys,
      store,
      sender: rooms.sender,
      pdus,
      bus,
      notifier,
      getProfile: ctx.memberProfile,
      supportedVersions: () => [...ROOM_VERSIONS.keys()],
      randomString: defaultRandomString,
    }),
  );
  const transactions = new TransactionReceiver({ store, sender: rooms.sender, pdus, edus: eduSinks(ctx), now: Date.now, log: logTo });
  const history = new FederationHistory({ store, sender: rooms.sender, serverName, now: Date.now });
  const resident = new ResidentMemberships({
    store,
    sender: rooms.sender,
    notifier,
    serverName,
    signingKey: t.signingKey,
    pdus,
    history,
    userExists: (u) => ctx.users.store.getUser(u) !== undefined,
    strippedState: (roomId, userId) => rooms.reader.strippedState(roomId, userId),
    onAccepted: (pdu, position, origin) => sending.sender.sendOnBehalfOf(pdu, position, origin),
    now: Date.now,
  });
  const backfill = new FederationBackfill({
    serverName,
    store,
    sender: rooms.sender,
    pdus,
    fetch: (d, roomId, from, limit, timeoutMs) =>
      t.client.request(d, 'GET', fedPath`/_matrix/federation/v1/backfill/${roomId}`, { query: { v: [...from], limit: String(limit) }, timeoutMs }),
    indexHistory: (pdus) => void ctx.search.onHistoryBackfilled(pdus),
    log: logTo,
  });
  rooms.timeline.useBackfill({ fetch: (roomId, limit) => backfill.backfill(roomId, limit) });
  // Room server ACLs on every room-scoped federation request (PUT /send checks each PDU instead).
  t.addInboundCheck((origin, req) => {
    const roomId = req.params?.roomId;
    if (typeof roomId !== 'string') return;
    if (!roomAllowsServer(rooms.sender.cache.get(roomId)?.state, origin)) throw forbidden('Server is banned from this room');
  });
  const fed = t.authMiddleware;
  return {
    mount(r) {
      transactionsApi.register(r, { fed, transactions });
      eventsApi.register(r, { fed, history });
      joinsApi.register(r, { fed, resident });
      leavesApi.register(r, { fed, resident });
      knocksApi.register(r, { fed, resident });
      invitesApi.register(r, { fed, resident });
    },
    close: async () => {},
  };
};
