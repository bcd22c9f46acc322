/**
 * Test fixture for the accounts tests: a real HTTP server with the accounts, session and device
 * routes over real services and a real sql.js database in a temporary folder (built like
 * createApp does). Registration mode and shared secret are mutable per test.
 */
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { ApiRouter } from '../api/http/router.ts';
import { errorHandler, unrecognizedEndpoint } from '../api/http/errors.ts';
import * as login from '../api/client/login.ts';
import * as registerApi from '../api/client/register.ts';
import * as account from '../api/client/account.ts';
import * as devices from '../api/client/devices.ts';
import * as sharedSecret from '../api/admin/synapse/shared-secret-register.ts';
import { createLogger } from '../logger.ts';
import { Bus, type BusEvents } from '../services/bus.ts';
import { createUserServices, type UserServices, type UserServicesOptions } from '../services/users/user-services.ts';
import type { RegistrationMode } from '../services/users/registration.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { createSqlJsUsersStore } from '../storage/sqljs/users.ts';
import type { Database } from '../storage/storage.ts';

export interface AccountsFixture {
  url: string;
  services: UserServices;
  db: Database;
  bus: Bus;
  events: { name: keyof BusEvents; payload: unknown }[];
  mode: RegistrationMode;
  sharedSecret: string | undefined;
  request(method: string, path: string, opts?: { body?: unknown; rawBody?: string; token?: string }): Promise<{ status: number; json: any; headers: Headers }>;
  /** Registers with the dummy flow (mode must be open) and returns the login response. */
  registerUser(username: string, password?: string, extra?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export async function startAccountsFixture(
  opts: { mode?: RegistrationMode; sharedSecret?: string; services?: Partial<UserServicesOptions> } = {},
): Promise<AccountsFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-accounts-'));
  const db = await openSqlJsDatabase({ dataDir });
  const bus = new Bus();
  const events: AccountsFixture['events'] = [];
  bus.on('deviceListChanged', (p) => events.push({ name: 'deviceListChanged', payload: p }));
  bus.on('userDeactivated', (p) => events.push({ name: 'userDeactivated', payload: p }));
  const services = await createUserServices({
    store: createSqlJsUsersStore(db),
    serverName: 'localhost',
    bus,
    // Cheap scrypt keeps the suite fast; passwords.test.ts covers the production cost.
    scrypt: { log2N: 10, r: 8, p: 1 },
    ...opts.services,
  });
  const fx = { mode: opts.mode ?? 'open', sharedSecret: opts.sharedSecret } as AccountsFixture;

  const app = express();
  app.set('query parser', 'simple');
  const routes = new ApiRouter(1024 * 1024);
  login.register(routes, services);
  registerApi.register(routes, { ...services, registrationMode: () => fx.mode });
  account.register(routes, services);
  devices.register(routes, services);
  sharedSecret.register(routes, { registration: services.registration, sharedSecret: () => fx.sharedSecret });
  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(createLogger('silent')));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  Object.assign(fx, {
    url,
    services,
    db,
    bus,
    events,
    async request(method: string, path: string, o: { body?: unknown; rawBody?: string; token?: string } = {}) {
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
    async registerUser(username: string, password = 'correct horse battery', extra: Record<string, unknown> = {}) {
      const res = await fx.request('POST', '/_matrix/client/v3/register', {
        body: { username, password, auth: { type: 'm.login.dummy' }, ...extra },
      });
      if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.json)}`);
      return res.json;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return fx;
}
