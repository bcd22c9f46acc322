/**
 * Let's Encrypt through ACME (RFC 8555) with the `acme-client` library: HTTP-01 answered by a
 * small responder (on the configured challenge port, and on the client listener for routers that
 * forward port 80 there), or DNS-01 through a dynamic-DNS provider's TXT-record API (deSEC,
 * DuckDNS) or an admin's hook command — the way a home-only server gets a publicly trusted
 * certificate for a name that points at a private address. Provider API URLs are settings, so
 * tests run against local fakes and Debian's pebble.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:https';
import type * as AcmeClient from 'acme-client';
import type { KeyPairPem, TlsSettings } from './tls.ts';
import { TlsError, writeFileDurably } from './tls.ts';

type Acme = typeof AcmeClient;
let acmeModule: Promise<Acme> | undefined;
/** acme-client is loaded on first use: it costs ~25 MB of memory that a home server without
 * Let's Encrypt never needs. */
function loadAcme(): Promise<Acme> {
  return (acmeModule ??= import('acme-client') as Promise<Acme>);
}

type Log = { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void };

export interface DnsProvider {
  /** Publishes `value` as the TXT record at `recordName` (`_acme-challenge.<domain>`). */
  set(recordName: string, value: string): Promise<void>;
  clear(recordName: string, value: string): Promise<void>;
}

export type ChallengeConfig =
  | { type: 'http-01'; responder: Http01Responder }
  | { type: 'dns-01'; provider: DnsProvider; propagationSeconds: number };

export interface ObtainOptions {
  directoryUrl: string;
  /** Extra CA trusted for the directory's HTTPS (a private ACME server such as pebble). */
  directoryCaPem?: string;
  email?: string;
  domains: string[];
  /** Where the ACME account key is kept (made on first use). */
  accountKeyPath: string;
  challenge: ChallengeConfig;
  log: Log;
}

// acme-client sends every request through one shared axios instance, so extra trust is added per
// directory origin by one interceptor instead of process-wide.
const trustByOrigin = new Map<string, Agent>();
let interceptorInstalled = false;

function trustDirectoryCa(acme: Acme, directoryUrl: string, caPem: string): void {
  trustByOrigin.set(new URL(directoryUrl).origin, new Agent({ ca: caPem, keepAlive: false }));
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  acme.axios.interceptors.request.use((config) => {
    const agent = config.url ? trustByOrigin.get(safeOrigin(config.url)) : undefined;
    if (agent) config.httpsAgent = agent;
    return config;
  });
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/** Runs one ACME order to completion and returns the certificate chain and its new key. */
export async function obtainCertificate(o: ObtainOptions): Promise<KeyPairPem> {
  const acme = await loadAcme();
  if (o.directoryCaPem) trustDirectoryCa(acme, o.directoryUrl, o.directoryCaPem);
  let accountKey: string;
  if (existsSync(o.accountKeyPath)) accountKey = readFileSync(o.accountKeyPath, 'utf8');
  else {
    accountKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
    writeFileDurably(o.accountKeyPath, accountKey);
  }
  const client = new acme.Client({ directoryUrl: o.directoryUrl, accountKey });
  const [key, csr] = await acme.crypto.createCsr({ commonName: o.domains[0]!, altNames: o.domains }, await acme.crypto.createPrivateEcdsaKey());
  const ch = o.challenge;
  o.log.info('requesting a certificate over ACME', { directory: o.directoryUrl, domains: o.domains, challenge: ch.type });
  const certPem = await client.auto({
    csr,
    email: o.email,
    termsOfServiceAgreed: true,
    challengePriority: [ch.type],
    // acme-client's own pre-check fetches port 80 and public DNS, which a home network may not
    // see the way the CA does; the CA's validation is the one that counts.
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, keyAuthorization) => {
      if (ch.type === 'http-01') ch.responder.set(challenge.token, keyAuthorization);
      else {
        await ch.provider.set(`_acme-challenge.${authz.identifier.value}`, keyAuthorization);
        if (ch.propagationSeconds > 0) await new Promise((r) => setTimeout(r, ch.propagationSeconds * 1000));
      }
    },
    challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
      if (ch.type === 'http-01') ch.responder.delete(challenge.token);
      else await ch.provider.clear(`_acme-challenge.${authz.identifier.value}`, keyAuthorization).catch((e: Error) => o.log.warn('could not remove the ACME TXT record', { error: e.message }));
    },
  });
  return { certPem, keyPem: key.toString() };
}

// ---- HTTP-01 ------------------------------------------------------------------------------

const CHALLENGE_PATH = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/;

