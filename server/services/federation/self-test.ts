/**
 * The federation self-test (issue 5, "Federation status"): what another homeserver sees when it
 * looks for this one. It resolves our own server name as a remote server would (spec:
 * server-server "Resolving server names", through resolver.ts with a fresh cache), checks that
 * the port answers, that the TLS certificate is valid for the name and not expired, and that
 * GET /_matrix/key/v2/server returns our current key, correctly signed (keys_server.yaml). Each
 * problem is explained in plain words for a family admin, with what to do about it.
 */
import { connect as tlsConnect, checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { Socket, isIP } from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import { parseServerName } from '../../core/ids.ts';
import { verifyJsonSignatures } from '../../core/crypto/signing.ts';
import { isPrivateAddress, ServerResolver, type ResolvedServer, type ResolverDns } from './resolver.ts';
import { WellKnownCache, type WellKnownHttpResponse, type WellKnownResult } from './well-known.ts';

export type SelfTestStatus = 'pass' | 'warn' | 'fail' | 'skipped';
export type SelfTestCheckId = 'federation' | 'resolve' | 'port' | 'certificate' | 'key';

export interface SelfTestCheck {
  id: SelfTestCheckId;
  status: SelfTestStatus;
  /** One line: what was checked. */
  title: string;
  /** What was found and, when something is wrong, what to do, in plain words. */
  detail: string;
}

/** How the name was resolved (spec steps): IP literal, explicit port, well-known, SRV, or port 8448. */
export type ResolutionMethod = 'ip-literal' | 'explicit-port' | 'well-known' | 'srv' | 'default-port';

export interface SelfTestResult {
  serverName: string;
  /** No check failed (warnings allowed). */
  ok: boolean;
  checkedTs: number;
  resolution?: {
    method: ResolutionMethod;
    /** The delegated name from /.well-known/matrix/server, when there is one. */
    wellKnown?: string;
    targets: Array<{ host: string; port: number; tlsName: string; addresses: string[] }>;
  };
  /** The certificate the federation port presented. */
  certificate?: { subject: string; issuer: string; names: string[]; validFrom: string; validTo: string };
  checks: SelfTestCheck[];
}

export interface SelfTestDeps {
  serverName: string;
  /** Our current signing key. */
  signingKey: { keyId: string; publicKeyBase64: string };
  federationEnabled(): boolean;
  /** Private addresses are fine (a home lab, two servers in one house): say so instead of warning. */
  allowPrivateAddresses(): boolean;
  /** GET https://<host>/.well-known/matrix/server (HttpsConnector.fetchWellKnown). */
  fetchWellKnown(hostname: string): Promise<WellKnownHttpResponse>;
  /** The CAs a certificate must chain to; undefined means Node's default store. */
  trustedCas(): string[] | undefined;
  dns?: ResolverDns;
  lookup?: (host: string) => Promise<Array<{ address: string }>>;
  now: () => number;
  /** Per network step (connect, TLS handshake, key fetch); default 8 s. */
  timeoutMs?: number;
}

const TITLES: Record<SelfTestCheckId, string> = {
  federation: 'Federation is turned on',
  resolve: 'Finding this server by its name',
  port: 'Reaching the federation port',
  certificate: 'Checking the security certificate',
  key: "Fetching this server's signing key",
};
const WARN_EXPIRY_DAYS = 14;
const DAY_MS = 24 * 3_600_000;
const HAIRPIN_HINT =
  'If you run this test from inside your home, note that some routers cannot reach their own public address from inside ("hairpin NAT"); ' +
  'if you are sure the port is forwarded, check from outside, for example with https://federationtester.matrix.org.';

interface Endpoint {
  target: ResolvedServer;
  address: string;
}

export class FederationSelfTest {
  private readonly lookup: (host: string) => Promise<Array<{ address: string }>>;
  private readonly timeoutMs: number;

  constructor(private readonly deps: SelfTestDeps) {
    this.lookup = deps.lookup ?? ((host) => dnsPromises.lookup(host, { all: true, verbatim: true }));
    this.timeoutMs = deps.timeoutMs ?? 8_000;
  }

  async run(): Promise<SelfTestResult> {
    const { serverName } = this.deps;
    const result: SelfTestResult = { serverName, ok: false, checkedTs: this.deps.now(), checks: [] };
    const add = (id: SelfTestCheckId, status: SelfTestStatus, detail: string): void => void result.checks.push({ id, status, title: TITLES[id], detail });

    if (!this.deps.federationEnabled()) {
      add('federation', 'warn',
        'Federation is off in the settings, so other servers cannot talk to this one even if everything below works. Turn it on in the Federation page to talk to matrix.org and other servers.');
    }

    // 1. Resolve the name as a remote server would.
    const resolved = await this.resolve();
    if ('error' in resolved) {
      add('resolve', 'fail', resolved.error);
      return this.finish(result, ['port', 'certificate', 'key']);
    }
    result.resolution = resolved.resolution;
    const endpoints: Endpoint[] = resolved.targets.flatMap((t, i) => resolved.resolution.targets[i]!.addresses.map((address) => ({ target: t, address })));
    const where = resolved.resolution.targets.map((t) => `${t.host} port ${t.port}`).join(', then ');
    const how = describeMethod(resolved.resolution);
    if (endpoints.length === 0) {
      const names = resolved.resolution.targets.map((t) => t.host).join(', ');
      add('resolve', 'fail',
        `${how} Other servers would connect to ${where}, but the name ${names} has no address in DNS. Check the domain's DNS settings: it needs an address (A or AAAA) record pointing at your home's public IP address.`);
      return this.finish(result, ['port', 'certificate', 'key']);
    }
    const addresses = endpoints.map((e) => e.address);
    if (addresses.every((a) => isPrivateAddress(a)) && !this.deps.allowPrivateAddresses()) {
      add('resolve', 'warn',
        `${how} Other servers would connect to ${where}, which is ${addresses.join(', ')}: a private address only devices in your home (or on this computer) can reach. ` +
          'Servers on the internet cannot reach it; point the name at your public IP address and forward the port in your router.');
    } else {
      add('resolve', 'pass', `${how} Other servers connect to ${where} (${addresses.join(', ')}).`);
    }

    // 2. The port answers.
    const reachable = await this.firstReachable(endpoints);
    if ('error' in reachable) {
      add('port', 'fail', reachable.error);
      return this.finish(result, ['certificate', 'key']);
    }
    const ep = reachable.endpoint;
    add('port', 'pass', `Port ${ep.target.port} at ${ep.address} answers.`);

    // 3. The certificate.
    const cert = await this.checkCertificate(ep);
    if (cert.certificate) result.certificate = cert.certificate;
    add('certificate', cert.status, cert.detail);
    if (cert.status === 'fail') return this.finish(result, ['key']);

    // 4. The signing key.
    const key = await this.checkKey(ep);
    add('key', key.status, key.detail);
    return this.finish(result, []);
  }

  private finish(result: SelfTestResult, skipped: SelfTestCheckId[]): SelfTestResult {
    for (const id of skipped) result.checks.push({ id, status: 'skipped', title: TITLES[id], detail: 'Not checked: fix the problem above first.' });
    result.ok = !result.checks.some((c) => c.status === 'fail');
    return result;
  }

  /** Spec resolution with a fresh cache, recording the well-known answer and whether SRV was used. */
  private async resolve(): Promise<{ resolution: NonNullable<SelfTestResult['resolution']>; targets: ResolvedServer[] } | { error: string }> {
    const { serverName, now } = this.deps;
    const parsed = parseServerName(serverName);
    if (!parsed) return { error: `"${serverName}" is not a valid server name, so other servers cannot look it up.` };
    let srvUsed = false;
    const dns = this.deps.dns ?? dnsPromises;
    const wellKnownCache = new RecordingWellKnown((host) => this.deps.fetchWellKnown(host), now);
    const resolver = new ServerResolver({
      wellKnown: wellKnownCache,
      dns: {
        resolveSrv: async (name) => {
          const records = await dns.resolveSrv(name);
          if (records.some((r) => r.name !== '' && r.name !== '.')) srvUsed = true;
          return records;
        },
      },
      now,
    });
    let targets: ResolvedServer[];
    try {
      targets = await resolver.resolve(serverName);
    } catch (e) {
      return { error: `Looking up ${serverName} failed: ${(e as Error).message}.` };
    }
    const wellKnown = wellKnownCache.last;
    const method: ResolutionMethod =
      parsed.kind !== 'dns' ? 'ip-literal' : parsed.port !== undefined ? 'explicit-port' : srvUsed ? 'srv' : wellKnown?.delegated !== undefined ? 'well-known' : 'default-port';
    const out: NonNullable<SelfTestResult['resolution']> = { method, targets: [] };
    if (wellKnown?.delegated !== undefined) out.wellKnown = wellKnown.delegated;
    for (const t of targets) {
      let addresses: string[] = [];
      try {
        addresses = isIP(t.host) ? [t.host] : (await this.lookup(t.host)).map((a) => a.address);
      } catch {
        addresses = [];
      }
      out.targets.push({ host: t.host, port: t.port, tlsName: t.tlsName, addresses });
    }
    return { resolution: out, targets };
  }

  /** The first endpoint that accepts a TCP connection, or why none did. */
  private async firstReachable(endpoints: Endpoint[]): Promise<{ endpoint: Endpoint } | { error: string }> {
    let firstError: NodeJS.ErrnoException | undefined;
    for (const endpoint of endpoints) {
      try {
        await this.tcpConnect(endpoint.address, endpoint.target.port);
        return { endpoint };
      } catch (e) {
        firstError ??= e as NodeJS.ErrnoException;
      }
    }
    const { address, target } = endpoints[0]!;
    const port = target.port;
    switch (firstError?.code) {
      case 'ECONNREFUSED':
        return {
          error:
            `Nothing answers on port ${port} at ${address}. If Hearth runs at home, your router probably does not forward port ${port} to this computer: ` +
            `add a port forwarding rule for TCP port ${port} to this computer in the router's settings. Also check that Hearth's federation (TLS) listener is on. ${HAIRPIN_HINT}`,
        };
      case 'ETIMEDOUT':
        return {
          error:
            `No answer from port ${port} at ${address} within ${Math.round(this.timeoutMs / 1000)} seconds: a firewall or your router is dropping the connection. ` +
            `Forward TCP port ${port} to this computer in the router's settings and allow it in this computer's firewall. ${HAIRPIN_HINT}`,
        };
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return { error: `The address ${address} cannot be reached from this computer (${firstError.code}). Check that the name points at the right address and that this computer is online.` };
      default:
        return { error: `Connecting to port ${port} at ${address} failed (${firstError?.code ?? firstError?.message ?? 'unknown error'}).` };
    }
  }

  private tcpConnect(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.connect(port, host);
    });
  }

  private async checkCertificate(ep: Endpoint): Promise<{ status: SelfTestStatus; detail: string; certificate?: SelfTestResult['certificate'] }> {
    const { target, address } = ep;
    let socket: TLSSocket;
    try {
      socket = await this.tlsHandshake(ep);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return {
        status: 'fail',
        detail:
          `Port ${target.port} at ${address} answers, but not with a secure (TLS) connection (${err.code ?? err.message}). Other servers only talk to Hearth over HTTPS on this port: ` +
          'choose a TLS mode in the TLS page, or, if a reverse proxy or tunnel handles TLS, make sure it serves HTTPS on this port.',
      };
    }
    const cert = socket.getPeerCertificate();
    const authError = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : undefined;
    socket.destroy();
    if (!cert || Object.keys(cert).length === 0) {
      return { status: 'fail', detail: `Port ${target.port} at ${address} did not present a certificate. Choose a TLS mode in the TLS page.` };
    }
    const names = certificateNames(cert);
    const certificate = {
      subject: firstOf(cert.subject?.CN),
      issuer: firstOf(cert.issuer?.CN) || firstOf(cert.issuer?.O),
      names,
      validFrom: isoDate(cert.valid_from),
      validTo: isoDate(cert.valid_to),
    };
    const now = this.deps.now();
    const validTo = Date.parse(cert.valid_to);
    const validFrom = Date.parse(cert.valid_from);
    const forName = names.length > 0 ? names.join(', ') : certificate.subject;
    if (validTo < now) {
      return {
        status: 'fail',
        certificate,
        detail: `The certificate expired on ${dayOf(validTo)}. Other servers refuse expired certificates. Renew it in the TLS page (with Let's Encrypt, Hearth renews automatically once it can reach the ACME server).`,
      };
    }
    if (validFrom > now) {
      return { status: 'fail', certificate, detail: `The certificate only becomes valid on ${dayOf(validFrom)}. Check this computer's clock and date, then renew the certificate in the TLS page.` };
    }
    if (checkServerIdentity(target.tlsName, cert) !== undefined) {
      return {
        status: 'fail',
        certificate,
        detail: `The certificate is for ${forName}, but other servers expect a certificate for ${target.tlsName}. Get a certificate for ${target.tlsName} in the TLS page (Let's Encrypt can do it for a domain you own).`,
      };
    }
    if (authError !== undefined) {
      const selfMade = /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF/.test(authError);
      return {
        status: 'fail',
        certificate,
        detail: selfMade
          ? `The certificate for ${forName} is not signed by an authority other servers trust: it is self-signed or made by Hearth's own certificate authority. ` +
            "matrix.org and other servers only accept certificates from a public authority: choose Let's Encrypt in the TLS page."
          : `Other servers would not trust the certificate for ${forName} (${authError}). Get a new certificate in the TLS page.`,
      };
    }
    const daysLeft = Math.floor((validTo - now) / DAY_MS);
    if (daysLeft < WARN_EXPIRY_DAYS) {
      return { status: 'warn', certificate, detail: `The certificate for ${forName} is valid but expires in ${daysLeft} day(s), on ${dayOf(validTo)}. Renew it in the TLS page soon.` };
    }
    return { status: 'pass', certificate, detail: `The certificate is valid for ${target.tlsName} until ${dayOf(validTo)}, issued by ${certificate.issuer || 'an unnamed authority'}.` };
  }

  /** A TLS handshake that does not reject, so the certificate can be explained rather than refused. */
  private tlsHandshake({ target, address }: Endpoint): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const ca = this.deps.trustedCas();
      const socket = tlsConnect({
        host: address,
        port: target.port,
        servername: isIP(target.tlsName) ? undefined : target.tlsName,
        rejectUnauthorized: false,
        ...(ca ? { ca } : {}),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      });
    });
  }

  private async checkKey({ target, address }: Endpoint): Promise<{ status: SelfTestStatus; detail: string }> {
    const { serverName, signingKey } = this.deps;
    let res: { status: number; body: string };
    try {
      res = await this.httpsGet(target, address, '/_matrix/key/v2/server');
    } catch (e) {
      return { status: 'fail', detail: `Asking ${target.host} port ${target.port} for the signing key failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).` };
    }
    const notHearth =
      'Another program may be using this port, or a reverse proxy does not pass /_matrix/ addresses on to Hearth.';
    if (res.status !== 200) return { status: 'fail', detail: `The federation port answers, but not with the Matrix federation API (HTTP ${res.status}). ${notHearth}` };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(res.body) as Record<string, unknown>;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return { status: 'fail', detail: `The federation port answers, but its key answer is not valid JSON. ${notHearth}` };
    }
    if (body.server_name !== serverName) {
      return {
        status: 'fail',
        detail: `The server answering there says it is "${String(body.server_name)}", not "${serverName}": another Matrix server answers at that address, or the port forwarding points at the wrong computer.`,
      };
    }
    const published = (body.verify_keys as Record<string, { key?: unknown }> | undefined)?.[signingKey.keyId]?.key;
    if (published !== signingKey.publicKeyBase64) {
      return {
        status: 'fail',
        detail: `The server there publishes a different signing key than this Hearth's (${signingKey.keyId}): another server, or an old installation, answers for ${serverName}.`,
      };
    }
    const verdict = verifyJsonSignatures(body, serverName, { [serverName]: { [signingKey.keyId]: signingKey.publicKeyBase64 } });
    if (!verdict.ok) return { status: 'fail', detail: `The key answer is not correctly signed (${verdict.reason}), so other servers would not accept it.` };
    const validUntil = Number(body.valid_until_ts);
    if (!(validUntil > this.deps.now())) {
      return { status: 'fail', detail: 'The published key answer has already expired (valid_until_ts is in the past), so other servers would not accept it. Restart Hearth.' };
    }
    return { status: 'pass', detail: `Other servers can fetch this server's signing key ${signingKey.keyId} (${signingKey.publicKeyBase64}), correctly signed.` };
  }

  private httpsGet(target: ResolvedServer, address: string, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const ca = this.deps.trustedCas();
      const req = httpsRequest(
        {
          host: address,
          port: target.port,
          path,
          method: 'GET',
          headers: { Host: target.hostHeader, Accept: 'application/json' },
          servername: isIP(target.tlsName) ? undefined : target.tlsName,
          checkServerIdentity: (_h: string, cert: PeerCertificate) => checkServerIdentity(target.tlsName, cert),
          agent: false,
          signal: AbortSignal.timeout(this.timeoutMs),
          ...(ca ? { ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > 1024 * 1024) req.destroy(new Error('answer larger than 1 MiB'));
            else chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}

/** A fresh well-known cache that remembers its answer, to tell the admin about delegation. */
class RecordingWellKnown extends WellKnownCache {
  last: WellKnownResult | undefined;

  override async lookup(hostname: string): Promise<WellKnownResult> {
    this.last = await super.lookup(hostname);
    return this.last;
  }
}

function describeMethod(r: NonNullable<SelfTestResult['resolution']>): string {
  switch (r.method) {
    case 'ip-literal':
      return 'The server name is an IP address, so other servers connect to it directly.';
    case 'explicit-port':
      return 'The server name includes its port, so other servers connect to it directly.';
    case 'well-known':
      return `The server name is delegated to ${r.wellKnown} by https://…/.well-known/matrix/server.`;
    case 'srv':
      return `A DNS SRV record${r.wellKnown ? ` (for the delegated name ${r.wellKnown})` : ''} says where to connect.`;
    case 'default-port':
      return 'There is no delegation (/.well-known/matrix/server) or SRV record, so other servers use port 8448.';
  }
}

/** DNS names and IP addresses the certificate is for (subjectAltName, else the common name). */
function certificateNames(cert: PeerCertificate): string[] {
  const san = cert.subjectaltname;
  if (san) return san.split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address):/, '')).filter((s) => s.length > 0);
  const cn = firstOf(cert.subject?.CN);
  return cn ? [cn] : [];
}

/** Certificate name fields may repeat (an array); the first one names it. */
function firstOf(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function isoDate(s: string): string {
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : s;
}

function dayOf(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}
