/**
 * The federation HTTP client every outbound federation call goes through (spec: server-server
 * "API standards", "TLS", "Request Authentication"): resolves the destination (resolver.ts), looks
 * up its addresses and refuses private ones unless allowed, connects over TLS with SNI and
 * certificate verification, signs the request with X-Matrix, and reads a bounded JSON answer.
 * A remote's error is wrapped in a FederationError (502/504 here), never forwarded as is; callers
 * that must react to the remote's errcode read `err.remote`.
 */
import { request as httpsRequest, Agent, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import { MatrixError } from '../../errors.ts';
import { signRequest } from './request-auth.ts';
import { isPrivateAddress, type ResolvedServer, type ServerResolver } from './resolver.ts';
import { WELL_KNOWN_MAX_BYTES, WELL_KNOWN_PATH, type WellKnownHttpResponse } from './well-known.ts';

export type FederationMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined;

export interface FederationRequestOptions {
  /** JSON request body; signed as `content`. */
  body?: unknown;
  /** Query parameters; arrays repeat the name (`?v=1&v=2`), undefined values are left out. */
  query?: Readonly<Record<string, QueryValue>>;
  /** Whole-request deadline, connection to last byte (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Largest response body accepted (default 100 MiB, Synapse's limit for send_join). */
  maxResponseBytes?: number;
}

export interface RawFederationResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer whose body is left unread (media): the caller consumes it or destroys it. */
export interface StreamedFederationResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** Largest error body read from a streamed request's non-2xx answer. */
const STREAM_ERROR_BODY_BYTES = 64 * 1024;
/** Redirects followed by getUrlStream. */
const MAX_URL_REDIRECTS = 5;

/** Why a request failed. `remote`: the remote answered with a non-2xx status. */
export type FederationFailureKind = 'refused' | 'unreachable' | 'timeout' | 'remote' | 'bad_response';

/**
 * A failed federation request. It is a MatrixError, so if it reaches the HTTP edge the client sees
 * 502 (504 for timeouts) with our own message, not the remote's body.
 */
export class FederationError extends MatrixError {
  constructor(
    readonly destination: string,
    readonly kind: FederationFailureKind,
    message: string,
    /** Present for kind 'remote': what the remote said, for callers that translate it. */
    readonly remote?: { status: number; errcode?: string; error?: string; body?: unknown },
  ) {
    super(kind === 'timeout' ? 504 : 502, 'M_UNKNOWN', `Federation request to ${destination} failed: ${message}`);
    this.name = 'FederationError';
  }
}

/** One finished outbound request, for destination health (last success/failure). */
export interface FederationOutcome {
  destination: string;
  method: FederationMethod;
  path: string;
  ok: boolean;
  status?: number;
  kind?: FederationFailureKind;
  error?: string;
  durationMs: number;
}

export interface FederationClientDeps {
  serverName: string;
  signingKey: Ed25519SigningKey;
  resolver: ServerResolver;
  connector: HttpsConnector;
  /** The server deny/allow lists: outbound requests to a refused server fail with kind 'refused'. */
  isServerAllowed: (serverName: string) => boolean;
  now: () => number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024;

/** Builds a path from a template, percent-encoding every interpolated value:
 * fedPath`/_matrix/federation/v1/send/${txnId}`. */
export function fedPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => (out += encodeURIComponent(String(v)) + strings[i + 1]!));
  return out;
}

