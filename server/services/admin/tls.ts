/**
 * TLS for the homeserver's TLS listener (issue 4, "How devices will reach it"): one manager for
 * every mode the setup wizard offers — none; a self-signed certificate made by Hearth (a local CA
 * kept in the data folder, so phones that trusted it keep trusting renewed server certificates);
 * Let's Encrypt over ACME HTTP-01 or DNS-01 (acme.ts), renewed 30 days before expiry; files the
 * user already has; or a reverse proxy that terminates TLS (then X-Forwarded-For is believed from
 * the configured addresses only). The listener holds a SecureContext that `onChange` swaps, so a
 * new certificate takes effect without a restart.
 */
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { Http01Responder, obtainCertificate, dnsProviderFromSettings, type DnsProvider } from './acme.ts';
import type { CertificateInfo, DnsProviderName, TlsMode, TlsStatus } from './status-types.ts';

type X509Module = typeof X509;
let x509Module: Promise<X509Module> | undefined;
/** @peculiar/x509 is loaded on first use (~20 MB): only making certificates needs it. */
function loadX509(): Promise<X509Module> {
  return (x509Module ??= (import('@peculiar/x509') as Promise<X509Module>).then((m) => {
    m.cryptoProvider.set(webcrypto as unknown as Crypto);
    return m;
  }));
}

const DAY = 86_400_000;
/** Let's Encrypt's advice: renew when a third of the 90 days is left. */
export const RENEW_BEFORE_MS = 30 * DAY;
const RENEWAL_CHECK_MS = 12 * 3_600_000;
const CLOSE_WAIT_MS = 5_000;
const CA_VALIDITY_MS = 10 * 365 * DAY;
/** Apple devices refuse server certificates valid for more than 825 days. */
const SELF_SIGNED_VALIDITY_MS = 800 * DAY;
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** The settings this manager reads (a subset of server/config/settings.ts). */
export interface TlsSettings {
  serverName: string;
  dataDir: string;
  tlsMode?: TlsMode;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSignedNames?: string[];
  trustedProxies?: string[];
  acmeDirectoryUrl?: string;
  acmeDirectoryCaFile?: string;
  acmeEmail?: string;
  acmeDomains?: string[];
  acmeChallengePort?: number;
  acmeDnsProvider?: DnsProviderName;
  acmeDnsApiUrl?: string;
  acmeDnsApiToken?: string;
  acmeDnsZone?: string;
  acmeDnsHookCommand?: string;
  acmeDnsPropagationSeconds?: number;
}

export interface KeyPairPem {
  /** The certificate, followed by its chain. */
  certPem: string;
  keyPem: string;
}

// ---- certificates -------------------------------------------------------------------------

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function serial(): string {
  // Positive 128-bit serial: clear the top bit so DER does not need a sign byte.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALG, true, ['sign']);
}

/** A local certificate authority for self-signed mode (and for tests' private ACME servers). */
export async function createCertificateAuthority(commonName: string, now = Date.now()): Promise<KeyPairPem> {
  const x509 = await loadX509();
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(commonName)}, O=Hearth`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + CA_VALIDITY_MS),
    keys,
    signingAlgorithm: EC_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** A server certificate signed by `ca`, valid for `names` (DNS names and IP addresses). */
export async function issueServerCertificate(ca: KeyPairPem, names: string[], now = Date.now()): Promise<KeyPairPem> {
  const x509 = await loadX509();
  if (names.length === 0) throw new Error('A certificate needs at least one name');
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await newKeys();
  const sans = [...new Set(names)].map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(names[0]!)}`,
    issuer: caCert.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + SELF_SIGNED_VALIDITY_MS),
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.keyPem),
    signingAlgorithm: EC_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  // The chain carries the CA too, so a client that was given the CA can build the path.
  return { certPem: cert.toString('pem') + '\n' + ca.certPem, keyPem: await exportKey(keys.privateKey) };
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** Subject, expiry and names of the first certificate in a PEM chain. Throws on bad PEM. */
export function describeCertificate(pem: string): CertificateInfo {
  const c = new X509Certificate(pem);
  const names = (c.subjectAltName ?? '')
    .split(', ')
    .map((s) => /^(?:DNS|IP Address):(.+)$/.exec(s)?.[1])
    .filter((s): s is string => s !== undefined);
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serialNumber: c.serialNumber,
    notBefore: Date.parse(c.validFrom),
    notAfter: Date.parse(c.validTo),
    names,
    fingerprintSha256: c.fingerprint256,
  };
}

