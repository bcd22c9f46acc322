/**
 * Server name resolution (spec: server-server "Resolving server names", steps 1–6 with 3.1–3.5):
 * IP literal → explicit port → `/.well-known/matrix/server` delegation → SRV
 * `_matrix-fed._tcp` → deprecated `_matrix._tcp` → port 8448. The result says where to connect,
 * which `Host` header to send and which name the certificate must be valid for (SNI is sent for
 * DNS names only). Also the address policy: outbound federation refuses loopback, private and
 * link-local addresses unless allowed (Synapse's default `ip_range_blacklist`).
 */
import { BlockList, isIP } from 'node:net';
import { promises as dnsPromises, type SrvRecord } from 'node:dns';
import { parseServerName } from '../../core/ids.ts';
import type { WellKnownCache } from './well-known.ts';

export const DEFAULT_FEDERATION_PORT = 8448;

/** One place to connect to, in the order to try. */
export interface ResolvedServer {
  /** A DNS name to look up, or an IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  /** The `Host` header to send. */
  hostHeader: string;
  /** The name (or IP) the certificate must be valid for; also the SNI unless it is an IP. */
  tlsName: string;
}

export interface ResolverDns {
  resolveSrv(name: string): Promise<SrvRecord[]>;
}

export interface ResolverDeps {
  wellKnown: WellKnownCache;
  dns?: ResolverDns;
  now: () => number;
}

/** How long a resolution (well-known and SRV answers) is reused before asking again. */
const RESOLUTION_TTL_MS = 10 * 60_000;
const RESOLUTION_CACHE_LIMIT = 10_000;

export class ServerResolver {
  private readonly cache = new Map<string, { targets: ResolvedServer[]; expiresAt: number }>();
  private readonly dns: ResolverDns;

  constructor(private readonly deps: ResolverDeps) {
    this.dns = deps.dns ?? dnsPromises;
  }

  /** Candidates for `serverName`, best first. Throws for an invalid server name. */
  async resolve(serverName: string): Promise<ResolvedServer[]> {
    const hit = this.cache.get(serverName);
    if (hit && hit.expiresAt > this.deps.now()) return hit.targets;
    const targets = await this.resolveUncached(serverName);
    if (this.cache.size >= RESOLUTION_CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(serverName, { targets, expiresAt: this.deps.now() + RESOLUTION_TTL_MS });
    return targets;
  }

  /** Forgets cached resolutions (all, or one server's), so the next request resolves afresh. */
  forget(serverName?: string): void {
    if (serverName === undefined) {
      this.cache.clear();
      this.deps.wellKnown.forget();
    } else {
      this.cache.delete(serverName);
      const parsed = parseServerName(serverName);
      if (parsed) this.deps.wellKnown.forget(parsed.host);
    }
  }

  private async resolveUncached(serverName: string): Promise<ResolvedServer[]> {
    const parsed = parseServerName(serverName);
    if (!parsed) throw new Error(`invalid server name ${JSON.stringify(serverName)}`);
    // Step 1: an IP literal, with its port or 8448; Host is the server name as given.
    if (parsed.kind !== 'dns') {
      const ip = unbracket(parsed.host);
      return [{ host: ip, port: parsed.port ?? DEFAULT_FEDERATION_PORT, hostHeader: serverName, tlsName: ip }];
    }
    // Step 2: a hostname with an explicit port.
    if (parsed.port !== undefined) {
      return [{ host: parsed.host, port: parsed.port, hostHeader: serverName, tlsName: parsed.host }];
    }
    // Step 3: well-known delegation.
    const wk = await this.deps.wellKnown.lookup(parsed.host);
    if (wk.delegated !== undefined) {
      const d = parseServerName(wk.delegated)!;
      // 3.1: delegated IP literal; Host is the IP with the port if one was given.
      if (d.kind !== 'dns') {
        const ip = unbracket(d.host);
        return [{ host: ip, port: d.port ?? DEFAULT_FEDERATION_PORT, hostHeader: wk.delegated, tlsName: ip }];
      }
      // 3.2: delegated hostname with a port.
      if (d.port !== undefined) {
        return [{ host: d.host, port: d.port, hostHeader: wk.delegated, tlsName: d.host }];
      }
      // 3.3–3.5: SRV for the delegated hostname, else its address on 8448.
      return this.srvOrDefault(d.host);
    }
    // Steps 4–6: SRV for the server's own hostname, else its address on 8448.
    return this.srvOrDefault(parsed.host);
  }

  /** `_matrix-fed._tcp` then the deprecated `_matrix._tcp`; Host and certificate stay `hostname`. */
  private async srvOrDefault(hostname: string): Promise<ResolvedServer[]> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const records = await this.srv(`${service}.${hostname}`);
      if (records.length > 0) {
        return records.map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port, hostHeader: hostname, tlsName: hostname }));
      }
    }
    return [{ host: hostname, port: DEFAULT_FEDERATION_PORT, hostHeader: hostname, tlsName: hostname }];
  }

  private async srv(name: string): Promise<SrvRecord[]> {
    let records: SrvRecord[];
    try {
      records = await this.dns.resolveSrv(name);
    } catch {
      return []; // NXDOMAIN, no data or a DNS failure: fall through to the next step.
    }
    // RFC 2782: a single "." target means the service is decidedly not available.
    records = records.filter((r) => r.name !== '' && r.name !== '.');
    return orderSrv(records);
  }
}

/** RFC 2782 order: ascending priority, and within a priority a weighted random order. */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = [...byPriority.get(p)!];
    while (pool.length > 0) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let x = random() * total;
        pick = pool.findIndex((r) => (x -= r.weight) < 0);
        if (pick < 0) pick = pool.length - 1;
      }
      out.push(pool.splice(pick, 1)[0]!);
    }
  }
  return out;
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

// Synapse's default ip_range_blacklist: loopback, RFC 1918, CGNAT, link-local, documentation,
// benchmarking, multicast and reserved ranges, for IPv4 and IPv6.
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fe80::', 10], ['fc00::', 7], ['2001:db8::', 32], ['ff00::', 8], ['fec0::', 10],
  ['64:ff9b::', 96], ['100::', 64],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** True for loopback, private, link-local and other non-public addresses (IPv4-mapped IPv6 included). */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return FORBIDDEN.check(ip, 'ipv4');
  if (v !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return FORBIDDEN.check(mapped[1]!, 'ipv4');
  // IPv4-mapped addresses written in hex (::ffff:7f00:1) are IPv4 too.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1]!, 16);
    const lo = parseInt(hexMapped[2]!, 16);
    return FORBIDDEN.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return FORBIDDEN.check(ip, 'ipv6');
}