export function encodeQuery(query: FederationRequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) params.append(k, String(x));
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export class FederationClient {
  private readonly listeners = new Set<(o: FederationOutcome) => void>();

  constructor(private readonly deps: FederationClientDeps) {}

  get serverName(): string {
    return this.deps.serverName;
  }

  /** Calls `listener` after every request (success or failure). Returns an unsubscribe function. */
  onOutcome(listener: (o: FederationOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A signed JSON request; resolves with the parsed 2xx body, throws FederationError otherwise. */
  async request<T = unknown>(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions = {}): Promise<T> {
    const res = await this.requestRaw(destination, method, path, opts);
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new FederationError(destination, 'bad_response', `${method} ${path}: response is not JSON`);
    }
  }

  /** A signed request whose 2xx answer is returned as bytes (media, multipart). */
  async requestRaw(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions = {}): Promise<RawFederationResponse> {
    return this.observed(destination, method, path, async () => {
      const res = await this.send(destination, method, path, opts);
      if (res.status < 200 || res.status >= 300) throw remoteError(destination, method, path, res);
      return res;
    });
  }

  /**
   * A signed GET whose body is streamed, not buffered (remote media, any size). Resolves for 2xx
   * and for redirects (3xx with a Location, body discarded: following one is the caller's choice);
   * anything else throws FederationError as request() does. The deadline still covers the body.
   */
  async requestStream(destination: string, path: string, opts: Omit<FederationRequestOptions, 'body' | 'maxResponseBytes'> = {}): Promise<StreamedFederationResponse> {
    return this.observed(destination, 'GET', path, async () => {
      const { targets, uri, headers } = await this.prepare(destination, 'GET', path, opts);
      return acceptStreamed(destination, path, await this.deps.connector.sendStream(destination, targets, 'GET', uri, { ...headers, Accept: '*/*' }, opts));
    });
  }

  /**
   * An unsigned GET of an https URL a remote sent us to (a media download's Location), streamed.
   * It goes through the same connector as federation requests, so the private-address policy,
   * TLS verification, the deadline and the deny/allow lists apply to it and to each redirect it
   * makes in turn.
   */
  async getUrlStream(rawUrl: string, opts: Pick<FederationRequestOptions, 'timeoutMs' | 'signal'> = {}): Promise<StreamedFederationResponse> {
    let url = new URL(rawUrl);
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'https:') throw new FederationError(url.host, 'refused', 'redirect to a non-https URL');
      // An allowed server must not bounce us to one the deny/allow lists refuse.
      if (!this.deps.isServerAllowed(url.host)) throw new FederationError(url.host, 'refused', 'the server is not allowed by the federation deny/allow lists');
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const target: ResolvedServer = { host, port: url.port ? Number(url.port) : 443, hostHeader: url.host, tlsName: host };
      const res = await acceptStreamed(url.host, url.pathname, await this.deps.connector.sendStream(url.host, [target], 'GET', url.pathname + url.search, { Accept: '*/*' }, opts));
      if (res.status < 300) return res;
      if (hop >= MAX_URL_REDIRECTS) throw new FederationError(url.host, 'bad_response', 'too many redirects');
      url = new URL(res.headers.location!, url);
    }
  }

  /** Runs one request and tells the outcome listeners (destination health) how it went. */
  private async observed<R extends { status: number }>(destination: string, method: FederationMethod, path: string, run: () => Promise<R>): Promise<R> {
    const started = this.deps.now();
    const report = (o: Omit<FederationOutcome, 'destination' | 'method' | 'path' | 'durationMs'>): void => {
      const outcome = { destination, method, path, durationMs: this.deps.now() - started, ...o };
      for (const l of this.listeners) {
        try {
          l(outcome);
        } catch {
          // An observer's failure must not fail the request.
        }
      }
    };
    try {
      const res = await run();
      report({ ok: true, status: res.status });
      return res;
    } catch (e) {
      const err = e instanceof FederationError ? e : new FederationError(destination, 'unreachable', (e as Error).message);
      report({ ok: false, status: err.remote?.status, kind: err.kind, error: err.message });
      throw err;
    }
  }

  private async send(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions): Promise<RawFederationResponse> {
    const { targets, uri, headers, body } = await this.prepare(destination, method, path, opts);
    return this.deps.connector.send(destination, targets, method, uri, headers, body, opts);
  }

  /** The checks, resolution and X-Matrix signature every federation request starts with. */
  private async prepare(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions) {
    if (destination === this.deps.serverName) throw new FederationError(destination, 'refused', 'refusing to send a federation request to ourselves');
    if (!this.deps.isServerAllowed(destination)) throw new FederationError(destination, 'refused', 'the server is not allowed by the federation deny/allow lists');
    if (!path.startsWith('/')) throw new Error(`federation path must be absolute: ${path}`);
    let targets: ResolvedServer[];
    try {
      targets = await this.deps.resolver.resolve(destination);
    } catch (e) {
      throw new FederationError(destination, 'unreachable', `cannot resolve: ${(e as Error).message}`);
    }
    const uri = path + encodeQuery(opts.query);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body), 'utf8');
    // Sign what the remote will parse: the sent bytes read back (undefined fields dropped, toJSON applied).
    const content = body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as unknown);
    const authorization = signRequest({ method, uri, origin: this.deps.serverName, destination, content }, this.deps.signingKey);
    const headers: Record<string, string> = { Authorization: authorization, Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    return { targets, uri, headers, body };
  }
}

