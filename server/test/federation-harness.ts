/**
 * Federation test harness: starts two or three real Hearth instances on loopback, each with its
 * own server name (`127.0.0.1:<port>` by default, or `localhost:<port>`), a TLS federation
 * listener whose certificate a throwaway CA signed (made here with openssl), certificate
 * verification ON with that CA trusted through `federationExtraCaCerts`, private addresses
 * allowed, and no notaries. Also a fake remote server (its own key, its own TLS listener serving
 * /_matrix/key/v2/server) for adversarial tests that sign requests the way an attacker would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartialSettings } from '../config/settings.ts';
import { signingKeyFromSeed, type Ed25519SigningKey } from '../core/crypto/ed25519.ts';
import { signJson } from '../core/crypto/signing.ts';
import { signRequest } from '../services/federation/request-auth.ts';
import { startTestServer, type TestServer } from './harness.ts';

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file): trust it to verify the servers. */
  caFile: string;
  /** A server certificate for 127.0.0.1, ::1, localhost and *.localhost, and its key. */
  certFile: string;
  keyFile: string;
}

let sharedCa: TestCa | undefined;

/** One CA and server certificate per test process (generating keys costs ~100 ms). */
export function testCa(): TestCa {
  if (sharedCa) return sharedCa;
  const dir = mkdtempSync(join(tmpdir(), 'hearth-ca-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`federation tests need openssl to make certificates: ${(e as Error).message}`);
    }
  };
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=Hearth test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
    '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:*.localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
  sharedCa = { dir, caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return sharedCa;
}

/** A port free right now on 127.0.0.1 (the server name must contain it before the server starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface FederatedServer extends TestServer {
  serverName: string;
  /** https://127.0.0.1:<port>, the TLS listener (federation and client API). */
  fedUrl: string;
  /** Stops and starts again on the same data folder, port and server name. */
  restart(): Promise<void>;
}

export interface FederatedServerOptions {
  /** `127.0.0.1` (IP literal server names, default) or `localhost` (DNS names: SNI, lookups). */
  hostname?: '127.0.0.1' | 'localhost';
  settings?: PartialSettings;
}

/** Settings every federation test instance gets (tests may override any). */
export function federationTestSettings(ca: TestCa, port: number, hostname = '127.0.0.1'): PartialSettings {
  return {
    serverName: `${hostname}:${port}`,
    federationListen: { host: '127.0.0.1', port },
    tlsCert: ca.certFile,
    tlsKey: ca.keyFile,
    federationAllowPrivateAddresses: true,
    federationVerifyTls: true,
    federationExtraCaCerts: ca.caFile,
    federationTrustedKeyServers: [],
  };
}

export async function startFederatedServer(opts: FederatedServerOptions = {}): Promise<FederatedServer> {
  const ca = testCa();
  const port = await freePort();
  const dataDir = opts.settings?.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-fed-'));
  const settings: PartialSettings = { ...federationTestSettings(ca, port, opts.hostname), ...opts.settings, dataDir };
  let current = await startTestServer(settings);
  const server: FederatedServer = {
    get hs() {
      return current.hs;
    },
    get url() {
      return current.url;
    },
    dataDir,
    serverName: settings.serverName!,
    fedUrl: `https://127.0.0.1:${port}`,
    request: (...a) => current.request(...a),
    registerUser: (...a) => current.registerUser(...a),
    async restart() {
      await current.close({ keepData: true });
      current = await startTestServer(settings);
    },
    async close(o = {}) {
      await current.close({ keepData: true });
      if (!o.keepData && !opts.settings?.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Starts `n` federated servers in parallel. */
export async function startFederation(n: number, opts: FederatedServerOptions = {}): Promise<FederatedServer[]> {
  return Promise.all(Array.from({ length: n }, () => startFederatedServer(opts)));
}

/** A response's body as JSON, or as text when it is not JSON (undefined when empty). */
export function readJsonBody(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
    res.on('error', reject);
  });
}

/** A fetch that trusts the test CA, for calling a server's TLS listener directly. */
export async function tlsRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: any; headers: Record<string, string | string[] | undefined> }> {
  const { request } = await import('node:https');
  const ca = readFileSync(testCa().caFile);
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers, ca },
      (res) => void readJsonBody(res).then((json) => resolve({ status: res.statusCode ?? 0, json, headers: res.headers }), reject),
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface FakeRemoteOptions {
  /** valid_until_ts of the published key response (default now + 1 day). */
  validUntilTs?: () => number;
  /** Replace the published key response entirely (e.g. unsigned, wrong server_name). */
  keyResponse?: (signed: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * A minimal remote "server" for adversarial tests: its own Ed25519 key published at
 * /_matrix/key/v2/server over TLS (server name `127.0.0.1:<port>`), and a way to send requests
 * to a Hearth signed however the test wants.
 */
export interface FakeRemote {
  serverName: string;
  key: Ed25519SigningKey;
  /** Signs and sends a federation request to `target`; `sign` overrides what goes into the signature. */
  request(
    target: FederatedServer,
    method: string,
    path: string,
    opts?: {
      body?: unknown;
      /** destination in the header and the signature (default the target's server name). */
      destination?: string;
      /** Sign with another key (e.g. one the fake does not publish). */
      key?: Ed25519SigningKey;
      /** Tamper with the Authorization header after signing. */
      tamper?: (authorization: string) => string;
    },
  ): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export function newSigningKey(version = 'fake'): Ed25519SigningKey {
  return signingKeyFromSeed(randomBytes(32), version);
}

export async function startFakeRemote(opts: FakeRemoteOptions = {}): Promise<FakeRemote> {
  const ca = testCa();
  const port = await freePort();
  const serverName = `127.0.0.1:${port}`;
  const key = newSigningKey();
  const server: Server = createHttpsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/_matrix/key/v2/server')) {
      const signed = signJson(
        {
          server_name: serverName,
          valid_until_ts: opts.validUntilTs?.() ?? Date.now() + 24 * 3600_000,
          verify_keys: { [key.keyId]: { key: key.publicKeyBase64 } },
          old_verify_keys: {},
        },
        serverName,
        key,
      );
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(opts.keyResponse ? opts.keyResponse(signed) : signed));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    serverName,
    key,
    async request(target, method, path, o = {}) {
      const destination = o.destination ?? target.serverName;
      let authorization = signRequest({ method, uri: path, origin: serverName, destination, content: o.body }, o.key ?? key);
      if (o.tamper) authorization = o.tamper(authorization);
      const headers: Record<string, string> = { Authorization: authorization };
      let body: string | undefined;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['Content-Type'] = 'application/json';
      }
      const r = await tlsRequest(target.fedUrl + path, { method, headers, body });
      return { status: r.status, json: r.json };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A registered user as the tests hold it. */
export type Session = { user_id: string; access_token: string };

/** Polls `fn` every 50 ms until it gives a value: federation is asynchronous, and fixed sleeps are flaky. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
