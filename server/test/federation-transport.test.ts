/** The federation transport over real TLS between real Hearth instances on loopback: published
 * keys, notary queries, the signing client (resolver, TLS verification, address policy), X-Matrix
 * verification with its adversarial cases, and the basic inbound endpoints. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyJsonSignatures } from '../core/crypto/signing.ts';
import { FederationClient, FederationError, HttpsConnector, fedPath } from '../services/federation/client.ts';
import { ServerResolver } from '../services/federation/resolver.ts';
import { WellKnownCache } from '../services/federation/well-known.ts';
import { formatSigningKeyFile } from '../services/federation/server-keys.ts';
import { signRequest } from '../services/federation/request-auth.ts';
import {
  newSigningKey,
  startFakeRemote,
  startFederatedServer,
  testCa,
  tlsRequest,
  type FakeRemote,
  type FederatedServer,
} from './federation-harness.ts';
import { newDevice } from './e2ee-harness.ts';

let hs1: FederatedServer; // trusts hs2 as its notary; denies `denied`
let hs2: FederatedServer;
let remote: FakeRemote;
let denied: FakeRemote;

before(async () => {
  [hs2, remote, denied] = await Promise.all([startFederatedServer(), startFakeRemote(), startFakeRemote()]);
  hs1 = await startFederatedServer({
    settings: {
      federationTrustedKeyServers: [{ serverName: hs2.serverName }],
      federationDenyServers: [denied.serverName],
      federationWellKnownServer: 'delegated.example:443',
    },
  });
});

after(async () => {
  await Promise.all([hs1?.close(), hs2?.close(), remote?.close(), denied?.close()]);
});

/** A client signing as `fake`, configured like a Hearth's (CA trusted, private addresses allowed). */
function clientAs(fake: FakeRemote, tls: { verifyTls?: boolean; extraCaCertsFile?: string; allowPrivateAddresses?: boolean } = {}) {
  const connector = new HttpsConnector({
    settings: () => ({ verifyTls: tls.verifyTls ?? true, extraCaCertsFile: 'extraCaCertsFile' in tls ? tls.extraCaCertsFile : testCa().caFile, allowPrivateAddresses: tls.allowPrivateAddresses ?? true }),
  });
  const resolver = new ServerResolver({ wellKnown: new WellKnownCache((h) => connector.fetchWellKnown(h), Date.now), now: Date.now });
  const client = new FederationClient({ serverName: fake.serverName, signingKey: fake.key, resolver, connector, isServerAllowed: () => true, now: Date.now });
  return { client, close: () => connector.close() };
}

test('GET /_matrix/key/v2/server: self-signed, valid for a day (≤ 7 days), over the TLS listener', async () => {
  const r = await tlsRequest(`${hs1.fedUrl}/_matrix/key/v2/server`);
  assert.equal(r.status, 200);
  const body = r.json;
  assert.equal(body.server_name, hs1.serverName);
  const [keyId, { key }] = Object.entries(body.verify_keys as Record<string, { key: string }>)[0]!;
  assert.ok(verifyJsonSignatures(body, hs1.serverName, { [hs1.serverName]: { [keyId]: key } }).ok);
  const ttl = body.valid_until_ts - Date.now();
  assert.ok(ttl > 23 * 3600_000 && ttl <= 7 * 24 * 3600_000, String(ttl));
  assert.deepEqual(body.old_verify_keys, {});
});