/** A streamed answer that is 2xx, or a redirect (its body discarded); a FederationError otherwise. */
async function acceptStreamed(destination: string, path: string, res: StreamedFederationResponse): Promise<StreamedFederationResponse> {
  if (res.status >= 200 && res.status < 300) return res;
  if (res.status >= 300 && res.status < 400 && typeof res.headers.location === 'string') {
    res.body.resume();
    return res;
  }
  throw remoteError(destination, 'GET', path, { ...res, body: await readBounded(res.body, STREAM_ERROR_BODY_BYTES) });
}

/** Reads at most `limit` bytes of a stream (an error answer's body), then lets go of it. */
async function readBounded(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      chunks.push(c);
      size += c.length;
      if (size >= limit) break;
    }
  } catch {
    // A body cut short is still enough to report the status.
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, limit);
}

function remoteError(destination: string, method: string, path: string, res: RawFederationResponse): FederationError {
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    body = undefined;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as { errcode?: unknown; error?: unknown };
  const errcode = typeof b.errcode === 'string' ? b.errcode.slice(0, 100) : undefined;
  const error = typeof b.error === 'string' ? b.error.slice(0, 500) : undefined;
  return new FederationError(destination, 'remote', `${method} ${path}: HTTP ${res.status}${errcode ? ` ${errcode}` : ''}`, {
    status: res.status,
    errcode,
    error,
    body,
  });
}

export interface ConnectorSettings {
  verifyTls: boolean;
  /** A PEM file of extra trusted CAs (on top of the system store and NODE_EXTRA_CA_CERTS). */
  extraCaCertsFile?: string;
  allowPrivateAddresses: boolean;
}

export interface HttpsConnectorDeps {
  settings: () => ConnectorSettings;
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/**
 * Connects to resolved targets: DNS lookup, the private-address check on the resolved IP (we then
 * connect to that IP, so a second lookup cannot swap it), TLS with SNI and verification against
 * `tlsName`, one keep-alive agent per TLS configuration.
 */
export class HttpsConnector {
  private agent?: { key: string; agent: Agent };
  private readonly lookup: (host: string) => Promise<{ address: string; family: number }[]>;

  constructor(private readonly deps: HttpsConnectorDeps) {
    this.lookup = deps.lookup ?? ((host) => dnsPromises.lookup(host, { all: true, verbatim: true }));
  }

  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  /** Tries each target and each of its addresses in order until one answers (any HTTP status). */
  async send(
    destination: string,
    targets: readonly ResolvedServer[],
    method: string,
    uri: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    opts: Pick<FederationRequestOptions, 'timeoutMs' | 'signal' | 'maxResponseBytes'>,
  ): Promise<RawFederationResponse> {
    return this.connect(destination, targets, method, uri, headers, body, opts, bufferedReader(opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES));
  }

