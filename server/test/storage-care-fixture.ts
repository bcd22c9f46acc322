/**
 * The admin listener's app over a running test Hearth, for the storage care and federation
 * self-test tests: built with createAdminApp as homeserver.ts builds it, with the storage care
 * tools of the server's data folder (wiring-storage-care.ts) and a token resolver that knows one
 * admin and one ordinary user (accounts are not what these tests are about).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminApp, type AdminAppDeps } from '../api/admin/hearth/admin-app.ts';
import type { Requester, TokenResolver } from '../api/http/auth.ts';
import { unknownToken } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { storageCareTools } from '../wiring-storage-care.ts';
import type { TestServer } from './harness.ts';

export const ADMIN_TOKEN = 'storage-care-admin';
export const USER_TOKEN = 'storage-care-user';

export interface AdminClient {
  request(method: string, path: string, opts?: { body?: unknown; token?: string }): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startAdminClient(server: TestServer): Promise<AdminClient> {
  const tokens: TokenResolver = {
    resolve(token): Requester {
      if (token === ADMIN_TOKEN) return { userId: '@admin:test', deviceId: 'ADMIN', isAdmin: true, accessTokenId: 1 };
      if (token === USER_TOKEN) return { userId: '@user:test', deviceId: 'USER', isAdmin: false, accessTokenId: 2 };
      throw unknownToken('Unknown access token');
    },
  };
  const effective = () => ({ ...server.hs.settings }) as unknown as ReturnType<AdminAppDeps['effective']>;
  const deps = {
    log: createLogger('silent'),
    guiDir: '/nonexistent',
    maxJsonBodyBytes: 65536,
    effective,
    overriddenKeys: () => [],
    accounts: () => ({ tokens }),
    countRooms: () => 0,
    state: () => 'running',
    urls: () => ({ client: server.url, admin: '' }),
    startedTs: () => 0,
    version: 'test',
    storageCare: () => storageCareTools(server.dataDir)?.storageCare,
    federationSelfTest: () => storageCareTools(server.dataDir)?.selfTest,
  } as unknown as AdminAppDeps;
  const http: Server = createServer(createAdminApp(deps));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? ADMIN_TOKEN}` };
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    close: () =>
      new Promise<void>((r) => {
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}
