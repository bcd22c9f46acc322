/** Cross-signing over real HTTP: /keys/device_signing/upload (signature checks, UIA only when
 * replacing keys) and /keys/signatures/upload (device, own master key, another user's master
 * key), and what /keys/query shows to whom. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startE2eeTestApp,
  newDevice,
  newSigningKey,
  crossSigningKey,
  sign,
  UIA_PASSWORD,
  type E2eeTestApp,
  type TestDevice,
  type TestSigningKey,
} from './e2ee-harness.ts';

let app: E2eeTestApp;
before(async () => {
  app = await startE2eeTestApp();
});
after(async () => {
  await app.close();
});

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';

interface Identity {
  token: string;
  device: TestDevice;
  master: TestSigningKey;
  selfSigning: TestSigningKey;
  userSigning: TestSigningKey;
}

async function setUp(userId: string, deviceId: string): Promise<Identity> {
  const token = app.login(userId, deviceId);
  const device = newDevice(userId, deviceId);
  const up = await app.request('POST', '/_matrix/client/v3/keys/upload', { token, body: { device_keys: device.deviceKeys } });
  assert.equal(up.status, 200);
  const master = newSigningKey();
  const selfSigning = newSigningKey();
  const userSigning = newSigningKey();
  const r = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', {
    token,
    body: {
      master_key: crossSigningKey(userId, 'master', master),
      self_signing_key: crossSigningKey(userId, 'self_signing', selfSigning, master),
      user_signing_key: crossSigningKey(userId, 'user_signing', userSigning, master),
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return { token, device, master, selfSigning, userSigning };
}

let alice: Identity;
let bob: Identity;

test('first upload needs no UIA; query shows master and self-signing keys, user-signing only to its owner', async () => {
  alice = await setUp(ALICE, 'ADEV');
  bob = await setUp(BOB, 'BDEV');
  const mine = await app.request('POST', '/_matrix/client/v3/keys/query', { token: alice.token, body: { device_keys: { [ALICE]: [], [BOB]: [] } } });
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.master_keys[ALICE].keys, { [`ed25519:${alice.master.publicKey}`]: alice.master.publicKey });
  assert.deepEqual(mine.json.self_signing_keys[BOB].keys, { [`ed25519:${bob.selfSigning.publicKey}`]: bob.selfSigning.publicKey });
  assert.ok(mine.json.user_signing_keys[ALICE]);
  assert.equal(mine.json.user_signing_keys[BOB], undefined);
});

test('identical re-upload needs no UIA; a new master key does, and passes with the password', async () => {
  const body = { master_key: crossSigningKey(ALICE, 'master', alice.master) };
  const same = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token: alice.token, body });
  assert.equal(same.status, 200);

  const newMaster = newSigningKey();
  const replace = {
    master_key: crossSigningKey(ALICE, 'master', newMaster),
    self_signing_key: crossSigningKey(ALICE, 'self_signing', alice.selfSigning, newMaster),
    user_signing_key: crossSigningKey(ALICE, 'user_signing', alice.userSigning, newMaster),
  };
  const challenged = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token: alice.token, body: replace });
  assert.equal(challenged.status, 401);
  assert.ok(Array.isArray(challenged.json.flows));
  const ok = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', {
    token: alice.token,
    body: { ...replace, auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: ALICE }, password: UIA_PASSWORD, session: challenged.json.session } },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  alice.master = newMaster;
});

test('device_signing/upload errors: bad signature, no master key, malformed key, key id in use', async () => {
  const carl = '@carl:localhost';
  const token = app.login(carl, 'CDEV');
  const master = newSigningKey();
  const other = newSigningKey();
  const noMaster = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', {
    token,
    body: { self_signing_key: crossSigningKey(carl, 'self_signing', newSigningKey(), master) },
  });
  assert.equal(noMaster.status, 400);
  assert.equal(noMaster.json.errcode, 'M_MISSING_PARAM');

  const badSig = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', {
    token,
    body: { master_key: crossSigningKey(carl, 'master', master), self_signing_key: crossSigningKey(carl, 'self_signing', newSigningKey(), other) },
  });
  assert.equal(badSig.status, 400);
  assert.equal(badSig.json.errcode, 'M_INVALID_SIGNATURE');

  const twoKeys = { user_id: carl, usage: ['master'], keys: { 'ed25519:a': 'a', 'ed25519:b': 'b' } };
  const malformed = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token, body: { master_key: twoKeys } });
  assert.equal(malformed.status, 400);

  const wrongUser = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token, body: { master_key: crossSigningKey(BOB, 'master', master) } });
  assert.equal(wrongUser.status, 400);

  // A master key whose public key equals a device id.
  const k = newSigningKey();
  app.login(carl, k.publicKey);
  const inUse = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token, body: { master_key: crossSigningKey(carl, 'master', k) } });
  assert.equal(inUse.status, 403);
  assert.equal(inUse.json.errcode, 'M_FORBIDDEN');

  const notJson = await app.request('POST', '/_matrix/client/v3/keys/device_signing/upload', { token, rawBody: '[' });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.errcode, 'M_NOT_JSON');
});

test('signatures/upload: own device by self-signing key, own master by device, other user by user-signing key', async () => {
  const deviceSigned = sign(alice.device.deviceKeys, ALICE, `ed25519:${alice.selfSigning.publicKey}`, alice.selfSigning);
  const masterObj = crossSigningKey(ALICE, 'master', alice.master);
  const masterSigned = sign(masterObj, ALICE, `ed25519:${alice.device.deviceId}`, alice.device.signing);
  const bobMaster = crossSigningKey(BOB, 'master', bob.master);
  const bobMasterSigned = sign(bobMaster, ALICE, `ed25519:${alice.userSigning.publicKey}`, alice.userSigning);
  const forged = sign(bobMaster, ALICE, `ed25519:${alice.userSigning.publicKey}`, newSigningKey());

  const r = await app.request('POST', '/_matrix/client/v3/keys/signatures/upload', {
    token: alice.token,
    body: {
      [ALICE]: { [alice.device.deviceId]: deviceSigned, [alice.master.publicKey]: masterSigned, UNKNOWN: deviceSigned },
      [BOB]: { [bob.master.publicKey]: bobMasterSigned },
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(Object.keys(r.json.failures), [ALICE]);
  assert.deepEqual(Object.keys(r.json.failures[ALICE]), ['UNKNOWN']);

  const bad = await app.request('POST', '/_matrix/client/v3/keys/signatures/upload', { token: alice.token, body: { [BOB]: { [bob.master.publicKey]: forged } } });
  assert.equal(bad.status, 200);
  assert.equal(bad.json.failures[BOB][bob.master.publicKey].errcode, 'M_INVALID_SIGNATURE');

  // Alice sees all her signatures and her signature on Bob's master key.
  const qa = await app.request('POST', '/_matrix/client/v3/keys/query', { token: alice.token, body: { device_keys: { [ALICE]: [], [BOB]: [] } } });
  assert.equal(qa.json.device_keys[ALICE].ADEV.signatures[ALICE][`ed25519:${alice.selfSigning.publicKey}`], (deviceSigned.signatures as Record<string, Record<string, string>>)[ALICE]![`ed25519:${alice.selfSigning.publicKey}`]);
  assert.ok(qa.json.master_keys[ALICE].signatures[ALICE][`ed25519:${alice.device.deviceId}`]);
  assert.ok(qa.json.master_keys[BOB].signatures[ALICE][`ed25519:${alice.userSigning.publicKey}`]);
  // Bob sees Alice's device and master signatures, but not Alice's signature on his own master key.
  const qb = await app.request('POST', '/_matrix/client/v3/keys/query', { token: bob.token, body: { device_keys: { [ALICE]: [], [BOB]: [] } } });
  assert.ok(qb.json.device_keys[ALICE].ADEV.signatures[ALICE][`ed25519:${alice.selfSigning.publicKey}`]);
  assert.equal(qb.json.master_keys[BOB].signatures?.[ALICE], undefined);

  const notObject = await app.request('POST', '/_matrix/client/v3/keys/signatures/upload', { token: alice.token, body: { [BOB]: { X: 3 } } });
  assert.equal(notObject.status, 400);
});
