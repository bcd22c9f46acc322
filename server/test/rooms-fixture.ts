/**
 * Test fixture for the rooms tests: a real sql.js database in a temp folder, the rooms services
 * and their API files on a real HTTP listener, with a stub token resolver (`tok-<localpart>`
 * is @<localpart>:localhost on device DEV, `tok-<localpart>-<device>` on another device).
 * Replaced by startTestServer once registration is wired in homeserver.ts.
 */
import { randomBytes } from 'node:crypto';
import type { SqlJsDatabase } from '../storage/sqljs/database.ts';
import { SqlJsRoomsStore } from '../storage/sqljs/rooms.ts';
import { currentStreamPosition } from '../storage/stream.ts';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { Bus } from '../services/bus.ts';
import { Notifier } from '../services/sync/notifier.ts';
import { createRoomsServices, type RoomsServices } from '../services/rooms/rooms.ts';
import type { RoomsDeps } from '../services/rooms/deps.ts';
import { requireAuth, type TokenResolver } from '../api/http/auth.ts';
import { unknownToken } from '../errors.ts';
import * as roomsApi from '../api/client/rooms.ts';
import * as membershipApi from '../api/client/membership.ts';
import * as messagesApi from '../api/client/messages.ts';
import * as relationsApi from '../api/client/relations.ts';
import * as directoryApi from '../api/client/directory.ts';
import { listenApp, openTempDatabase, type InProcessApp } from './in-process-app.ts';

export const SERVER = 'localhost';

export interface RoomsFixture {
  db: SqlJsDatabase;
  store: SqlJsRoomsStore;
  rooms: RoomsServices;
  deps: RoomsDeps;
  bus: Bus;
  notifier: Notifier;
  url: string;
  request: InProcessApp['request'];
  /** Shorthand: request as @user:localhost. */
  as(user: string): (method: string, path: string, body?: unknown) => ReturnType<InProcessApp['request']>;
  close(): Promise<void>;
}

export const uid = (name: string): string => `@${name}:${SERVER}`;

const stubTokens: TokenResolver = {
  resolve(token) {
    const m = /^tok-([a-z0-9._=-]+?)(?:-([A-Z0-9]+))?$/.exec(token);
    if (!m) throw unknownToken('Unknown access token');
    return { userId: uid(m[1]!), deviceId: m[2] ?? 'DEV', isAdmin: m[1] === 'admin', accessTokenId: 1 };
  },
};

export async function startRoomsFixture(opts: { defaultRoomVersion?: string; profiles?: Record<string, { displayname?: string; avatar_url?: string }> } = {}): Promise<RoomsFixture> {
  const temp = await openTempDatabase('rooms');
  const db = temp.db;
  const store = new SqlJsRoomsStore(db);
  const bus = new Bus();
  const notifier = new Notifier(db.read((r) => currentStreamPosition(r)));
  const deps: RoomsDeps = {
    store,
    serverName: SERVER,
    signingKey: signingKeyFromSeed(randomBytes(32), 'test'),
    bus,
    notifier,
    defaultRoomVersion: () => opts.defaultRoomVersion ?? '12',
    getProfile: (u) => opts.profiles?.[u] ?? {},
  };
  const rooms = createRoomsServices(deps);
  const apiDeps = { auth: requireAuth(stubTokens), rooms };
  const app = await listenApp((routes) => {
    roomsApi.register(routes, apiDeps);
    membershipApi.register(routes, apiDeps);
    messagesApi.register(routes, apiDeps);
    relationsApi.register(routes, apiDeps);
    directoryApi.register(routes, apiDeps);
  });
  const { url, request } = app;
  return {
    db,
    store,
    rooms,
    deps,
    bus,
    notifier,
    url,
    request,
    as: (user) => (method, path, body) => request(method, path, { body, token: `tok-${user}` }),
    async close() {
      await app.close();
      await temp.close();
    },
  };
}

export const C = '/_matrix/client/v3';
export const V1 = '/_matrix/client/v1';
export const enc = encodeURIComponent;
