/** The federation transport's parts without a network: X-Matrix headers, server name resolution
 * in the spec's order (with fake DNS and well-known answers), well-known caching rules, the
 * private-address policy, the deny/allow lists, key-response validation and key caching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SrvRecord } from 'node:dns';
import { signJson } from '../core/crypto/signing.ts';
import { isServerAllowed, parseXMatrixHeader, signRequest, verifyRequest } from '../services/federation/request-auth.ts';
import { ServerResolver, isPrivateAddress, orderSrv } from '../services/federation/resolver.ts';
import { WellKnownCache, wellKnownTtlMs, type WellKnownHttpResponse } from '../services/federation/well-known.ts';
import { KeyFetcher, parseKeyResponse } from '../services/federation/key-fetcher.ts';
import type { OwnServerKeys } from '../services/federation/server-keys.ts';
import type { FederationKeysStore, KeyResponseRecord, RemoteKeyRecord } from '../storage/federation-keys.ts';
import { federationAuth } from '../api/federation/auth.ts';
import { parseCliArgs } from '../config/cli-args.ts';
import { encodeQuery, fedPath } from '../services/federation/client.ts';
import { newSigningKey } from './federation-harness.ts';

test('X-Matrix header: signRequest output parses back; quoting, case and unquoted values', () => {
  const key = newSigningKey('k1');
  const h = signRequest({ method: 'GET', uri: '/x', origin: 'a.example', destination: 'b.example' }, key);
  const p = parseXMatrixHeader(h)!;
  assert.equal(p.origin, 'a.example');
  assert.equal(p.destination, 'b.example');
  assert.equal(p.key, 'ed25519:k1');
  assert.match(p.sig, /^[A-Za-z0-9+/]+$/);
  assert.deepEqual(parseXMatrixHeader('x-matrix ORIGIN=a.example,Key="ed25519:1", sig="abc"'), { origin: 'a.example', key: 'ed25519:1', sig: 'abc' });
  assert.equal(parseXMatrixHeader('Bearer abc'), undefined);
  assert.equal(parseXMatrixHeader('X-Matrix origin="a",key="ed25519:1"'), undefined, 'sig is required');
  assert.equal(parseXMatrixHeader('X-Matrix origin="a,key=1'), undefined);
});

test('verifyRequest: good, wrong destination, bad signature, unknown key, expired key, tampered content', async () => {
  const key = newSigningKey('k1');
  const now = 1_000_000;
  const keysFor = (validUntilTs: number) => ({
    keysFor: async () => ({ 'a.example': { 'ed25519:k1': { key: key.publicKeyBase64, validUntilTs } } }),
  });
  const ctx = { serverName: 'b.example', keys: keysFor(now + 1000), now: () => now };
  const req = (over: Partial<{ destination: string; content: unknown }> = {}) => ({
    method: 'PUT',
    uri: '/_matrix/federation/v1/send/1',
    authorization: signRequest({ method: 'PUT', uri: '/_matrix/federation/v1/send/1', origin: 'a.example', destination: over.destination ?? 'b.example', content: { pdus: [] } }, key),
    content: over.content ?? { pdus: [] },
  });
  assert.deepEqual(await verifyRequest(req(), ctx), { origin: 'a.example', keyId: 'ed25519:k1' });
  const reject = async (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (e: any) => e.status === 401 && e.errcode === 'M_UNAUTHORIZED' && re.test(e.message));
  await reject(verifyRequest(req({ destination: 'c.example' }), ctx), /addressed to c\.example/);
  await reject(verifyRequest(req({ content: { pdus: [1] } }), ctx), /bad signature/);
  await reject(verifyRequest({ ...req(), authorization: req().authorization.replace('k1', 'k2') }, ctx), /unknown key/);
  await reject(verifyRequest(req(), { ...ctx, keys: keysFor(now - 1) }), /no known key/);
  await reject(verifyRequest({ ...req(), authorization: undefined }, ctx), /Missing/);
});

function fakeResolver(opts: { wellKnown?: Record<string, WellKnownHttpResponse | Error>; srv?: Record<string, SrvRecord[]> }) {
  let now = 0;
  const fetched: string[] = [];
  const wk = new WellKnownCache(
    async (host) => {
      fetched.push(host);
      const r = opts.wellKnown?.[host];
      if (!r) throw new Error('connection refused');
      if (r instanceof Error) throw r;
      return r;
    },
    () => now,
  );
  const resolver = new ServerResolver({
    wellKnown: wk,
    now: () => now,
    dns: {
      resolveSrv: async (name) => {
        const r = opts.srv?.[name];
        if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
        return r;
      },
    },
  });
  return { resolver, fetched, advance: (ms: number) => (now += ms) };
}

const json = (v: unknown, headers: Record<string, string> = {}): WellKnownHttpResponse => ({ status: 200, headers, body: Buffer.from(JSON.stringify(v)) });
const srv = (name: string, port: number, priority = 10, weight = 0): SrvRecord => ({ name, port, priority, weight });

test('resolver: steps 1–2 (IP literals, explicit ports) never ask well-known or DNS', async () => {
  const { resolver, fetched } = fakeResolver({});
  assert.deepEqual(await resolver.resolve('1.2.3.4'), [{ host: '1.2.3.4', port: 8448, hostHeader: '1.2.3.4', tlsName: '1.2.3.4' }]);
  assert.deepEqual(await resolver.resolve('[::1]:8000'), [{ host: '::1', port: 8000, hostHeader: '[::1]:8000', tlsName: '::1' }]);
  assert.deepEqual(await resolver.resolve('example.org:1234'), [{ host: 'example.org', port: 1234, hostHeader: 'example.org:1234', tlsName: 'example.org' }]);
  assert.deepEqual(fetched, []);
  await assert.rejects(resolver.resolve('bad name'));
});

test('resolver: step 3 well-known delegation (3.1 IP, 3.2 port, 3.3 SRV matrix-fed, 3.4 SRV matrix, 3.5 8448)', async () => {
  const { resolver } = fakeResolver({
    wellKnown: {
      'ip.example': json({ 'm.server': '5.6.7.8:9000' }),
      'port.example': json({ 'm.server': 'matrix.port.example:443' }),
      'fed.example': json({ 'm.server': 'm.fed.example' }),
      'old.example': json({ 'm.server': 'm.old.example' }),
      'plain.example': json({ 'm.server': 'm.plain.example' }),
    },
    srv: {
      '_matrix-fed._tcp.m.fed.example': [srv('target.fed.example.', 8449)],
      '_matrix._tcp.m.old.example': [srv('target.old.example', 8450)],
      '_matrix._tcp.m.fed.example': [srv('never.example', 1)],
    },
  });
  assert.deepEqual(await resolver.resolve('ip.example'), [{ host: '5.6.7.8', port: 9000, hostHeader: '5.6.7.8:9000', tlsName: '5.6.7.8' }]);
  assert.deepEqual(await resolver.resolve('port.example'), [{ host: 'matrix.port.example', port: 443, hostHeader: 'matrix.port.example:443', tlsName: 'matrix.port.example' }]);
  assert.deepEqual(await resolver.resolve('fed.example'), [{ host: 'target.fed.example', port: 8449, hostHeader: 'm.fed.example', tlsName: 'm.fed.example' }]);
  assert.deepEqual(await resolver.resolve('old.example'), [{ host: 'target.old.example', port: 8450, hostHeader: 'm.old.example', tlsName: 'm.old.example' }]);
  assert.deepEqual(await resolver.resolve('plain.example'), [{ host: 'm.plain.example', port: 8448, hostHeader: 'm.plain.example', tlsName: 'm.plain.example' }]);
});

test('resolver: steps 4–6 when well-known fails (error, non-200, bad JSON, invalid m.server)', async () => {
  const { resolver } = fakeResolver({
    wellKnown: {
      'srv.example': { status: 404, headers: {}, body: Buffer.from('{}') },
      'badjson.example': { status: 200, headers: {}, body: Buffer.from('nope') },
      'badname.example': json({ 'm.server': 'not a name' }),
    },
    srv: {
      '_matrix-fed._tcp.srv.example': [srv('b.example', 2, 20), srv('a.example', 1, 10)],
      '_matrix._tcp.badjson.example': [srv('legacy.example', 3)],
      '_matrix-fed._tcp.none.example': [srv('.', 0)],
    },
  });
  assert.deepEqual(await resolver.resolve('srv.example'), [
    { host: 'a.example', port: 1, hostHeader: 'srv.example', tlsName: 'srv.example' },
    { host: 'b.example', port: 2, hostHeader: 'srv.example', tlsName: 'srv.example' },
  ]);
  assert.deepEqual(await resolver.resolve('badjson.example'), [{ host: 'legacy.example', port: 3, hostHeader: 'badjson.example', tlsName: 'badjson.example' }]);
  assert.deepEqual(await resolver.resolve('badname.example'), [{ host: 'badname.example', port: 8448, hostHeader: 'badname.example', tlsName: 'badname.example' }]);
  assert.deepEqual(await resolver.resolve('none.example'), [{ host: 'none.example', port: 8448, hostHeader: 'none.example', tlsName: 'none.example' }]);
});

test('well-known caching: Cache-Control max-age capped at 48 h, 24 h default, errors for an hour', async () => {
  assert.equal(wellKnownTtlMs({}), 24 * 3600_000);
  assert.equal(wellKnownTtlMs({ 'cache-control': 'public, max-age=600' }), 600_000);
  assert.equal(wellKnownTtlMs({ 'cache-control': 'max-age=9999999' }), 48 * 3600_000);
  assert.equal(wellKnownTtlMs({ 'cache-control': 'no-store' }), 0);

  const { resolver, fetched, advance } = fakeResolver({
    wellKnown: { 'a.example': json({ 'm.server': 'b.example:1' }, { 'cache-control': 'max-age=7200' }) },
  });
  await resolver.resolve('a.example');
  await resolver.resolve('down.example');
  advance(11 * 60_000); // past the resolution cache, within both well-known TTLs
  resolver.forget('nothing.example');
  await resolver.resolve('a.example');
  await resolver.resolve('down.example');
  assert.deepEqual(fetched, ['a.example', 'down.example']);
  advance(3600_000); // the error (1 h) expired, the answer (2 h) not yet
  await resolver.resolve('a.example');
  await resolver.resolve('down.example');
  assert.deepEqual(fetched, ['a.example', 'down.example', 'down.example']);
});

test('SRV ordering: priority first, weight-random within a priority', () => {
  const recs = [srv('c', 1, 20, 0), srv('a', 1, 10, 1), srv('b', 1, 10, 99)];
  assert.deepEqual(orderSrv(recs, () => 0.5).map((r) => r.name), ['b', 'a', 'c']);
  assert.deepEqual(orderSrv(recs, () => 0).map((r) => r.name), ['a', 'b', 'c']);
});

test('private addresses are recognised (IPv4, IPv6, mapped); public ones are not', () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::ffff:c0a8:101', 'junk']) {
    assert.equal(isPrivateAddress(ip), true, ip);
  }
  for (const ip of ['1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808']) assert.equal(isPrivateAddress(ip), false, ip);
});

test('deny and allow lists: exact names, host without port, globs', () => {
  assert.equal(isServerAllowed('evil.example', { deny: ['evil.example'] }), false);
  assert.equal(isServerAllowed('evil.example:8448', { deny: ['evil.example'] }), false);
  assert.equal(isServerAllowed('a.bad.example', { deny: ['*.bad.example'] }), false);
  assert.equal(isServerAllowed('good.example', { deny: ['*.bad.example'] }), true);
  assert.equal(isServerAllowed('good.example', { allow: ['friend.example'] }), false);
  assert.equal(isServerAllowed('friend.example', { allow: ['friend.example'], deny: [] }), true);
  assert.equal(isServerAllowed('friend.example', { allow: ['friend.example'], deny: ['friend.*'] }), false);
});

test('key responses: must be for the server, self-signed by a listed key, with valid_until_ts', () => {
  const key = newSigningKey('k1');
  const body = { server_name: 'a.example', valid_until_ts: 5, verify_keys: { 'ed25519:k1': { key: key.publicKeyBase64 } }, old_verify_keys: { 'ed25519:old': { key: 'AAAA', expired_ts: 3 } } };
  const good = parseKeyResponse('a.example', signJson(body, 'a.example', key));
  assert.deepEqual(good, { validUntilTs: 5, verifyKeys: { 'ed25519:k1': key.publicKeyBase64 }, oldVerifyKeys: { 'ed25519:old': { key: 'AAAA', expiredTs: 3 } } });
  assert.match(parseKeyResponse('b.example', signJson(body, 'a.example', key)) as string, /not b\.example/);
  assert.match(parseKeyResponse('a.example', body) as string, /signature/);
  assert.match(parseKeyResponse('a.example', signJson(body, 'a.example', newSigningKey('k1'))) as string, /bad signature/);
  assert.match(parseKeyResponse('a.example', signJson({ ...body, valid_until_ts: 'x' }, 'a.example', key)) as string, /valid_until_ts/);
});

test('fedPath encodes every value; encodeQuery repeats arrays and drops undefined', () => {
  assert.equal(fedPath`/_matrix/federation/v1/make_join/${'!a:b'}/${'@u:c/d'}`, '/_matrix/federation/v1/make_join/!a%3Ab/%40u%3Ac%2Fd');
  assert.equal(encodeQuery({ v: ['1', 2], limit: 5, x: undefined }), '?v=1&v=2&limit=5');
  assert.equal(encodeQuery({}), '');
});

/** An in-memory FederationKeysStore, enough for the fetcher's logic. */
function memoryKeyStore(): FederationKeysStore {
  const remote = new Map<string, RemoteKeyRecord>();
  const responses = new Map<string, KeyResponseRecord>();
  return {
    ownKeys: () => [],
    useOwnKey: async () => {},
    remoteKeys: (s) => [...remote.values()].filter((k) => k.serverName === s),
    storeKeyResponse: async (keys, response) => {
      for (const k of keys) remote.set(`${k.serverName}|${k.keyId}`, k);
      responses.set(response.serverName, response);
    },
    keyResponse: (s) => responses.get(s),
  };
}

