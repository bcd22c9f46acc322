/**
 * Wires Synapse's admin API (issue 4, "Synapse-compatible admin API"): the admin storage area,
 * the services behind /_synapse/admin, and the membership hook that keeps local users out of
 * blocked and purged rooms. Shared-secret registration is wired with the accounts core.
 */
import { HEARTH_VERSION } from './paths.ts';
import type { WiringPart } from './wiring.ts';
import { mediaServices } from './wiring-media.ts';
import { createSqlJsAdminStore } from './storage/sqljs/admin.ts';
import { SynapseUsersAdmin } from './services/admin/synapse-users.ts';
import { SynapseRegistrationTokensAdmin } from './services/admin/synapse-registration-tokens.ts';
import { SynapseRoomsAdmin } from './services/admin/synapse-rooms.ts';
import { SynapseReportsAdmin } from './services/admin/synapse-reports.ts';
import { SynapseServerNotices } from './services/admin/synapse-server-notices.ts';
import * as versionApi from './api/admin/synapse/version.ts';
import * as usersApi from './api/admin/synapse/users.ts';
import * as registrationTokensApi from './api/admin/synapse/registration-tokens.ts';
import * as roomsApi from './api/admin/synapse/rooms.ts';
import * as reportsApi from './api/admin/synapse/reports.ts';
import * as mediaApi from './api/admin/synapse/media.ts';
import * as federationApi from './api/admin/synapse/federation.ts';
import { federationSending } from './wiring-federation-sender.ts';
import * as serverNoticesApi from './api/admin/synapse/server-notices.ts';

export const adminApiPart: WiringPart = async (ctx) => {
  const { db, serverName, users, rooms, roomsStore, settings, log } = ctx;
  const admin = createSqlJsAdminStore(db);
  const tokens = users.tokens;

  const usersAdmin = new SynapseUsersAdmin({ users, profile: ctx.profile, profiles: ctx.syncData, admin, rooms: roomsStore, serverName });
  const registrationTokens = new SynapseRegistrationTokensAdmin(users.store);
  const roomsAdmin = new SynapseRoomsAdmin({
    rooms,
    store: roomsStore,
    admin,
    serverName,
    deviceCount: (u) => users.store.listDevices(u).length,
    log: (m, f) => log.warn(m, f),
    bus: ctx.bus,
  });
  await roomsAdmin.init();
  rooms.membership.isRoomBlocked = (roomId) => roomsAdmin.isRoomClosed(roomId);
  const federationHealth = (await federationSending(ctx)).health;
  const media = (await mediaServices(ctx)).repository;
  const reports = new SynapseReportsAdmin(ctx.reports, roomsStore, rooms.sender.cache);
  const notices = new SynapseServerNotices({
    rooms,
    store: roomsStore,
    users: users.store,
    accountData: ctx.accountData,
    admin,
    serverName,
    localpart: () => settings().serverNoticesLocalpart,
  });

  return {
    mount(r) {
      versionApi.register(r, { serverVersion: `Hearth ${HEARTH_VERSION}` });
      usersApi.register(r, { tokens, users: usersAdmin });
      registrationTokensApi.register(r, { tokens, registrationTokens });
      roomsApi.register(r, { tokens, rooms: roomsAdmin });
      reportsApi.register(r, { tokens, reports });
      mediaApi.register(r, { tokens, serverName, roomMedia: (roomId) => roomsAdmin.media(roomId), media });
      federationApi.register(r, { tokens, destinations: federationHealth });
      serverNoticesApi.register(r, { tokens, notices });
    },
    async close() {
      await roomsAdmin.close();
    },
  };
};
