/**
 * Hearth's own admin API (/_hearth/api/v1/) and the GUI it serves, on a real HTTP listener over
 * real account services and a real sql.js database, built the way homeserver.ts wires them:
 * setup (validation, the first admin, stored choices, the server name rebuilding services), admin
 * sign-in, settings, status, the GUI's CSP and SPA fallback, and the edge's cross-site guards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminApp } from '../api/admin/hearth/admin-app.ts';
import type { EffectiveSettings } from '../api/admin/hearth/deps.ts';
import { CONTENT_SECURITY_POLICY } from '../api/gui.ts';
import { createLogger } from '../logger.ts';
import { adminAccounts } from '../services/admin/admin-accounts.ts';
import { AdminSettings } from '../services/admin/settings.ts';
import { diskUsage, lanAddresses } from '../services/admin/stats.ts';
import { Bus } from '../services/bus.ts';
import { createUserServices, type UserServices } from '../services/users/user-services.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { createSqlJsUsersStore } from '../storage/sqljs/users.ts';
import type { Database } from '../storage/storage.ts';

const STORED = ['serverName', 'tlsMode', 'registration', 'federationEnabled', 'logLevel', 'publicBaseUrl', 'turnSharedSecret'];
const REGISTRATION = ['open', 'token', 'captcha', 'closed'];

interface Fixture {
  url: string;
  db: Database;
  dataDir: string;
  guiDir: string;
  reloads: number;
  effective: EffectiveSettings;
  users(): UserServices;
  request(method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

async function startFixture(opts: { overridden?: string[]; withGui?: boolean } = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-admin-'));
  const guiDir = join(dataDir, 'gui');
  if (opts.withGui !== false) {
    mkdirSync(join(guiDir, 'assets'), { recursive: true });
    writeFileSync(join(guiDir, 'index.html'), '<!doctype html><title>Hearth</title><div id="root"></div>');
    writeFileSync(join(guiDir, 'assets', 'app-1234.js'), 'console.log(1)');
  }
  const db = await openSqlJsDatabase({ dataDir });
  const log = createLogger('silent');
  const base = { serverName: 'localhost', dataDir, listen: { host: '127.0.0.1', port: 8008 }, registration: 'closed' as const, federationEnabled: true };
  const merge = (stored: Record<string, unknown>): EffectiveSettings => ({ ...base, ...stored }) as EffectiveSettings;
  const build = (name: string) =>
    createUserServices({ store: createSqlJsUsersStore(db), serverName: name, bus: new Bus(() => undefined), scrypt: { log2N: 10, r: 8, p: 1 } });

  let users = await build('localhost');
  const f = { reloads: 0 } as Fixture;
  const settings = new AdminSettings({
    db,
    storedKeys: STORED,
    validate: (stored) => {
      if (stored.registration !== undefined && !REGISTRATION.includes(stored.registration as string)) throw new Error('registration: Invalid option');
      if (stored.federationEnabled !== undefined && typeof stored.federationEnabled !== 'boolean') throw new Error('federationEnabled: expected boolean');
    },
    onChanged: () => {
      f.effective = merge(settings.getStored());
    },
  });
  f.effective = merge(settings.getStored());
  const app = createAdminApp({
    log,
    guiDir,
    maxJsonBodyBytes: 65536,
    settings,
    effective: () => f.effective,
    overriddenKeys: () => opts.overridden ?? [],
    accounts: () => adminAccounts(users, f.effective.serverName),
    countRooms: () => 0,
    reloadServices: async () => {
      f.reloads++;
      const old = users;
      users = await build(f.effective.serverName);
      await old.close();
    },
    state: () => 'running',
    urls: () => ({ client: 'http://127.0.0.1:18008', admin: f.url }),
    startedTs: () => 1_700_000_000_000,
    version: '0.0.0-test',
    lanAddresses: () => [{ interface: 'wlan0', address: '192.168.1.20', family: 'IPv4' }],
  });
  const server: Server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f.db = db;
  f.dataDir = dataDir;
  f.guiDir = guiDir;
  f.users = () => users;
  f.request = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(f.url + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  f.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await users.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return f;
}

const GOOD_SETUP = {
  serverName: 'smith.family',
  admin: { username: 'Mum', password: 'kettle-orchard-lantern' },
  tlsMode: 'none',
  registration: 'token',
  federationEnabled: false,
};

describe('setup', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  test('GET /setup/state says setup is needed, with what the wizard shows', async () => {
    const r = await f.request('GET', '/_hearth/api/v1/setup/state');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      needsSetup: true,
      serverName: 'localhost',
      serverNameLocked: false,
      lanAddresses: [{ interface: 'wlan0', address: '192.168.1.20', family: 'IPv4' }],
      clientPort: 18008,
      clientLoopbackOnly: true,
    });
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  test('refuses bad input before changing anything', async () => {
    const cases: [unknown, number, string][] = [
      [{ ...GOOD_SETUP, serverName: 'not a name' }, 400, 'M_INVALID_PARAM'],
      [{ ...GOOD_SETUP, serverName: 'Smith.Family' }, 400, 'M_INVALID_PARAM'],
      [{ ...GOOD_SETUP, admin: { username: 'm u m', password: 'kettle-orchard-lantern' } }, 400, 'M_INVALID_USERNAME'],
      [{ ...GOOD_SETUP, admin: { username: 'mum', password: 'short' } }, 400, 'M_WEAK_PASSWORD'],
      [{ ...GOOD_SETUP, tlsMode: 'magic' }, 400, 'M_BAD_JSON'],
      [{ ...GOOD_SETUP, registration: 'sometimes' }, 400, 'M_BAD_JSON'],
      [{ serverName: 'smith.family' }, 400, 'M_MISSING_PARAM'],
    ];
    for (const [body, status, errcode] of cases) {
      const r = await f.request('POST', '/_hearth/api/v1/setup', { body });
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.json.errcode, errcode, JSON.stringify(body));
    }
    assert.equal(f.reloads, 0);
    assert.deepEqual(f.db.read((r) => r.all('SELECT key FROM kv_settings')), []);
  });

  test('refuses cross-site requests and non-JSON writes (a web page cannot claim the server)', async () => {
    const cross = await f.request('POST', '/_hearth/api/v1/setup', { body: GOOD_SETUP, headers: { Origin: 'https://evil.example' } });
    assert.equal(cross.status, 403);
    const plain = await f.request('POST', '/_hearth/api/v1/setup', { raw: JSON.stringify(GOOD_SETUP), headers: { 'Content-Type': 'text/plain' } });
    assert.equal(plain.status, 415);
    // DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1.
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(f.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/_hearth/api/v1/setup/state', headers: { Host: 'evil.example:8009' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound, 421);
    const sameOrigin = await f.request('GET', '/_hearth/api/v1/setup/state', { headers: { Origin: f.url } });
    assert.equal(sameOrigin.status, 200);
  });

  test('sets the server name, creates the admin, stores the choices, returns a working session', async () => {
    const r = await f.request('POST', '/_hearth/api/v1/setup', { body: { ...GOOD_SETUP, tlsMode: 'acme-dns' } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.user_id, '@mum:smith.family');
    assert.equal(r.json.server_name, 'smith.family');
    assert.equal(typeof r.json.access_token, 'string');
    assert.match(r.json.notes[0], /HTTPS page/);
    assert.equal(f.reloads, 1, 'the services were rebuilt for the new server name');

    const user = f.users().accounts.getUser('@mum:smith.family');
    assert.equal(user?.isAdmin, true);
    const stored = Object.fromEntries(f.db.read((q) => q.all('SELECT key, value FROM kv_settings')).map((row) => [row.key, JSON.parse(String(row.value))]));
    assert.equal(stored.serverName, 'smith.family');
    assert.equal(stored.registration, 'token');
    assert.equal(stored.federationEnabled, false);
    assert.equal(stored.tlsMode, 'acme-dns');
    assert.equal(typeof stored.setupCompletedTs, 'number');

    const status = await f.request('GET', '/_hearth/api/v1/status', { token: r.json.access_token });
    assert.equal(status.status, 200);
    assert.equal(status.json.serverName, 'smith.family');
    assert.deepEqual(status.json.counts, { users: 1, rooms: 0 });
    assert.equal(status.json.tlsMode, 'acme-dns');
    assert.equal(status.json.registration, 'token');

    const state = await f.request('GET', '/_hearth/api/v1/setup/state');
    assert.deepEqual(state.json, { needsSetup: false, serverName: 'smith.family' });
  });

  test('a second setup is refused', async () => {
    const r = await f.request('POST', '/_hearth/api/v1/setup', { body: { ...GOOD_SETUP, admin: { username: 'intruder', password: 'kettle-orchard-lantern' } } });
    assert.equal(r.status, 403);
    assert.equal(f.users().accounts.getUser('@intruder:smith.family'), undefined);
  });

  test('admin sign-in: admins get a session, wrong passwords and non-admins do not', async () => {
    const ok = await f.request('POST', '/_hearth/api/v1/login', { body: { username: 'mum', password: 'kettle-orchard-lantern' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.user_id, '@mum:smith.family');
    const wrong = await f.request('POST', '/_hearth/api/v1/login', { body: { username: 'mum', password: 'nope-nope-nope' } });
    assert.equal(wrong.status, 403);

    await f.users().store.createUser({
      userId: '@kid:smith.family',
      passwordHash: await f.users().passwords.hash('kid-password-123'),
      isAdmin: false,
      userType: null,
      displayname: 'kid',
      createdTs: Date.now(),
    });
    const kid = await f.request('POST', '/_hearth/api/v1/login', { body: { username: 'kid', password: 'kid-password-123' } });
    assert.equal(kid.status, 403);
    assert.match(kid.json.error, /not a server admin/);

    // Sign-out ends the session.
    const out = await f.request('POST', '/_hearth/api/v1/logout', { token: ok.json.access_token, body: {} });
    assert.equal(out.status, 200);
    const after = await f.request('GET', '/_hearth/api/v1/status', { token: ok.json.access_token });
    assert.equal(after.status, 401);
  });
});

describe('settings', () => {
  let f: Fixture;
  let admin: string;
  let kid: string;
  before(async () => {
    f = await startFixture({ overridden: ['logLevel'] });
    const r = await f.request('POST', '/_hearth/api/v1/setup', { body: { ...GOOD_SETUP, serverName: 'localhost' } });
    admin = r.json.access_token;
    assert.equal(f.reloads, 0, 'same name: no rebuild');
    const users = f.users();
    await users.store.createUser({ userId: '@kid:localhost', passwordHash: await users.passwords.hash('kid-password-123'), isAdmin: false, userType: null, displayname: 'kid', createdTs: 0 });
    kid = (await users.tokens.issue('@kid:localhost', { refreshToken: false })).access_token;
  });
  after(() => f.close());

  test('admins only', async () => {
    assert.equal((await f.request('GET', '/_hearth/api/v1/settings')).status, 401);
    assert.equal((await f.request('GET', '/_hearth/api/v1/settings', { token: kid })).status, 403);
    assert.equal((await f.request('GET', '/_hearth/api/v1/status', { token: kid })).status, 403);
  });

  test('GET shows stored values, the effective ones and what flags pin', async () => {
    const r = await f.request('GET', '/_hearth/api/v1/settings', { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.values, { tlsMode: 'none', registration: 'token', federationEnabled: false });
    assert.equal(r.json.effective.registration, 'token');
    assert.deepEqual(r.json.overridden, ['logLevel']);
    assert.ok(!r.json.keys.includes('serverName'));
  });

  test('PUT stores valid values, removes with null, refuses invalid ones and the server name', async () => {
    const ok = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { registration: 'open', publicBaseUrl: 'https://chat.smith.family' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.values.registration, 'open');
    assert.equal(f.effective.registration, 'open', 'the running server sees the change');
    const cleared = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { publicBaseUrl: null } });
    assert.equal(cleared.json.values.publicBaseUrl, undefined);

    const secret = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { turnSharedSecret: 'hunter2hunter2' } });
    assert.equal(secret.status, 200);
    assert.deepEqual(secret.json.secretsSet, ['turnSharedSecret']);
    assert.ok(!JSON.stringify(secret.json).includes('hunter2'), 'secrets are write-only');

    const bad = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { registration: 'sometimes' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
    const name = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { serverName: 'other.example' } });
    assert.equal(name.status, 400);
    const unknown = await f.request('PUT', '/_hearth/api/v1/settings', { token: admin, body: { dataDir: '/tmp' } });
    assert.equal(unknown.status, 400);
    assert.equal(f.effective.serverName, 'localhost');
  });

  test('unknown admin API paths are 404 M_UNRECOGNIZED, wrong methods 405', async () => {
    const r = await f.request('GET', '/_hearth/api/v1/nope', { token: admin });
    assert.equal(r.status, 404);
    assert.equal(r.json.errcode, 'M_UNRECOGNIZED');
    const m = await f.request('DELETE', '/_hearth/api/v1/settings', { token: admin });
    assert.equal(m.status, 405);
  });
});

describe('setup with the server name fixed by a flag', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ overridden: ['serverName'] });
  });
  after(() => f.close());

  test('the wizard is told, and another name is refused', async () => {
    const s = await f.request('GET', '/_hearth/api/v1/setup/state');
    assert.equal(s.json.serverNameLocked, true);
    const r = await f.request('POST', '/_hearth/api/v1/setup', { body: GOOD_SETUP });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /fixed/);
    const ok = await f.request('POST', '/_hearth/api/v1/setup', { body: { ...GOOD_SETUP, serverName: 'localhost' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.user_id, '@mum:localhost');
  });
});

describe('the GUI', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  test('served at /_hearth/admin/ with the strict CSP; client routes fall back to index.html', async () => {
    for (const path of ['/_hearth/admin/', '/_hearth/admin/setup', '/_hearth/admin/users/@mum:x']) {
      const r = await f.request('GET', path);
      assert.equal(r.status, 200, path);
      assert.match(r.text, /<div id="root">/);
      assert.equal(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
    }
    const asset = await f.request('GET', '/_hearth/admin/assets/app-1234.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await f.request('GET', '/_hearth/admin/assets/gone-999.js')).status, 404);
    const root = await f.request('GET', '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/_hearth/admin/');
    const bare = await f.request('GET', '/_hearth/admin');
    assert.equal(bare.status, 301);
  });

  test('the API answers with the CSP too, and nothing else is served', async () => {
    const r = await f.request('GET', '/_hearth/api/v1/setup/state');
    assert.equal(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.equal((await f.request('GET', '/_matrix/client/versions')).status, 404);
  });

  test('an unbuilt GUI says how to build it', async () => {
    const g = await startFixture({ withGui: false });
    try {
      const r = await g.request('GET', '/_hearth/admin/');
      assert.equal(r.status, 503);
      assert.match(r.text, /npm run build:renderer/);
    } finally {
      await g.close();
    }
  });
});

describe('machine facts', () => {
  test('LAN addresses: external only, IPv4 first, no link-local IPv6', () => {
    const list = lanAddresses({
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: 'aa:bb:cc:dd:ee:ff', cidr: null, scopeid: 2 },
        { address: 'fd00::5', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: 'aa:bb:cc:dd:ee:ff', cidr: null, scopeid: 0 },
        { address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: 'aa:bb:cc:dd:ee:ff', cidr: null },
      ],
    });
    assert.deepEqual(list, [
      { interface: 'eth0', address: '192.168.1.20', family: 'IPv4' },
      { interface: 'eth0', address: 'fd00::5', family: 'IPv6' },
    ]);
  });

  test('disk usage adds up the data folder, database and media apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-du-'));
    try {
      writeFileSync(join(dir, 'snapshot-0000000000000001.sqlite'), Buffer.alloc(1000));
      writeFileSync(join(dir, 'journal-0000000000000002.log'), Buffer.alloc(200));
      mkdirSync(join(dir, 'media', 'ab'), { recursive: true });
      writeFileSync(join(dir, 'media', 'ab', 'file'), Buffer.alloc(3000));
      writeFileSync(join(dir, 'signing.key'), Buffer.alloc(50));
      assert.deepEqual(await diskUsage(dir), { totalBytes: 4250, databaseBytes: 1200, mediaBytes: 3000 });
      assert.deepEqual(await diskUsage(join(dir, 'missing')), { totalBytes: 0, databaseBytes: 0, mediaBytes: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