test('KeyFetcher.keysFor: fetches unknown servers directly, then via a notary; caches; caps validity at 7 days', async () => {
  let now = 1_000_000_000;
  const direct = newSigningKey('d1');
  const notary = newSigningKey('n1');
  const viaNotary = newSigningKey('v1');
  const calls: string[] = [];
  const keyResponse = (server: string, key: typeof direct, validUntil: number, old: Record<string, unknown> = {}) =>
    signJson({ server_name: server, valid_until_ts: validUntil, verify_keys: { [key.keyId]: { key: key.publicKeyBase64 } }, old_verify_keys: old }, server, key);
  const client = {
    request: async <T>(destination: string, method: string, path: string): Promise<T> => {
      calls.push(`${method} ${destination}${path}`);
      if (destination === 'direct.example') {
        return keyResponse('direct.example', direct, now + 30 * 24 * 3600_000, { 'ed25519:old': { key: viaNotary.publicKeyBase64, expired_ts: now - 5 } }) as T;
      }
      if (destination === 'notary.example' && method === 'POST') {
        return { server_keys: [signJson(keyResponse('down.example', viaNotary, now + 3600_000), 'notary.example', notary)] } as T;
      }
      throw new Error('unreachable');
    },
  };
  const own = { lookup: () => ({ 'ed25519:me': { key: 'x' } }), keyResponse: () => ({}) } as unknown as OwnServerKeys;
  const fetcher = new KeyFetcher({
    serverName: 'me.example',
    store: memoryKeyStore(),
    client,
    ownKeys: own,
    notaries: () => [{ serverName: 'notary.example', verifyKeys: { [notary.keyId]: notary.publicKeyBase64 } }],
    now: () => now,
    log: () => {},
  });
  const keys = await fetcher.keysFor(['direct.example', 'down.example', 'me.example'], now);
  assert.deepEqual(keys['direct.example'], {
    'ed25519:d1': { key: direct.publicKeyBase64, validUntilTs: now + 7 * 24 * 3600_000 },
    'ed25519:old': { key: viaNotary.publicKeyBase64, validUntilTs: now - 5 },
  });
  assert.deepEqual(keys['down.example'], { 'ed25519:v1': { key: viaNotary.publicKeyBase64, validUntilTs: now + 3600_000 } });
  assert.deepEqual(keys['me.example'], { 'ed25519:me': { key: 'x' } });
  assert.deepEqual(calls.sort(), ['GET direct.example/_matrix/key/v2/server', 'GET down.example/_matrix/key/v2/server', 'POST notary.example/_matrix/key/v2/query']);

  // Cached: no new fetch while a key is valid at the requested time.
  calls.length = 0;
  await fetcher.keysFor(['direct.example', 'down.example'], now + 60_000);
  assert.deepEqual(calls, []);
  // A key wanted beyond what we know triggers a refetch, but not more than once per interval.
  now += 2 * 3600_000;
  await fetcher.keysFor(['down.example'], now);
  await fetcher.keysFor(['down.example'], now);
  assert.deepEqual(calls, ['GET down.example/_matrix/key/v2/server', 'POST notary.example/_matrix/key/v2/query']);
});

test('federationAuth: federation disabled → 403; the CLI flag allows private addresses', async () => {
  const mw = federationAuth({ verify: async () => ({ origin: 'a', keyId: 'ed25519:a' }), enabled: () => false, checks: [] });
  await assert.rejects(async () => mw({ headers: {}, method: 'GET' } as never, {} as never, () => {}), (e: any) => e.status === 403);
  assert.equal(parseCliArgs(['--federation-allow-private-addresses']).settings.federationAllowPrivateAddresses, true);
  assert.equal(parseCliArgs([]).settings.federationAllowPrivateAddresses, undefined);
});
