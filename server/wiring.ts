/**
 * The service graph, part of the composition root (homeserver.ts owns lifecycle and listeners,
 * this file builds services over storage and mounts every API module with its dependencies).
 * Nothing else constructs services, so several homeservers can share one process.
 */
import type { Settings } from './config/settings.ts';
import type { Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import type { SigningKey } from './services/federation/server-keys.ts';
import type { ApiRouter } from './api/http/router.ts';
import { requireAuth } from './api/http/auth.ts';
import { ROOM_VERSIONS } from './core/room-versions.ts';
import { Bus } from './services/bus.ts';
import { createSqlJsUsersStore } from './storage/sqljs/users.ts';
import { createUserServices, type UserServices } from './services/users/user-services.ts';
import type { ScryptParams } from './services/users/passwords.ts';
import type { RateLimitConfig } from './services/users/rate-limit.ts';
import { OpenIdTokens } from './services/users/openid.ts';
import * as discovery from './api/client/discovery.ts';
import * as loginApi from './api/client/login.ts';
import * as registerApi from './api/client/register.ts';
import * as accountApi from './api/client/account.ts';
import * as devicesApi from './api/client/devices.ts';
import * as voipApi from './api/client/voip.ts';
import * as thirdPartyApi from './api/client/third-party.ts';
import * as openidApi from './api/client/openid.ts';
import * as sharedSecretRegisterApi from './api/admin/synapse/shared-secret-register.ts';
import * as roomsApi from './api/client/rooms.ts';
import * as membershipApi from './api/client/membership.ts';
import * as messagesApi from './api/client/messages.ts';
import * as relationsApi from './api/client/relations.ts';
import * as directoryApi from './api/client/directory.ts';
import * as keysApi from './api/client/keys.ts';
import * as keyBackupApi from './api/client/key-backup.ts';
import * as toDeviceApi from './api/client/to-device.ts';
import * as searchApi from './api/client/search.ts';
import * as reportingApi from './api/client/reporting.ts';
import * as spacesApi from './api/client/spaces.ts';
import * as pushApi from './api/client/push.ts';
import { signingKeyFromSeed } from './core/crypto/ed25519.ts';
import { currentStreamPosition } from './storage/stream.ts';
import { Notifier } from './services/sync/notifier.ts';
import { SqlJsRoomsStore } from './storage/sqljs/rooms.ts';
import { createRoomsServices } from './services/rooms/rooms.ts';
import type { Profile } from './services/rooms/deps.ts';
import { SqlJsE2eeStore } from './storage/sqljs/e2ee.ts';
import { DeviceKeysService } from './services/e2ee/device-keys.ts';
import { CrossSigningService, passwordUia } from './services/e2ee/cross-signing.ts';
import { KeyBackupService } from './services/e2ee/key-backup.ts';
import { ToDeviceService } from './services/e2ee/to-device.ts';
import { createSqlJsSearch } from './storage/sqljs/search.ts';
import { createSqlJsReports } from './storage/sqljs/reports.ts';
import { SearchService } from './services/rooms/search.ts';
import { ReportsService } from './services/rooms/reports.ts';
import { SpaceHierarchy } from './services/rooms/hierarchy.ts';
import { TransactionExpiry } from './services/rooms/transaction-expiry.ts';
import { createSqlJsPushStore } from './storage/sqljs/push.ts';
import { PushRulesService } from './services/push/rules.ts';
import { PushCounts, pushRoomViewFrom, readReceiptPositionFrom } from './services/push/counts.ts';
import { Pushers } from './services/push/pushers.ts';
import { createSqlJsSyncData } from './storage/sqljs/sync-data.ts';
import { createAccountDataService } from './services/sync/account-data.ts';
import { createReceiptsService } from './services/sync/receipts.ts';
import { createTypingService } from './services/sync/typing.ts';
import { createPresenceService } from './services/sync/presence.ts';
import { createFilterService } from './services/sync/filters.ts';
import { createSync } from './services/sync/sync.ts';
import { createProfileService, memberProfileFrom } from './services/users/profile.ts';
import { createUserDirectory } from './services/users/user-directory.ts';
import { stateMapKey } from './core/events/types.ts';
import * as syncApi from './api/client/sync.ts';
import * as filtersApi from './api/client/filters.ts';
import * as presenceApi from './api/client/presence.ts';
import * as typingApi from './api/client/typing.ts';
import * as receiptsApi from './api/client/receipts.ts';
import * as profileApi from './api/client/profile.ts';
import * as userDirectoryApi from './api/client/user-directory.ts';
import * as accountDataApi from './api/client/account-data.ts';
import * as tagsApi from './api/client/tags.ts';
import { federationTransportPart } from './wiring-federation.ts';
import { federationSenderPart } from './wiring-federation-sender.ts';
import { federationReceiverPart } from './wiring-federation-receiver.ts';
import { captchaPart } from './wiring-admin-tools.ts';
import { adminApiPart } from './wiring-admin-api.ts';
import { mediaPart } from './wiring-media.ts';
import { slidingSyncPart } from './wiring-sliding-sync.ts';
import { storageCarePart } from './wiring-storage-care.ts';

export interface TestingOptions {
  scrypt?: ScryptParams;
  rateLimit?: RateLimitConfig;
}

export interface BuiltServices {
  mount(r: ApiRouter): void;
  close(): Promise<void>;
}

/** A part of the server wired in its own file (media, federation, admin): it gets the core
 * services built here and returns its routes and its shutdown. */
export type WiringPart = (ctx: WiringContext) => BuiltServices | Promise<BuiltServices>;

/** Parts beyond the client core; each lives in server/wiring-<part>.ts. */
const PARTS: WiringPart[] = [federationTransportPart, federationSenderPart, federationReceiverPart, captchaPart, adminApiPart, mediaPart, slidingSyncPart, storageCarePart];

/** Every core service, as the parts wired in other files see them. */
export type WiringContext = Awaited<ReturnType<typeof buildCore>>;

export interface WiringInput {
  db: Database;
  settings: () => Settings;
  signingKey: SigningKey;
  log: Logger;
  testing?: TestingOptions;
}

/** Builds the client core: storage areas, services and the bus subscriptions between them. */
async function buildCore(input: WiringInput) {
  const { db, log } = input;
  const settings = input.settings;
  const serverName = settings().serverName;
  const bus = new Bus((event, err) => log.error(`bus handler for ${event} failed`, { error: (err as Error)?.stack ?? String(err) }));

  const users = await createUserServices({
    store: createSqlJsUsersStore(db),
    serverName,
    bus,
    log,
    scrypt: input.testing?.scrypt,
    rateLimit: input.testing?.rateLimit,
  });
  const auth = requireAuth(users.tokens);
  const openid = new OpenIdTokens();
  const notifier = new Notifier(db.read((r) => currentStreamPosition(r)));
  const syncData = createSqlJsSyncData(db);
  const isLocalUser = (u: string): boolean => u.endsWith(`:${serverName}`);
  const accountData = createAccountDataService({ store: syncData, notifier });

  // Rooms: events, state, membership, history.
  const roomsStore = new SqlJsRoomsStore(db);
  const transactionExpiry = new TransactionExpiry({ store: roomsStore, now: Date.now, log: (level, message, fields) => log[level](message, fields) });
  const ignoredUsers = (userId: string): ReadonlySet<string> => accountData.ignoredUsers(userId);
  // A member event's displayname and avatar_url (rooms' own joins and invites, and federated joins).
  const memberProfile = (userId: string): Profile => memberProfileFrom(syncData, userId);
  const rooms = createRoomsServices({
    store: roomsStore,
    serverName,
    signingKey: signingKeyFromSeed(input.signingKey.seed, input.signingKey.keyId.slice('ed25519:'.length)),
    bus,
    notifier,
    defaultRoomVersion: () => settings().defaultRoomVersion,
    getProfile: memberProfile,
    ignoredUsers,
  });
  const roomsDeps = { auth, rooms };

  // Sync and what it carries besides room events.
  const reader = rooms.reader;
  const receipts = createReceiptsService({ store: syncData, notifier, bus, accountData, joinedMembers: (r) => reader.joinedMembers(r) });
  const typing = createTypingService({ notifier, bus, joinedMembers: (r) => reader.joinedMembers(r) });
  const presence = createPresenceService({ store: syncData, notifier, bus, usersSharingRoomsWith: (u) => reader.usersSharingRoomsWith(u), isLocalUser });
  const profile = createProfileService({
    store: syncData,
    isLocalUser,
    // A new displayname/avatar is copied into the user's member event in each joined room.
    updateMembershipProfiles: async (userId, p) => {
      for (const m of reader.memberships(userId, notifier.current)) {
        if (m.membership !== 'join') continue;
        const current = rooms.sender.cache.get(m.roomId)?.state.get(stateMapKey('m.room.member', userId))?.content ?? { membership: 'join' };
        const content: Record<string, unknown> = { ...current, membership: 'join' };
        for (const [k, v] of Object.entries(p)) {
          if (v === null) delete content[k];
          else content[k] = v;
        }
        await rooms.state.putState({ userId, deviceId: '' }, m.roomId, 'm.room.member', userId, content as never);
      }
    },
    onError: (m, e) => log.warn(m, { error: String(e) }),
  });
  const userDirectory = createUserDirectory({ store: syncData, usersSharingRoomsWith: (u) => reader.usersSharingRoomsWith(u) });
  const filters = createFilterService(syncData);

  // End-to-end encryption support.
  const e2eeStore = new SqlJsE2eeStore(db);
  const e2ee = {
    store: e2eeStore,
    serverName,
    notifier,
    bus,
    rooms: rooms.reader,
    devices: users.store,
    onError: (m: string, e: unknown) => log.error(m, { error: String(e) }),
  };
  const deviceKeys = new DeviceKeysService(e2ee);
  deviceKeys.attach();
  const crossSigning = new CrossSigningService(e2ee, deviceKeys.announcer, passwordUia(users.uia));
  const keyBackup = new KeyBackupService(e2eeStore);
  const toDevice = new ToDeviceService(e2ee);

  // Search, reports, spaces.
  const search = new SearchService({
    index: createSqlJsSearch(db),
    rooms: roomsStore,
    formatEvents: (recs, viewer) => rooms.formatter.format(recs, viewer),
    ignoredUsers,
    log: (level, msg, fields) => log[level](msg, fields),
  });
  bus.on('eventPersisted', (p) => void search.onEventPersisted(p));
  const reports = new ReportsService({
    reports: createSqlJsReports(db),
    rooms: roomsStore,
    serverName,
    userExists: (u) => users.store.getUser(u) !== undefined,
  });
  const hierarchy = new SpaceHierarchy({ rooms: roomsStore });

  // Push rules, unread counts, pushers.
  const pushStore = createSqlJsPushStore(db);
  const pushRules = new PushRulesService({ store: pushStore, notify: (p, u) => notifier.notify(p, u) });
  const pushRooms = pushRoomViewFrom((id) => rooms.sender.cache.get(id));
  const receiptPosition = readReceiptPositionFrom({
    userReceipts: (u, r) => syncData.userReceipts(u, r),
    eventPosition: (id) => roomsStore.getEvent(id)?.position,
  });
  // Every member event is a row of the history as well, so a current membership of join is the
  // latest join: one row read instead of the user's whole history in the room, at every sync.
  const latestJoinPosition = (userId: string, roomId: string): number | null => {
    const current = roomsStore.member(roomId, userId);
    if (current?.membership === 'join') return current.position;
    const joins = roomsStore.membershipHistory(roomId, userId).filter((m) => m.membership === 'join');
    return joins.length > 0 ? joins[joins.length - 1]!.position : null;
  };
  let pushers!: Pushers;
  const pushCounts = new PushCounts({
    store: pushStore,
    rules: pushRules,
    rooms: { ...pushRooms, eventContent: (id) => roomsStore.getEvent(id)?.pdu.content },
    isLocalUser: (u) => u.endsWith(`:${serverName}`),
    readReceiptPosition: (u, r, thread) => {
      // Nothing before the user's latest join is unread (as Synapse counts): an accepted invite
      // or a room rejoined later starts clean.
      const receipt = receiptPosition(u, r, thread);
      const joined = latestJoinPosition(u, r);
      if (joined === null) return receipt;
      return receipt === null ? joined : Math.max(receipt, joined);
    },
    onNotified: (u, pdu, v) => pushers.onNotified(u, pdu, v),
    eventForUser: (u, id) => {
      const roomId = roomsStore.getEvent(id)?.pdu.room_id;
      if (roomId === undefined) return undefined;
      try {
        return rooms.timeline.event({ userId: u, deviceId: '' }, roomId, id) as unknown as Record<string, unknown>;
      } catch {
        return undefined; // no longer visible to the user
      }
    },
    now: Date.now,
    onError: (e) => log.error('push evaluation failed', { error: String(e) }),
  });
  pushers = new Pushers({
    store: pushStore,
    totalUnread: (u) => pushCounts.totalUnread(u),
    rooms: pushRooms,
    now: Date.now,
    log: (l, m, f) => log[l](m, f),
  });
  rooms.sender.setPushEvaluator(pushCounts);
  bus.on('userDeactivated', ({ userId }) => void pushers.onUserDeactivated(userId));
  bus.on('roomHistoryPurged', ({ roomId }) => pushCounts.invalidateRoom(roomId));

  const sync = createSync({
    rooms: reader,
    notifier,
    presence,
    roomsWithEvents: (a, b) => syncData.roomsWithEventsBetween(a, b),
    sources: { accountData, receipts, typing, presence, toDevice, deviceLists: deviceKeys, unreadCounts: pushCounts },
  });

  return {
    db, settings, log, serverName, bus, notifier, signingKey: input.signingKey, auth, roomsDeps,
    users, rooms, roomsStore, syncData, accountData, receipts, typing, presence, profile, userDirectory, filters,
    e2eeStore, deviceKeys, crossSigning, keyBackup, toDevice, search, reports, hierarchy,
    pushStore, pushRules, pushCounts, pushers, sync, openid, isLocalUser, memberProfile, transactionExpiry,
  };
}

export async function buildServices(input: WiringInput): Promise<BuiltServices & { users: UserServices }> {
  const ctx = await buildCore(input);
  const { settings, auth, users, roomsDeps, serverName, openid } = ctx;
  const { deviceKeys, crossSigning, keyBackup, toDevice, search, reports, hierarchy } = ctx;
  const { pushRules, pushers, pushCounts, sync, filters, presence, typing, receipts, profile, userDirectory, accountData, notifier } = ctx;
  const parts: BuiltServices[] = [];
  for (const part of PARTS) parts.push(await part(ctx));

  return {
    users,
    mount(r) {
      discovery.registerCapabilities(r, {
        auth,
        defaultRoomVersion: () => settings().defaultRoomVersion,
        roomVersions: () => Object.fromEntries([...ROOM_VERSIONS.values()].map((v) => [v.id, v.stable ? 'stable' : 'unstable'])),
      });
      loginApi.register(r, users);
      registerApi.register(r, { ...users, registrationMode: () => settings().registration });
      accountApi.register(r, users);
      devicesApi.register(r, users);
      sharedSecretRegisterApi.register(r, { registration: users.registration, sharedSecret: () => settings().registrationSharedSecret });
      voipApi.register(r, {
        auth,
        now: Date.now,
        turn: () => ({ uris: settings().turnUris, sharedSecret: settings().turnSharedSecret, lifetimeMs: settings().turnUserLifetimeMs }),
      });
      thirdPartyApi.register(r, { auth });
      roomsApi.register(r, roomsDeps);
      membershipApi.register(r, roomsDeps);
      messagesApi.register(r, roomsDeps);
      relationsApi.register(r, roomsDeps);
      directoryApi.register(r, roomsDeps);
      keysApi.register(r, { auth, deviceKeys, crossSigning });
      keyBackupApi.register(r, { auth, keyBackup });
      toDeviceApi.register(r, { auth, toDevice });
      searchApi.register(r, { auth, search });
      reportingApi.register(r, { auth, reports });
      spacesApi.register(r, { auth, hierarchy });
      pushApi.register(r, { auth, rules: pushRules, pushers, notifications: pushCounts });
      syncApi.register(r, { auth, sync, filters });
      filtersApi.register(r, { auth, filters });
      presenceApi.register(r, { auth, presence });
      typingApi.register(r, { auth, typing });
      receiptsApi.register(r, { auth, receipts });
      profileApi.register(r, { auth, profile });
      userDirectoryApi.register(r, { auth, userDirectory });
      accountDataApi.register(r, { auth, accountData });
      tagsApi.register(r, { auth, accountData });
      openidApi.register(r, { auth, openid, serverName });
      for (const p of parts) p.mount(r);
    },
    async close() {
      for (const p of parts.reverse()) await p.close();
      notifier.close();
      typing.close();
      presence.close();
      pushers.stop();
      await ctx.search.close();
      await ctx.transactionExpiry.close();
      await users.close();
    },
  };
}