  /** As send, but the body is handed over unread as soon as the headers arrive (any HTTP status). */
  async sendStream(
    destination: string,
    targets: readonly ResolvedServer[],
    method: string,
    uri: string,
    headers: Record<string, string>,
    opts: Pick<FederationRequestOptions, 'timeoutMs' | 'signal'>,
  ): Promise<StreamedFederationResponse> {
    return this.connect(destination, targets, method, uri, headers, undefined, opts, async (res) => ({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
  }

  private async connect<T>(
    destination: string,
    targets: readonly ResolvedServer[],
    method: string,
    uri: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    opts: Pick<FederationRequestOptions, 'timeoutMs' | 'signal'>,
    read: ResponseReader<T>,
  ): Promise<T> {
    const settings = this.deps.settings();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const failures: string[] = [];
    // Refused (not unreachable) when every candidate address was a forbidden one.
    let onlyForbidden = true;
    for (const target of targets) {
      let addresses: string[];
      try {
        addresses = isIP(target.host) ? [target.host] : (await this.lookup(target.host)).map((a) => a.address);
      } catch (e) {
        onlyForbidden = false;
        failures.push(`${target.host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        continue;
      }
      const allowed = settings.allowPrivateAddresses ? addresses : addresses.filter((a) => !isPrivateAddress(a));
      if (allowed.length === 0 && addresses.length > 0) {
        failures.push(`${target.host} resolves only to private or loopback addresses (${addresses.join(', ')}), which federation is not allowed to reach`);
        continue;
      }
      if (allowed.length > 0) onlyForbidden = false;
      for (const address of allowed) {
        if (signal.aborted) break;
        try {
          return await this.sendTo(target, address, method, uri, headers, body, signal, read, settings);
        } catch (e) {
          if (signal.aborted) break;
          if (e instanceof FederationError) throw e;
          failures.push(`${address}:${target.port}: ${(e as Error).message}`);
        }
      }
    }
    if (signal.aborted) {
      if (deadline.aborted) throw new FederationError(destination, 'timeout', `${method} ${uri.split('?')[0]}: no answer within ${timeoutMs} ms`);
      throw new FederationError(destination, 'unreachable', 'request aborted');
    }
    throw new FederationError(destination, onlyForbidden && failures.length > 0 ? 'refused' : 'unreachable', failures.join('; ') || 'no address to connect to');
  }

  private agentFor(s: ConnectorSettings): Agent {
    const key = `${s.verifyTls}|${s.extraCaCertsFile ?? ''}`;
    if (this.agent?.key === key) return this.agent.agent;
    this.agent?.agent.destroy();
    const ca = s.extraCaCertsFile ? trustedCas(s.extraCaCertsFile) : undefined;
    const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: s.verifyTls, ...(ca ? { ca } : {}) });
    this.agent = { key, agent };
    return agent;
  }

  private sendTo<T>(
    target: ResolvedServer,
    address: string,
    method: string,
    uri: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal,
    read: ResponseReader<T>,
    settings: ConnectorSettings,
    retried = false,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const options: RequestOptions = {
        host: address,
        port: target.port,
        method,
        path: uri,
        headers: { ...headers, Host: target.hostHeader, ...(body ? { 'Content-Length': String(body.length) } : {}) },
        agent: this.agentFor(settings),
        signal,
        // SNI only for names: RFC 6066 forbids IP addresses in it.
        servername: isIP(target.tlsName) ? '' : target.tlsName,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(target.tlsName, cert),
      };
      const req = httpsRequest(options, (res) => {
        answered = true;
        read(res, (e) => req.destroy(e)).then(resolve, reject);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed meanwhile: retry once on a fresh connection.
        if (!retried && !answered && req.reusedSocket && e.code === 'ECONNRESET' && !signal.aborted) {
          this.sendTo(target, address, method, uri, headers, body, signal, read, settings, true).then(resolve, reject);
          return;
        }
        reject(e);
      });
      req.end(body);
    });
  }

  /** GET https://<hostname>/.well-known/matrix/server, following up to 5 https redirects. */
  async fetchWellKnown(hostname: string): Promise<WellKnownHttpResponse> {
    let url = new URL(`https://${hostname}${WELL_KNOWN_PATH}`);
    for (let hop = 0; hop <= 5; hop++) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = url.port ? Number(url.port) : 443;
      const target: ResolvedServer = { host, port, hostHeader: url.host, tlsName: host };
      const res = await this.send(hostname, [target], 'GET', url.pathname + url.search, { Accept: 'application/json' }, undefined, {
        timeoutMs: 10_000,
        maxResponseBytes: WELL_KNOWN_MAX_BYTES,
      });
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
        url = new URL(location, url);
        if (url.protocol !== 'https:') throw new Error('well-known redirects to a non-https URL');
        continue;
      }
      return { status: res.status, headers: res.headers, body: res.body };
    }
    throw new Error('too many well-known redirects');
  }
}

/** Turns an answer into the connector's result; `abort` fails the request (e.g. a body too large). */
type ResponseReader<T> = (res: IncomingMessage, abort: (e: Error) => void) => Promise<T>;

/** Reads the whole body, at most `maxBytes` of it. */
function bufferedReader(maxBytes: number): ResponseReader<RawFederationResponse> {
  return (res, abort) =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          abort(new Error(`response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
}

/** The system roots, NODE_EXTRA_CA_CERTS (which an explicit `ca` would otherwise drop), and `file`. */
function trustedCas(file: string): string[] {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return [...rootCertificates, ...(extra ? [readFileSync(extra, 'utf8')] : []), readFileSync(file, 'utf8')];
}
