/**
 * Test fixture for the rooms tests: a real sql.js database in a temp folder, the rooms services
 * and their API files on a real HTTP listener, with a stub token resolver (`tok-<localpart>`
 * is @<localpart>:localhost on device DEV, `tok-<localpart>-<device>` on another device).
 * Replaced by startTestServer once registration is wired in homeserver.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import type { SqlJsDatabase } from '../storage/sqljs/database.ts';
import { SqlJsRoomsStore } from '../storage/sqljs/rooms.ts';
import { currentStreamPosition } from '../storage/stream.ts';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { Bus } from '../services/bus.ts';
import { Notifier } from '../services/sync/notifier.ts';
import { createRoomsServices, type RoomsServices } from '../services/rooms/rooms.ts';
import type { RoomsDeps } from '../services/rooms/deps.ts';
import { ApiRouter } from '../api/http/router.ts';
import { requireAuth, type TokenResolver } from '../api/http/auth.ts';
import { errorHandler, unrecognizedEndpoint } from '../api/http/errors.ts';
import { createLogger } from '../logger.ts';
import { unknownToken } from '../errors.ts';
import * as roomsApi from '../api/client/rooms.ts';
import * as membershipApi from '../api/client/membership.ts';
import * as messagesApi from '../api/client/messages.ts';
import * as relationsApi from '../api/client/relations.ts';
import * as directoryApi from '../api/client/directory.ts';

export const SERVER = 'localhost';

export interface RoomsFixture {
  db: SqlJsDatabase;
  store: SqlJsRoomsStore;
  rooms: RoomsServices;
  deps: RoomsDeps;
  bus: Bus;
  notifier: Notifier;
  url: string;
  request(method: string, path: string, opts?: { body?: unknown; rawBody?: string; token?: string }): Promise<{ status: number; json: any }>;
  /** Shorthand: request as @user:localhost. */
  as(user: string): (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
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
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-rooms-'));
  const db = await openSqlJsDatabase({ dataDir });
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
  const app = express();
  app.set('query parser', 'simple');
  const routes = new ApiRouter(1024 * 1024);
  const apiDeps = { auth: requireAuth(stubTokens), rooms };
  roomsApi.register(routes, apiDeps);
  membershipApi.register(routes, apiDeps);
  messagesApi.register(routes, apiDeps);
  relationsApi.register(routes, apiDeps);
  directoryApi.register(routes, apiDeps);
  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(createLogger('silent', () => {})));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const request: RoomsFixture['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const C = '/_matrix/client/v3';
export const V1 = '/_matrix/client/v1';
export const enc = encodeURIComponent;