test('notary: GET and POST /_matrix/key/v2/query return the origin response signed by both', async () => {
  const get = await tlsRequest(`${hs2.fedUrl}/_matrix/key/v2/query/${encodeURIComponent(hs1.serverName)}`);
  assert.equal(get.status, 200, JSON.stringify(get.json));
  assert.equal(get.json.server_keys.length, 1);
  const resp = get.json.server_keys[0];
  assert.equal(resp.server_name, hs1.serverName);
  assert.deepEqual(Object.keys(resp.signatures).sort(), [hs1.serverName, hs2.serverName].sort());
  const own = await tlsRequest(`${hs2.fedUrl}/_matrix/key/v2/server`);
  const [hs2KeyId, { key: hs2Key }] = Object.entries(own.json.verify_keys as Record<string, { key: string }>)[0]!;
  assert.ok(verifyJsonSignatures(resp, hs2.serverName, { [hs2.serverName]: { [hs2KeyId]: hs2Key } }).ok);

  const post = await tlsRequest(`${hs2.fedUrl}/_matrix/key/v2/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ server_keys: { [hs2.serverName]: {}, [hs1.serverName]: { 'ed25519:whatever': { minimum_valid_until_ts: 0 } }, 'bad name': {} } }),
  });
  assert.equal(post.status, 200);
  assert.deepEqual(post.json.server_keys.map((k: { server_name: string }) => k.server_name).sort(), [hs1.serverName, hs2.serverName].sort());
  const bad = await tlsRequest(`${hs2.fedUrl}/_matrix/key/v2/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"server_keys": 3}' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errcode, 'M_BAD_JSON');
});

test('client → Hearth: signed request verified (key fetched from the origin), JSON answer', async () => {
  const { client, close } = clientAs(remote);
  try {
    const v = await client.request<{ server: { name: string } }>(hs1.serverName, 'GET', '/_matrix/federation/v1/version');
    assert.equal(v.server.name, 'Hearth');
    const alice = await hs1.registerUser('alice');
    await hs1.request('PUT', `/_matrix/client/v3/profile/${encodeURIComponent(alice.user_id)}/displayname`, { token: alice.access_token, body: { displayname: 'Alice' } });
    const p = await client.request(hs1.serverName, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: alice.user_id, field: 'displayname' } });
    assert.deepEqual(p, { displayname: 'Alice' });
    // A remote error is wrapped: our status and message, the remote's errcode available to callers.
    await assert.rejects(
      client.request(hs1.serverName, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: `@nobody:${hs1.serverName}` } }),
      (e: unknown) => e instanceof FederationError && e.status === 502 && e.kind === 'remote' && e.remote?.status === 404 && e.remote.errcode === 'M_NOT_FOUND' && !e.message.includes('Profile not found'),
    );
  } finally {
    close();
  }
});

test('client: TLS verification on by default, private addresses refused by default', async () => {
  const untrusted = clientAs(remote, { extraCaCertsFile: undefined });
  const noPrivate = clientAs(remote, { allowPrivateAddresses: false });
  const noVerify = clientAs(remote, { verifyTls: false, extraCaCertsFile: undefined });
  try {
    await assert.rejects(untrusted.client.request(hs1.serverName, 'GET', '/_matrix/federation/v1/version'), (e: unknown) => e instanceof FederationError && e.kind === 'unreachable' && /certificate/i.test(e.message));
    await assert.rejects(noPrivate.client.request(hs1.serverName, 'GET', '/_matrix/federation/v1/version'), (e: unknown) => e instanceof FederationError && e.kind === 'refused');
    assert.equal((await noVerify.client.request<{ server: { name: string } }>(hs1.serverName, 'GET', '/_matrix/federation/v1/version')).server.name, 'Hearth');
  } finally {
    untrusted.close();
    noPrivate.close();
    noVerify.close();
  }
});