/** Checks that `keyPem` is the private key of the first certificate in `certPem`; readable errors. */
export function checkKeyPair(pair: KeyPairPem): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
  } catch {
    throw new TlsError('The certificate is not a PEM certificate (it should start with -----BEGIN CERTIFICATE-----).');
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch {
    throw new TlsError('The private key is not a PEM private key (it should start with -----BEGIN … PRIVATE KEY-----).');
  }
  if (!cert.checkPrivateKey(key)) throw new TlsError('The private key does not belong to this certificate.');
  return describeCertificate(pair.certPem);
}

/** A problem the admin can fix (bad files, missing settings); shown as is. */
export class TlsError extends Error {
  override name = 'TlsError';
}

/** Writes a file atomically (temp, fsync, rename), keys readable by the owner only. */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  chmodSync(path, mode);
}

// ---- the manager --------------------------------------------------------------------------

export interface TlsManagerOptions {
  settings: () => TlsSettings;
  /** LAN addresses put in the self-signed certificate (default: none besides the settings'). */
  lanAddresses?: () => string[];
  log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; error(m: string, f?: Record<string, unknown>): void };
  clock?: () => number;
  /** Seconds between renewal checks; default 12 hours. */
  renewalCheckMs?: number;
}

export class TlsManager {
  private active: KeyPairPem | undefined;
  private activeInfo: CertificateInfo | null = null;
  private temporary = false;
  private lastError: string | null = null;
  private readonly listeners: ((pair: KeyPairPem) => void)[] = [];
  private acmeRun: Promise<CertificateInfo> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly clock: () => number;
  /** Answers HTTP-01 challenges, on the challenge port and on the client listener. */
  readonly http01 = new Http01Responder();
  private readonly proxies = { key: '', list: new BlockList() };

