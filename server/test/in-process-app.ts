/**
 * Shared plumbing for the in-process test fixtures (accounts, rooms, e2ee, reports, spaces,
 * search): a real sql.js database in a temporary folder, the client API's app from createApp,
 * served as homeserver.ts serves it, listening on 127.0.0.1:0, a JSON request helper, the `tok-<user id>` stub token resolver, and the rooms
 * services those suites set up directly. Tests that need the whole homeserver use harness.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiRouter } from '../api/http/router.ts';
import { requireAuth } from '../api/http/auth.ts';
import { apiServerClasses, createApp } from '../api/http/app.ts';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { unknownToken } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { Bus } from '../services/bus.ts';
import { RoomCreator } from '../services/rooms/create.ts';
import type { RoomsDeps } from '../services/rooms/deps.ts';
import { MembershipService } from '../services/rooms/membership.ts';
import { EventSender } from '../services/rooms/send-event.ts';
import { Notifier } from '../services/sync/notifier.ts';
import type { SqlJsDatabase } from '../storage/sqljs/database.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { SqlJsRoomsStore } from '../storage/sqljs/rooms.ts';

export interface TempDatabase {
  db: SqlJsDatabase;
  dataDir: string;
  /** Closes the database, then deletes the folder unless `keepData` (restart tests reopen it). */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/** Opens a sql.js database in `dataDir`, or in a fresh temporary folder named `hearth-<prefix>-*`. */
export async function openTempDatabase(prefix: string, opts: { dataDir?: string; migrationsDir?: string } = {}): Promise<TempDatabase> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `hearth-${prefix}-`));
  const db = await openSqlJsDatabase({ dataDir, migrationsDir: opts.migrationsDir });
  return {
    db,
    dataDir,
    async close({ keepData = false } = {}) {
      await db.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  token?: string;
}
export interface JsonResponse {
  status: number;
  json: any;
  headers: Headers;
}

export interface InProcessApp {
  url: string;
  /** Sends `body` as JSON (or `rawBody` as is) with an optional bearer token; a non-JSON reply comes back as text. */
  request(method: string, path: string, opts?: RequestOptions): Promise<JsonResponse>;
  close(): Promise<void>;
}

/** Builds the client API's app with createApp, lets `mount` register routes, and listens on 127.0.0.1:0. */
export async function listenApp(mount: (routes: ApiRouter) => void, opts: { maxJsonBodyBytes?: number } = {}): Promise<InProcessApp> {
  const { app } = createApp({ log: createLogger('silent'), maxJsonBodyBytes: opts.maxJsonBodyBytes ?? 1024 * 1024, mount });
  const server = createServer(apiServerClasses, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async request(method, path, o = {}) {
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
      return { status: res.status, json, headers: res.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** requireAuth over stub tokens `tok-<user id>` (device DEVICE, never admin). */
export const userIdTokenAuth = (): ReturnType<typeof requireAuth> =>
  requireAuth({
    resolve(token) {
      if (!token.startsWith('tok-')) throw unknownToken('Unknown token');
      return { userId: token.slice(4), deviceId: 'DEVICE', isAdmin: false, accessTokenId: 1 };
    },
  });

export interface TestRooms {
  store: SqlJsRoomsStore;
  deps: RoomsDeps;
  sender: EventSender;
  creator: RoomCreator;
  membership: MembershipService;
}

/** The rooms services the reports/spaces/search suites drive directly (room version 11 on localhost). */
export function testRooms(
  db: SqlJsDatabase,
  opts: { keySeed: number; bus?: Bus; getProfile?: RoomsDeps['getProfile'] },
): TestRooms {
  const store = new SqlJsRoomsStore(db);
  const deps: RoomsDeps = {
    store,
    serverName: 'localhost',
    signingKey: signingKeyFromSeed(new Uint8Array(32).fill(opts.keySeed), 'test'),
    bus: opts.bus ?? new Bus(),
    notifier: new Notifier(0),
    defaultRoomVersion: () => '11',
    getProfile: opts.getProfile ?? (() => ({})),
  };
  const sender = new EventSender(deps);
  const membership = new MembershipService(deps, sender);
  return { store, deps, sender, creator: new RoomCreator(deps, sender, membership), membership };
}
