/**
 * HTTP(S) GET on behalf of users (URL previews) with protection against server-side request
 * forgery: every hop's host is resolved and every resolved address must be public (not private,
 * loopback, link-local, multicast or reserved: isPrivateAddress, Synapse's default deny list)
 * unless an allow-list range covers it. The check happens inside the socket's own DNS lookup, so
 * the address connected to is the address checked (no DNS rebinding between check and connect).
 * Redirects are followed by hand, each re-checked; size, time and redirect count are bounded.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { MatrixError } from '../../errors.ts';
import { isPrivateAddress } from '../federation/resolver.ts';

export interface SafeFetchOptions {
  /** Addresses or CIDR ranges allowed although private (settings urlPreviewIpRangeAllowlist). */
  allowlist: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  userAgent: string;
}

export interface SafeFetchResult {
  /** The URL finally fetched, after redirects. */
  url: string;
  status: number;
  contentType: string | null;
  body: Buffer;
}

export const forbiddenAddress = (): MatrixError => new MatrixError(403, 'M_FORBIDDEN', 'URL previews of private or reserved addresses are not allowed');

export function buildAllowlist(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [addr, prefix] = e.split('/');
    const family = isIP(addr ?? '');
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(prefix), type);
  }
  return list;
}

/** `::ffff:a.b.c.d` and `::ffff:XXXX:XXXX` (IPv4-mapped IPv6) as the IPv4 address they carry. */
function unmapped(ip: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return ip;
}

export function isAddressAllowed(ip: string, allow: BlockList): boolean {
  const addr = unmapped(ip);
  const family = isIP(addr);
  if (family === 0) return false;
  if (allow.check(addr, family === 4 ? 'ipv4' : 'ipv6')) return true;
  return !isPrivateAddress(addr);
}

/** A DNS lookup that fails when any resolved address is forbidden (stricter than dropping them:
 * a name that mixes public and private answers is not one a preview should trust). */
function guardedLookup(allow: BlockList): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      if (addresses.length === 0 || addresses.some((a) => !isAddressAllowed(a.address, allow))) {
        const e = Object.assign(new Error(`forbidden address for ${hostname}`), { code: 'EHEARTHFORBIDDEN' });
        return callback(e, '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export async function safeFetch(rawUrl: string, opts: SafeFetchOptions): Promise<SafeFetchResult> {
  const allow = buildAllowlist(opts.allowlist);
  const deadline = Date.now() + opts.timeoutMs;
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MatrixError(400, 'M_UNKNOWN', 'Only http and https URLs can be previewed');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // Literal addresses skip DNS, so they are checked here.
    if (isIP(host) !== 0 && !isAddressAllowed(host, allow)) throw forbiddenAddress();
    const res = await get(url, host, allow, deadline, opts);
    const location = res.headers.location;
    if (res.statusCode !== undefined && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume();
      if (hop >= opts.maxRedirects) throw new MatrixError(502, 'M_UNKNOWN', 'Too many redirects');
      url = new URL(location, url);
      continue;
    }
    const body = await readBody(res, opts.maxBytes, deadline);
    return { url: url.toString(), status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, body };
  }
}

function get(url: URL, host: string, allow: BlockList, deadline: number, opts: SafeFetchOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        lookup: guardedLookup(allow),
        headers: { 'User-Agent': opts.userAgent, Accept: 'text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.5', 'Accept-Encoding': 'identity', Host: url.host },
        servername: isIP(host) === 0 ? host : undefined,
        timeout: Math.max(1, deadline - Date.now()),
      },
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
    );
    // The socket timeout above is for inactivity; this bounds a server that answers byte by byte.
    const timer = setTimeout(() => req.destroy(new MatrixError(504, 'M_UNKNOWN', 'Timed out fetching the URL')), Math.max(1, deadline - Date.now()));
    req.on('timeout', () => req.destroy(new MatrixError(504, 'M_UNKNOWN', 'Timed out fetching the URL')));
    req.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      if (e.code === 'EHEARTHFORBIDDEN') reject(forbiddenAddress());
      else if (e instanceof MatrixError) reject(e);
      else reject(new MatrixError(502, 'M_UNKNOWN', 'Could not fetch the URL'));
    });
    req.end();
  });
}

function readBody(res: IncomingMessage, maxBytes: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => res.destroy(new MatrixError(504, 'M_UNKNOWN', 'Timed out fetching the URL')), Math.max(1, deadline - Date.now()));
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) res.destroy(new MatrixError(502, 'M_TOO_LARGE', 'The page is too large to preview'));
      else chunks.push(c);
    });
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    res.on('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof MatrixError ? e : new MatrixError(502, 'M_UNKNOWN', 'Could not fetch the URL'));
    });
  });
}