  constructor(private readonly o: TlsManagerOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /** The TLS settings in effect. */
  config(): TlsSettings {
    return this.o.settings();
  }

  /** Whether 'files' mode has something to serve (an imported pair, or paths in the settings). */
  hasFiles(): boolean {
    const s = this.o.settings();
    return Boolean(s.tlsCert && s.tlsKey) || existsSync(this.dir('imported', 'cert.pem'));
  }

  get mode(): TlsMode {
    const s = this.o.settings();
    // Before tlsMode existed, a certificate and key given on the command line meant "files".
    return s.tlsMode ?? (s.tlsCert && s.tlsKey ? 'files' : 'none');
  }

  private dir(...parts: string[]): string {
    return join(this.o.settings().dataDir, 'tls', ...parts);
  }

  /** Loads (or makes) the certificate for the current mode and starts the renewal timer. */
  async start(): Promise<void> {
    await this.apply();
    this.timer = setInterval(() => void this.renewIfDue().catch(() => undefined), this.o.renewalCheckMs ?? RENEWAL_CHECK_MS);
    this.timer.unref();
  }

  /**
   * Makes the certificate for the mode in effect current (after a settings change). ACME modes
   * serve the last certificate issued, or a temporary self-signed one, and ask Let's Encrypt in
   * the background when none is valid for long enough.
   */
  async apply(): Promise<void> {
    const mode = this.mode;
    this.lastError = null;
    switch (mode) {
      case 'none':
      case 'proxy':
        return;
      case 'self-signed':
        if (!existsSync(this.dir('self-signed', 'cert.pem'))) await this.generateSelfSigned();
        else this.use(this.readPair(this.dir('self-signed')), false);
        return;
      case 'files':
        this.use(this.readPair(this.dir('imported'), this.o.settings().tlsCert, this.o.settings().tlsKey), false);
        return;
      case 'acme-http':
      case 'acme-dns': {
        if (existsSync(this.dir('acme', 'cert.pem'))) this.use(this.readPair(this.dir('acme')), false);
        else await this.useTemporary();
        void this.renewIfDue().catch(() => undefined);
        return;
      }
    }
  }

  /** Called with every new certificate; the TLS listener swaps its SecureContext. */
  onChange(fn: (pair: KeyPairPem) => void): void {
    this.listeners.push(fn);
  }

  current(): KeyPairPem | undefined {
    return this.active;
  }

  status(): TlsStatus {
    const mode = this.mode;
    const caPath = this.dir('ca.crt');
    const acme = mode === 'acme-http' || mode === 'acme-dns';
    return {
      mode,
      certificate: mode === 'none' || mode === 'proxy' ? null : this.activeInfo,
      temporary: this.temporary,
      caCertificate: mode === 'self-signed' && existsSync(caPath) ? describeCertificate(readFileSync(caPath, 'utf8')) : null,
      busy: this.acmeRun !== undefined,
      renewAfter: acme && this.activeInfo && !this.temporary ? this.activeInfo.notAfter - RENEW_BEFORE_MS : null,
      lastError: this.lastError,
    };
  }

  /** The local CA's certificate (PEM), for phones to install; undefined unless self-signed. */
  caCertificatePem(): string | undefined {
    const path = this.dir('ca.crt');
    return this.mode === 'self-signed' && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  /** Names for a self-signed certificate: the server name (without port), LAN IPs, extras. */
  selfSignedNames(): string[] {
    const s = this.o.settings();
    const host = s.serverName.startsWith('[') ? s.serverName.slice(1, s.serverName.indexOf(']')) : s.serverName.replace(/:\d+$/, '');
    return [...new Set([host, ...(s.tlsSelfSignedNames ?? []), ...(this.o.lanAddresses?.() ?? []), 'localhost', '127.0.0.1'])];
  }

  /** A new server certificate from the local CA (made on first use and kept). */
  async generateSelfSigned(): Promise<CertificateInfo> {
    const ca = await this.ensureCa();
    const pair = await issueServerCertificate(ca, this.selfSignedNames(), this.clock());
    this.writePair(this.dir('self-signed'), pair);
    this.o.log.info('made a self-signed certificate', { names: this.selfSignedNames() });
    return this.use(pair, false);
  }

  /** Stores certificate and key files the admin already has (checked first) and serves them. */
  importFiles(pair: KeyPairPem): CertificateInfo {
    const info = checkKeyPair(pair);
    if (info.notAfter <= this.clock()) throw new TlsError('This certificate has expired.');
    this.writePair(this.dir('imported'), pair);
    // Paths given by flags or the settings file would win over the import; the manager reads
    // the imported copy whenever the mode is 'files' and no paths are set.
    return this.use(pair, false);
  }

  /**
   * Asks the ACME server for a certificate now (one request at a time; a second caller shares
   * the first one's result) and swaps it in.
   */
  requestCertificate(): Promise<CertificateInfo> {
    this.acmeRun ??= this.runAcme().finally(() => {
      this.acmeRun = undefined;
    });
    return this.acmeRun;
  }

  /** Renews an ACME certificate when 30 days or less are left (or none was issued yet). */
  async renewIfDue(now = this.clock()): Promise<boolean> {
    const mode = this.mode;
    if (mode !== 'acme-http' && mode !== 'acme-dns') return false;
    if (!this.temporary && this.activeInfo && this.activeInfo.notAfter - RENEW_BEFORE_MS > now) return false;
    await this.requestCertificate();
    return true;
  }

  /** Express's `trust proxy`: only in proxy mode, only from the configured addresses. */
  trustsProxy(address: string): boolean {
    if (this.mode !== 'proxy') return false;
    const configured = this.o.settings().trustedProxies ?? [];
    const key = configured.join(',');
    if (key !== this.proxies.key) {
      this.proxies.key = key;
      this.proxies.list = proxyBlockList(configured);
    }
    const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const addr = v4mapped ?? address;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.proxies.list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** Stops renewals. A running ACME request (the CA may be retrying) gets a few seconds, then is left to fail. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.acmeRun) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.acmeRun.catch(() => undefined), new Promise((r) => (t = setTimeout(r, CLOSE_WAIT_MS)))]);
      clearTimeout(t);
    }
    await this.http01.stop();
  }

  // ---- internals ----

  private async runAcme(): Promise<CertificateInfo> {
    const s = this.o.settings();
    const mode = this.mode;
    try {
      const domains = s.acmeDomains?.length ? s.acmeDomains : [s.serverName.replace(/:\d+$/, '')];
      let dns: DnsProvider | undefined;
      if (mode === 'acme-dns') dns = dnsProviderFromSettings(s);
      else await this.http01.listen(s.acmeChallengePort ?? 80, this.o.log);
      try {
        const pair = await obtainCertificate({
          directoryUrl: s.acmeDirectoryUrl ?? LETS_ENCRYPT_DIRECTORY,
          directoryCaPem: s.acmeDirectoryCaFile ? readFileSync(s.acmeDirectoryCaFile, 'utf8') : undefined,
          email: s.acmeEmail,
          domains,
          accountKeyPath: this.dir('acme', 'account.key'),
          challenge: dns ? { type: 'dns-01', provider: dns, propagationSeconds: s.acmeDnsPropagationSeconds ?? 0 } : { type: 'http-01', responder: this.http01 },
          log: this.o.log,
        });
        checkKeyPair(pair);
        if (this.closed) throw new Error('stopped before the certificate arrived');
        this.writePair(this.dir('acme'), pair);
        this.o.log.info('certificate issued by ACME', { domains });
        return this.use(pair, false);
      } finally {
        await this.http01.stop();
      }
    } catch (e) {
      this.lastError = (e as Error).message;
      this.o.log.error('ACME certificate request failed', { error: this.lastError });
      throw e;
    }
  }

  private async ensureCa(): Promise<KeyPairPem> {
    const certPath = this.dir('ca.crt');
    const keyPath = this.dir('ca.key');
    if (existsSync(certPath) && existsSync(keyPath)) return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
    const ca = await createCertificateAuthority(`Hearth CA for ${this.o.settings().serverName}`, this.clock());
    writeFileDurably(keyPath, ca.keyPem);
    writeFileDurably(certPath, ca.certPem, 0o644);
    return ca;
  }

  private async useTemporary(): Promise<void> {
    const ca = await this.ensureCa();
    this.use(await issueServerCertificate(ca, this.selfSignedNames(), this.clock()), true);
  }

  private readPair(dir: string, certPath?: string, keyPath?: string): KeyPairPem {
    const cp = certPath ?? join(dir, 'cert.pem');
    const kp = keyPath ?? join(dir, 'key.pem');
    try {
      return { certPem: readFileSync(cp, 'utf8'), keyPem: readFileSync(kp, 'utf8') };
    } catch (e) {
      throw new TlsError(`Cannot read the certificate or key (${cp}, ${kp}): ${(e as Error).message}`);
    }
  }

  private writePair(dir: string, pair: KeyPairPem): void {
    writeFileDurably(join(dir, 'key.pem'), pair.keyPem);
    writeFileDurably(join(dir, 'cert.pem'), pair.certPem, 0o644);
  }

  private use(pair: KeyPairPem, temporary: boolean): CertificateInfo {
    const info = checkKeyPair(pair);
    this.active = pair;
    this.activeInfo = info;
    this.temporary = temporary;
    for (const fn of this.listeners) fn(pair);
    return info;
  }
}

/** Addresses and CIDR ranges ("10.0.0.0/8", "::1") as a BlockList; bad entries are skipped. */
function proxyBlockList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [addr, prefix] = e.split('/');
    const family = isIP(addr ?? '');
    if (family === 0) continue;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr!, type);
    else if (/^\d{1,3}$/.test(prefix)) list.addSubnet(addr!, Number(prefix), type);
  }
  return list;
}