test('adversarial: bad signature, unknown key, another destination, no header → 401 M_UNAUTHORIZED', async () => {
  const path = '/_matrix/federation/v1/publicRooms';
  const ok = await remote.request(hs1, 'GET', path);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  const cases = {
    badSignature: await remote.request(hs1, 'GET', path, { tamper: (h) => h.replace(/sig="[^"]{8}/, 'sig="AAAAAAAA') }),
    // Signed for one body, sent with another.
    tamperedBody: await tlsRequest(hs1.fedUrl + path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: signRequest({ method: 'POST', uri: path, origin: remote.serverName, destination: hs1.serverName, content: { limit: 1 } }, remote.key),
      },
      body: JSON.stringify({ limit: 2 }),
    }),
    unknownKey: await remote.request(hs1, 'GET', path, { key: newSigningKey('unpublished') }),
    otherDestination: await remote.request(hs1, 'GET', path, { destination: hs2.serverName }),
    noHeader: await tlsRequest(hs1.fedUrl + path),
  };
  for (const [name, r] of Object.entries(cases)) {
    assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.errcode, 'M_UNAUTHORIZED', name);
  }
  // Nothing else disturbed: the genuine request still works.
  assert.equal((await remote.request(hs1, 'GET', path)).status, 200);
});

test('adversarial: an expired key and a key response not signed by its key are refused', async () => {
  const expired = await startFakeRemote({ validUntilTs: () => Date.now() - 60_000 });
  const forged = await startFakeRemote({ keyResponse: (signed) => ({ ...signed, signatures: { [String(signed.server_name)]: { 'ed25519:fake': 'AAAA' } } }) });
  try {
    for (const fake of [expired, forged]) {
      const r = await fake.request(hs2, 'GET', '/_matrix/federation/v1/publicRooms');
      assert.equal(r.status, 401, JSON.stringify(r.json));
      assert.equal(r.json.errcode, 'M_UNAUTHORIZED');
    }
  } finally {
    await Promise.all([expired.close(), forged.close()]);
  }
});

test('deny list: a denied server is refused with 403 even with a valid signature', async () => {
  const r = await denied.request(hs1, 'GET', '/_matrix/federation/v1/publicRooms');
  assert.equal(r.status, 403);
  assert.equal(r.json.errcode, 'M_FORBIDDEN');
});

test('key fetch through a notary when the origin is unreachable', async () => {
  const gone = await startFakeRemote();
  // The notary (hs2) learns gone's key while it is up, then gone goes away.
  assert.equal((await tlsRequest(`${hs2.fedUrl}/_matrix/key/v2/query/${encodeURIComponent(gone.serverName)}`)).json.server_keys.length, 1);
  await gone.close();
  const r = await gone.request(hs1, 'GET', '/_matrix/federation/v1/publicRooms');
  assert.equal(r.status, 200, JSON.stringify(r.json));
});

