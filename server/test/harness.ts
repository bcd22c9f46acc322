/**
 * Starts a real Hearth on 127.0.0.1 with a random port and a fresh temporary data folder, and
 * offers small helpers over real HTTP. Tests use this, never mocks.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver, type Homeserver } from '../homeserver.ts';
import type { PartialSettings } from '../config/settings.ts';

export interface TestServer {
  hs: Homeserver;
  url: string;
  dataDir: string;
  /** fetch relative to the client URL; JSON in and out. */
  request(method: string, path: string, opts?: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Headers }>;
  /** Registers a user through /register (open registration) and returns its session. */
  registerUser(username: string, password?: string): Promise<{ user_id: string; access_token: string; device_id: string }>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestServer(settings: PartialSettings = {}): Promise<TestServer> {
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-test-'));
  const hs = await createHomeserver({
    overrides: [{ serverName: 'localhost', listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, logLevel: 'warn', registration: 'open', ...settings, dataDir }],
    logSink: process.env.HEARTH_TEST_LOG ? undefined : () => {},
    // Cheap scrypt keeps suites that register many users fast; passwords.test.ts covers the real cost.
    testing: { scrypt: { log2N: 10, r: 8, p: 1 }, rateLimit: { burst: 10_000, perSecond: 10_000 } },
  });
  await hs.start();
  const url = hs.urls.client;
  const server: TestServer = {
    hs,
    url,
    dataDir,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let json: unknown = undefined;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    },
    async registerUser(username, password = 'correct horse battery staple') {
      const r = await server.request('POST', '/_matrix/client/v3/register', {
        body: { username, password, auth: { type: 'm.login.dummy' } },
      });
      if (r.status !== 200) throw new Error(`register ${username}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
    async close(opts = {}) {
      await hs.stop();
      if (!opts.keepData && !settings.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Signs up a server admin through Synapse's shared-secret registration (admin_api/register_api.md,
 * what register_new_matrix_user does) with password 'adminpw'; returns the raw answer so callers
 * choose what to check.
 */
export async function registerAdmin(
  server: Pick<TestServer, 'request'>,
  secret: string,
  username = 'root',
): Promise<{ status: number; json: any }> {
  const nonce = (await server.request('GET', '/_synapse/admin/v1/register')).json.nonce as string;
  const mac = createHmac('sha1', secret).update(`${nonce}\0${username}\0adminpw\0admin`).digest('hex');
  return server.request('POST', '/_synapse/admin/v1/register', { body: { nonce, username, password: 'adminpw', admin: true, mac } });
}