/** Serves `/.well-known/acme-challenge/<token>` answers while an order is running. */
export class Http01Responder {
  private readonly answers = new Map<string, string>();
  private server: Server | undefined;

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.answers.delete(token);
  }

  /** Node request handler: the key authorization as text/plain, or 404. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const token = CHALLENGE_PATH.exec((req.url ?? '').split('?')[0]!)?.[1];
    const answer = token !== undefined ? this.answers.get(token) : undefined;
    res.statusCode = answer === undefined ? 404 : 200;
    res.setHeader('Content-Type', 'text/plain');
    res.end(answer ?? 'Not found');
  };

  /**
   * Listens on the challenge port for the duration of an order. A port already taken (Hearth's
   * own client listener, or another web server forwarding here) is not fatal: the client
   * listener answers challenges too.
   */
  async listen(port: number, log: Log): Promise<void> {
    if (this.server) return;
    const server = createServer(this.handle);
    await new Promise<void>((resolve) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        log.warn(`cannot listen on the ACME challenge port ${port}; relying on the client listener`, { error: e.code ?? e.message });
        resolve();
      });
      server.listen(port, () => {
        this.server = server;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

// ---- DNS-01 providers ---------------------------------------------------------------------

export const DESEC_API = 'https://desec.io/api/v1';
export const DUCKDNS_API = 'https://www.duckdns.org';

/** Picks the provider the settings name; TlsError when something it needs is missing. */
export function dnsProviderFromSettings(s: TlsSettings): DnsProvider {
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new TlsError(`The DNS challenge needs ${what}.`);
    return v;
  };
  switch (s.acmeDnsProvider) {
    case 'desec':
      return desecProvider({ apiUrl: s.acmeDnsApiUrl ?? DESEC_API, token: need(s.acmeDnsApiToken, 'the deSEC API token'), zone: s.acmeDnsZone });
    case 'duckdns':
      return duckDnsProvider({ apiUrl: s.acmeDnsApiUrl ?? DUCKDNS_API, token: need(s.acmeDnsApiToken, 'the DuckDNS token') });
    case 'hook':
      return hookProvider(need(s.acmeDnsHookCommand, 'a hook command (acmeDnsHookCommand in the settings file)'));
    default:
      throw new TlsError('Choose a DNS provider for the DNS challenge (deSEC, DuckDNS or a hook command).');
  }
}

async function expectOk(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/**
 * deSEC (https://desec.io/api/v1/): the RRset bulk PUT creates or replaces the TXT set; an empty
 * `records` list deletes it. `zone` is the domain registered at deSEC (default: the record's
 * parent name with the first label of `_acme-challenge.` removed).
 */
export function desecProvider(o: { apiUrl: string; token: string; zone?: string }): DnsProvider {
  const put = async (recordName: string, records: string[]): Promise<void> => {
    const domain = recordName.replace(/^_acme-challenge\./, '');
    const zone = o.zone ?? domain;
    if (domain !== zone && !domain.endsWith(`.${zone}`)) throw new TlsError(`${domain} is not inside the deSEC domain ${zone}.`);
    const subname = recordName.slice(0, recordName.length - zone.length - 1);
    const res = await fetch(`${o.apiUrl.replace(/\/$/, '')}/domains/${encodeURIComponent(zone)}/rrsets/`, {
      method: 'PUT',
      headers: { Authorization: `Token ${o.token}`, 'Content-Type': 'application/json' },
      // deSEC's minimum TTL is 3600; TXT values are quoted per RFC 1035 presentation format.
      body: JSON.stringify([{ subname, type: 'TXT', ttl: 3600, records: records.map((r) => `"${r}"`) }]),
    });
    await expectOk(res, 'deSEC');
  };
  return { set: (n, v) => put(n, [v]), clear: (n) => put(n, []) };
}

/** DuckDNS (https://www.duckdns.org/update): one TXT value per subdomain; answers "OK" or "KO". */
export function duckDnsProvider(o: { apiUrl: string; token: string }): DnsProvider {
  const update = async (recordName: string, txt: string, clear: boolean): Promise<void> => {
    const m = /^_acme-challenge\.(?:.+\.)?([^.]+)\.duckdns\.org$/i.exec(recordName);
    if (!m) throw new TlsError('DuckDNS can only set records for names ending in .duckdns.org.');
    const q = new URLSearchParams({ domains: m[1]!, token: o.token, txt, verbose: 'false' });
    if (clear) q.set('clear', 'true');
    const text = await expectOk(await fetch(`${o.apiUrl.replace(/\/$/, '')}/update?${q}`), 'DuckDNS');
    if (!text.startsWith('OK')) throw new Error('DuckDNS refused the update (check the token and domain)');
  };
  return { set: (n, v) => update(n, v, false), clear: (n, v) => update(n, v, true) };
}

/** Runs the admin's command with the record in its environment; a non-zero exit fails. */
export function hookProvider(command: string): DnsProvider {
  const run = (action: 'set' | 'clear', recordName: string, value: string): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(
        '/bin/sh',
        ['-c', command],
        { env: { ...process.env, HEARTH_ACME_ACTION: action, HEARTH_ACME_RECORD: recordName, HEARTH_ACME_TXT: value }, timeout: 120_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`DNS hook failed (${action}): ${String(stderr).trim().slice(0, 300) || err.message}`)) : resolve()),
      );
    });
  return { set: (n, v) => run('set', n, v), clear: (n, v) => run('clear', n, v) };
}