test('inbound basics: version, directory, devices, keys query/claim, openid, publicRooms, well-known', async () => {
  const bob = await hs1.registerUser('bob');
  const room = await hs1.request('POST', '/_matrix/client/v3/createRoom', { token: bob.access_token, body: { room_alias_name: 'hall', name: 'Hall', visibility: 'public' } });
  assert.equal(room.status, 200);
  const alias = `#hall:${hs1.serverName}`;

  const dir = await remote.request(hs1, 'GET', `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(alias)}`);
  assert.deepEqual(dir.json, { room_id: room.json.room_id, servers: [hs1.serverName] });
  assert.equal((await remote.request(hs1, 'GET', `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(`#nope:${hs1.serverName}`)}`)).status, 404);
  assert.equal((await remote.request(hs1, 'GET', '/_matrix/federation/v1/query/directory')).status, 400);

  const dev = newDevice(bob.user_id, bob.device_id);
  const up = await hs1.request('POST', '/_matrix/client/v3/keys/upload', {
    token: bob.access_token,
    body: { device_keys: dev.deviceKeys, one_time_keys: { 'signed_curve25519:AAAAAQ': dev.oneTimeKey() } },
  });
  assert.equal(up.status, 200, JSON.stringify(up.json));

  const devices = await remote.request(hs1, 'GET', fedPath`/_matrix/federation/v1/user/devices/${bob.user_id}`);
  assert.equal(devices.status, 200, JSON.stringify(devices.json));
  assert.equal(devices.json.user_id, bob.user_id);
  assert.equal(typeof devices.json.stream_id, 'number');
  assert.deepEqual(devices.json.devices, [{ device_id: bob.device_id, keys: dev.deviceKeys }]);

  const q = await remote.request(hs1, 'POST', '/_matrix/federation/v1/user/keys/query', { body: { device_keys: { [bob.user_id]: [], '@x:elsewhere.example': [] } } });
  assert.equal(q.status, 200);
  assert.deepEqual(Object.keys(q.json.device_keys), [bob.user_id]);
  assert.deepEqual(q.json.device_keys[bob.user_id][bob.device_id].keys, dev.deviceKeys.keys);

  const c = await remote.request(hs1, 'POST', '/_matrix/federation/v1/user/keys/claim', { body: { one_time_keys: { [bob.user_id]: { [bob.device_id]: 'signed_curve25519' } } } });
  assert.equal(c.status, 200);
  assert.deepEqual(Object.keys(c.json.one_time_keys[bob.user_id][bob.device_id]), ['signed_curve25519:AAAAAQ']);
  assert.equal((await remote.request(hs1, 'POST', '/_matrix/federation/v1/user/keys/claim', { body: { one_time_keys: 5 } })).status, 400);

  const t = await hs1.request('POST', `/_matrix/client/v3/user/${encodeURIComponent(bob.user_id)}/openid/request_token`, { token: bob.access_token, body: {} });
  const info = await tlsRequest(`${hs1.fedUrl}/_matrix/federation/v1/openid/userinfo?access_token=${t.json.access_token}`);
  assert.deepEqual(info.json, { sub: bob.user_id });
  const badInfo = await tlsRequest(`${hs1.fedUrl}/_matrix/federation/v1/openid/userinfo?access_token=nope`);
  assert.equal(badInfo.status, 401);
  assert.equal(badInfo.json.errcode, 'M_UNKNOWN_TOKEN');

  const pubGet = await remote.request(hs1, 'GET', '/_matrix/federation/v1/publicRooms?limit=10');
  assert.equal(pubGet.json.chunk[0]?.room_id, room.json.room_id);
  const pubPost = await remote.request(hs1, 'POST', '/_matrix/federation/v1/publicRooms', { body: { filter: { generic_search_term: 'hall' } } });
  assert.equal(pubPost.json.chunk.length, 1);
  assert.equal((await remote.request(hs1, 'POST', '/_matrix/federation/v1/publicRooms', { body: { limit: 'x' } })).status, 400);

  assert.deepEqual((await tlsRequest(`${hs1.fedUrl}/.well-known/matrix/server`)).json, { 'm.server': 'delegated.example:443' });
  assert.equal((await tlsRequest(`${hs2.fedUrl}/.well-known/matrix/server`)).status, 404);
});

test('a replaced signing key is published as an old key with its expiry', async () => {
  const hs = await startFederatedServer();
  try {
    const before = (await tlsRequest(`${hs.fedUrl}/_matrix/key/v2/server`)).json;
    const [oldId, { key: oldKey }] = Object.entries(before.verify_keys as Record<string, { key: string }>)[0]!;
    await hs.close({ keepData: true });
    // An admin brings a key over from Synapse.
    writeFileSync(join(hs.dataDir, 'signing.key'), formatSigningKeyFile({ keyId: 'ed25519:a_synapse', seed: randomBytes(32) }));
    await hs.restart();
    const afterBody = (await tlsRequest(`${hs.fedUrl}/_matrix/key/v2/server`)).json;
    assert.deepEqual(Object.keys(afterBody.verify_keys), ['ed25519:a_synapse']);
    assert.equal(afterBody.old_verify_keys[oldId].key, oldKey);
    assert.ok(afterBody.old_verify_keys[oldId].expired_ts <= Date.now());
    assert.ok(readFileSync(join(hs.dataDir, 'signing.key'), 'utf8').startsWith('ed25519 a_synapse '));
  } finally {
    await hs.close();
  }
});
