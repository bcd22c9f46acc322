/**
 * `/.well-known/matrix/server` delegation (spec: server-server "Resolving server names" step 3 and
 * wellknown.yaml), both ways: parsing and caching a remote's answer with the spec's caching rules
 * (Cache-Control respected, 24 h by default, at most 48 h; failures cached for an hour), and the
 * body we serve when the `federationWellKnownServer` setting delegates our own name.
 */
import { parseServerName } from '../../core/ids.ts';

export const WELL_KNOWN_PATH = '/.well-known/matrix/server';
export const WELL_KNOWN_DEFAULT_TTL_MS = 24 * 3600_000;
export const WELL_KNOWN_MAX_TTL_MS = 48 * 3600_000;
export const WELL_KNOWN_ERROR_TTL_MS = 3600_000;
/** Synapse's limit; a well-known answer is a few dozen bytes. */
export const WELL_KNOWN_MAX_BYTES = 50 * 1024;

/** The delegated server name, or undefined when the answer is not usable (skip to SRV). */
export type WellKnownResult = { delegated: string } | { delegated: undefined; reason: string };

export interface WellKnownHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Parses a `/.well-known/matrix/server` answer (anything but a 200 with a valid `m.server` is an error). */
export function parseWellKnown(res: WellKnownHttpResponse): WellKnownResult {
  if (res.status !== 200) return { delegated: undefined, reason: `HTTP ${res.status}` };
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    return { delegated: undefined, reason: 'not JSON' };
  }
  const server = (json as { 'm.server'?: unknown } | null)?.['m.server'];
  if (typeof server !== 'string' || parseServerName(server) === undefined) {
    return { delegated: undefined, reason: 'm.server missing or not a valid server name' };
  }
  return { delegated: server };
}

/** How long a successful answer may be cached: Cache-Control max-age capped at 48 h; 24 h without
 * one; not at all for no-store/no-cache (then we still use it for this one request). */
export function wellKnownTtlMs(headers: WellKnownHttpResponse['headers']): number {
  const raw = headers['cache-control'];
  const cc = (Array.isArray(raw) ? raw.join(',') : raw ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(cc)) return 0;
  const m = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/.exec(cc);
  if (!m) return WELL_KNOWN_DEFAULT_TTL_MS;
  return Math.min(Number(m[1]) * 1000, WELL_KNOWN_MAX_TTL_MS);
}

interface CacheEntry {
  result: WellKnownResult;
  expiresAt: number;
}

/** Looks up and caches well-known answers per hostname; concurrent lookups share one fetch. */
export class WellKnownCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<WellKnownResult>>();

  constructor(
    private readonly fetch: (hostname: string) => Promise<WellKnownHttpResponse>,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  async lookup(hostname: string): Promise<WellKnownResult> {
    const hit = this.entries.get(hostname);
    if (hit && hit.expiresAt > this.now()) return hit.result;
    let p = this.inflight.get(hostname);
    if (!p) {
      p = this.fetchAndCache(hostname).finally(() => this.inflight.delete(hostname));
      this.inflight.set(hostname, p);
    }
    return p;
  }

  private async fetchAndCache(hostname: string): Promise<WellKnownResult> {
    let result: WellKnownResult;
    let ttl: number;
    try {
      const res = await this.fetch(hostname);
      result = parseWellKnown(res);
      ttl = result.delegated === undefined ? WELL_KNOWN_ERROR_TTL_MS : wellKnownTtlMs(res.headers);
    } catch (e) {
      result = { delegated: undefined, reason: (e as Error).message };
      ttl = WELL_KNOWN_ERROR_TTL_MS;
    }
    if (ttl > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.delete(hostname);
      this.entries.set(hostname, { result, expiresAt: this.now() + ttl });
    }
    return result;
  }

  /** Forgets cached answers (all, or one host's), e.g. when an admin asks to retry a destination. */
  forget(hostname?: string): void {
    if (hostname === undefined) this.entries.clear();
    else this.entries.delete(hostname);
  }
}

/** Our own well-known body when delegation is configured, else undefined (answer 404). */
export function ownWellKnown(delegatedTo: string | undefined): { 'm.server': string } | undefined {
  return delegatedTo ? { 'm.server': delegatedTo } : undefined;
}
