/**
 * Test fixture for the accounts tests: a real HTTP server with the accounts, session and device
 * routes over real services and a real sql.js database in a temporary folder (built like
 * createApp does). Registration mode and shared secret are mutable per test.
 */
import * as login from '../api/client/login.ts';
import * as registerApi from '../api/client/register.ts';
import * as account from '../api/client/account.ts';
import * as devices from '../api/client/devices.ts';
import * as sharedSecret from '../api/admin/synapse/shared-secret-register.ts';
import { Bus, type BusEvents } from '../services/bus.ts';
import { createUserServices, type UserServices, type UserServicesOptions } from '../services/users/user-services.ts';
import type { RegistrationMode } from '../services/users/registration.ts';
import { createSqlJsUsersStore } from '../storage/sqljs/users.ts';
import type { Database } from '../storage/storage.ts';
import { listenApp, openTempDatabase, type InProcessApp } from './in-process-app.ts';

export interface AccountsFixture {
  url: string;
  services: UserServices;
  db: Database;
  bus: Bus;
  events: { name: keyof BusEvents; payload: unknown }[];
  mode: RegistrationMode;
  sharedSecret: string | undefined;
  request: InProcessApp['request'];
  /** Registers with the dummy flow (mode must be open) and returns the login response. */
  registerUser(username: string, password?: string, extra?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export async function startAccountsFixture(
  opts: { mode?: RegistrationMode; sharedSecret?: string; services?: Partial<UserServicesOptions> } = {},
): Promise<AccountsFixture> {
  const temp = await openTempDatabase('accounts');
  const db = temp.db;
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

  const app = await listenApp((routes) => {
    login.register(routes, services);
    registerApi.register(routes, { ...services, registrationMode: () => fx.mode });
    account.register(routes, services);
    devices.register(routes, services);
    sharedSecret.register(routes, { registration: services.registration, sharedSecret: () => fx.sharedSecret });
  });

  Object.assign(fx, {
    url: app.url,
    services,
    db,
    bus,
    events,
    request: app.request,
    async registerUser(username: string, password = 'correct horse battery', extra: Record<string, unknown> = {}) {
      const res = await fx.request('POST', '/_matrix/client/v3/register', {
        body: { username, password, auth: { type: 'm.login.dummy' }, ...extra },
      });
      if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.json)}`);
      return res.json;
    },
    async close() {
      await app.close();
      await services.close();
      await temp.close();
    },
  });
  return fx;
}
