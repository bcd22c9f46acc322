/** E2EE key management over real HTTP: /keys/upload, /keys/query, /keys/claim, /keys/changes,
 * and the device-list and one-time-key parts of sync (DeviceListSource). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2eeTestApp, newDevice, type E2eeTestApp } from './e2ee-harness.ts';
import { formatSyncToken } from '../services/sync/tokens.ts';

let app: E2eeTestApp;
before(async () => {
  app = await startE2eeTestApp();
});
after(async () => {
  await app.close();
});

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';
const token = (pos: number): string => formatSyncToken({ position: pos, typing: 0 });

test('upload device keys, one-time and fallback keys; counts come back', async () => {
  const tok = app.login(ALICE, 'ADEV1', "Alice's laptop");
  const dev = newDevice(ALICE, 'ADEV1');
  const r = await app.request('POST', '/_matrix/client/v3/keys/upload', {
    token: tok,
    body: {
      device_keys: dev.deviceKeys,
      one_time_keys: { 'signed_curve25519:AAAAAQ': dev.oneTimeKey(), 'signed_curve25519:AAAAAg': dev.oneTimeKey() },
      fallback_keys: { 'signed_curve25519:AAAAFB': dev.oneTimeKey(true) },
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json, { one_time_key_counts: { signed_curve25519: 2 } });
  assert.deepEqual(app.deviceKeys.oneTimeKeyCounts(ALICE, 'ADEV1'), { signed_curve25519: 2 });
  assert.deepEqual(app.deviceKeys.unusedFallbackKeyTypes(ALICE, 'ADEV1'), ['signed_curve25519']);

  // Query: the uploaded object plus unsigned.device_display_name.
  const bobTok = app.login(BOB, 'BDEV1');
  const q = await app.request('POST', '/_matrix/client/v3/keys/query', { token: bobTok, body: { device_keys: { [ALICE]: [] } } });
  assert.equal(q.status, 200);
  assert.deepEqual(q.json.device_keys[ALICE].ADEV1, { ...dev.deviceKeys, unsigned: { device_display_name: "Alice's laptop" } });
  assert.deepEqual(q.json.failures, {});
  assert.deepEqual(q.json.master_keys, {});

  // A specific device list, an unknown device and a remote user.
  const q2 = await app.request('POST', '/_matrix/client/v3/keys/query', {
    token: bobTok,
    body: { device_keys: { [ALICE]: ['NOPE'], '@carol:remote.example': [] } },
  });
  assert.deepEqual(q2.json.device_keys[ALICE], {});
  assert.ok('remote.example' in q2.json.failures);
});

test('one-time key id reused with other content → 400; the same content is accepted', async () => {
  const tok = app.login(ALICE, 'ADEV2');
  const dev = newDevice(ALICE, 'ADEV2');
  const otk = dev.oneTimeKey();
  const first = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { one_time_keys: { 'signed_curve25519:K1': otk } } });
  assert.equal(first.status, 200);
  const same = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { one_time_keys: { 'signed_curve25519:K1': otk } } });
  assert.equal(same.status, 200);
  assert.equal(same.json.one_time_key_counts.signed_curve25519, 1);
  const clash = await app.request('POST', '/_matrix/client/v3/keys/upload', {
    token: tok,
    body: { one_time_keys: { 'signed_curve25519:K1': dev.oneTimeKey(), 'signed_curve25519:K2': dev.oneTimeKey() } },
  });
  assert.equal(clash.status, 400);
  assert.equal(typeof clash.json.errcode, 'string');
  // Nothing of the failed upload was stored.
  assert.deepEqual(app.deviceKeys.oneTimeKeyCounts(ALICE, 'ADEV2'), { signed_curve25519: 1 });
});

test('upload errors: bad JSON, wrong shapes, keys for another device or user, bad signature, no token', async () => {
  const tok = app.login(ALICE, 'ADEV3');
  const dev = newDevice(ALICE, 'ADEV3');
  const notJson = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, rawBody: '{nope' });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.errcode, 'M_NOT_JSON');

  const missing = await app.request('POST', '/_matrix/client/v3/keys/upload', {
    token: tok,
    body: { device_keys: { user_id: ALICE, device_id: 'ADEV3', keys: {}, signatures: {} } },
  });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.errcode, 'M_MISSING_PARAM');

  const otherDevice = newDevice(ALICE, 'ADEV1');
  const wrongDevice = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { device_keys: otherDevice.deviceKeys } });
  assert.equal(wrongDevice.status, 400);
  assert.equal(wrongDevice.json.errcode, 'M_INVALID_PARAM');

  const otherUser = newDevice(BOB, 'ADEV3');
  const wrongUser = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { device_keys: otherUser.deviceKeys } });
  assert.equal(wrongUser.status, 400);

  const tampered = { ...dev.deviceKeys, algorithms: ['m.megolm.v1.aes-sha2'] };
  const badSig = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { device_keys: tampered } });
  assert.equal(badSig.status, 400);
  assert.equal(badSig.json.errcode, 'M_INVALID_SIGNATURE');

  const badName = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { one_time_keys: { nocolon: 'abc' } } });
  assert.equal(badName.status, 400);
  const badValue = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: tok, body: { one_time_keys: { 'signed_curve25519:X': 5 } } });
  assert.equal(badValue.status, 400);
  assert.equal(badValue.json.errcode, 'M_BAD_JSON');

  const noAuth = await app.request('POST', '/_matrix/client/v3/keys/upload', { body: {} });
  assert.equal(noAuth.status, 401);
  assert.equal(noAuth.json.errcode, 'M_MISSING_TOKEN');

  const queryMissing = await app.request('POST', '/_matrix/client/v3/keys/query', { token: tok, body: {} });
  assert.equal(queryMissing.status, 400);
  assert.equal(queryMissing.json.errcode, 'M_MISSING_PARAM');
  const claimBad = await app.request('POST', '/_matrix/client/v3/keys/claim', { token: tok, body: { one_time_keys: { [ALICE]: { ADEV3: 7 } } } });
  assert.equal(claimBad.status, 400);
  assert.equal(typeof claimBad.json.errcode, 'string');
});

test('claim hands out each one-time key once, then the fallback key (marked used)', async () => {
  const aTok = app.login('@dora:localhost', 'DDEV');
  const dev = newDevice('@dora:localhost', 'DDEV');
  const otks = { 'signed_curve25519:O1': dev.oneTimeKey(), 'signed_curve25519:O2': dev.oneTimeKey() };
  const fallback = dev.oneTimeKey(true);
  await app.request('POST', '/_matrix/client/v3/keys/upload', {
    token: aTok,
    body: { device_keys: dev.deviceKeys, one_time_keys: otks, fallback_keys: { 'signed_curve25519:F1': fallback } },
  });
  const bTok = app.login(BOB, 'BDEV2');
  const claim = (): Promise<{ status: number; json: any }> =>
    app.request('POST', '/_matrix/client/v3/keys/claim', { token: bTok, body: { one_time_keys: { '@dora:localhost': { DDEV: 'signed_curve25519' } } } });
  const seen = new Map<string, unknown>();
  for (let i = 0; i < 2; i++) {
    // Read before each claim too: counts kept between syncs must follow every claim.
    assert.deepEqual(app.deviceKeys.oneTimeKeyCounts('@dora:localhost', 'DDEV'), { signed_curve25519: 2 - i });
    const r = await claim();
    assert.equal(r.status, 200);
    const keys = r.json.one_time_keys['@dora:localhost'].DDEV;
    const [id, value] = Object.entries(keys)[0]!;
    assert.ok(!seen.has(id), 'a one-time key is handed out at most once');
    seen.set(id, value);
  }
  assert.deepEqual(Object.fromEntries(seen), otks);
  assert.deepEqual(app.deviceKeys.oneTimeKeyCounts('@dora:localhost', 'DDEV'), { signed_curve25519: 0 });
  assert.deepEqual(app.deviceKeys.unusedFallbackKeyTypes('@dora:localhost', 'DDEV'), ['signed_curve25519']);

  const fb = await claim();
  assert.deepEqual(fb.json.one_time_keys['@dora:localhost'].DDEV, { 'signed_curve25519:F1': fallback });
  assert.deepEqual(app.deviceKeys.unusedFallbackKeyTypes('@dora:localhost', 'DDEV'), []);
  // The fallback key is re-used until replaced.
  const again = await claim();
  assert.deepEqual(again.json.one_time_keys['@dora:localhost'].DDEV, { 'signed_curve25519:F1': fallback });

  // A new fallback key is unused again.
  await app.request('POST', '/_matrix/client/v3/keys/upload', { token: aTok, body: { fallback_keys: { 'signed_curve25519:F2': dev.oneTimeKey(true) } } });
  assert.deepEqual(app.deviceKeys.unusedFallbackKeyTypes('@dora:localhost', 'DDEV'), ['signed_curve25519']);

  // Unknown devices and algorithms are simply absent; remote users are failures.
  const none = await app.request('POST', '/_matrix/client/v3/keys/claim', {
    token: bTok,
    body: { one_time_keys: { '@dora:localhost': { NOPE: 'signed_curve25519' }, '@x:remote.example': { D: 'signed_curve25519' } } },
  });
  assert.deepEqual(none.json.one_time_keys, {});
  assert.ok('remote.example' in none.json.failures);

  // Uploading more counts again; a deleted device has nothing left.
  await app.request('POST', '/_matrix/client/v3/keys/upload', { token: aTok, body: { one_time_keys: { 'signed_curve25519:O3': dev.oneTimeKey() } } });
  assert.deepEqual(app.deviceKeys.oneTimeKeyCounts('@dora:localhost', 'DDEV'), { signed_curve25519: 1 });
  await app.deleteDevice('@dora:localhost', 'DDEV');
  assert.deepEqual(app.deviceKeys.oneTimeKeyCounts('@dora:localhost', 'DDEV'), { signed_curve25519: 0 });
  assert.deepEqual(app.deviceKeys.unusedFallbackKeyTypes('@dora:localhost', 'DDEV'), []);
});

test('device list changes: key upload, new room-mates, leaving, device deletion', async () => {
  const erin = '@erin:localhost';
  const fred = '@fred:localhost';
  const eTok = app.login(erin, 'EDEV');
  const fTok = app.login(fred, 'FDEV');
  await app.join(erin, '!room1:localhost');
  await app.join(fred, '!room1:localhost');

  // Fred uploads keys: Erin (sharing a room) sees him in `changed`, incrementally only.
  const since = app.notifier.current;
  const fdev = newDevice(fred, 'FDEV');
  const up = await app.request('POST', '/_matrix/client/v3/keys/upload', { token: fTok, body: { device_keys: fdev.deviceKeys } });
  assert.equal(up.status, 200);
  const after = app.notifier.current;
  assert.ok(after > since, 'the upload was announced at a new stream position');
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since, upTo: after }), { changed: [fred], left: [] });
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since: null, upTo: after }), { changed: [], left: [] });
  const ch = await app.request('GET', `/_matrix/client/v3/keys/changes?from=${token(since)}&to=${token(after)}`, { token: eTok });
  assert.equal(ch.status, 200);
  assert.deepEqual(ch.json, { changed: [fred], left: [] });

  // A user who shares no room with Erin is not reported.
  const gTok = app.login('@gina:localhost', 'GDEV');
  const s2 = app.notifier.current;
  await app.request('POST', '/_matrix/client/v3/keys/upload', { token: gTok, body: { device_keys: newDevice('@gina:localhost', 'GDEV').deviceKeys } });
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since: s2, upTo: app.notifier.current }).changed, []);

  // Gina joins Erin's room: now she is `changed` for Erin.
  const s3 = app.notifier.current;
  await app.join('@gina:localhost', '!room1:localhost');
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since: s3, upTo: app.notifier.current }), { changed: ['@gina:localhost'], left: [] });

  // Fred leaves the only room he shared with Erin: `left`.
  const s4 = app.notifier.current;
  await app.leave(fred, '!room1:localhost');
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since: s4, upTo: app.notifier.current }), { changed: [], left: [fred] });

  // Gina deletes a device (accounts service): her keys go, Erin sees the change.
  const s5 = app.notifier.current;
  await app.deleteDevice('@gina:localhost', 'GDEV');
  assert.deepEqual(app.deviceKeys.changes({ userId: erin, deviceId: 'EDEV', since: s5, upTo: app.notifier.current }).changed, ['@gina:localhost']);
  const q = await app.request('POST', '/_matrix/client/v3/keys/query', { token: eTok, body: { device_keys: { '@gina:localhost': [] } } });
  assert.deepEqual(q.json.device_keys['@gina:localhost'], {});

  // Bad tokens → 400.
  const bad = await app.request('GET', '/_matrix/client/v3/keys/changes?from=garbage&to=s1_0', { token: eTok });
  assert.equal(bad.status, 400);
  const noTo = await app.request('GET', '/_matrix/client/v3/keys/changes?from=s1_0', { token: eTok });
  assert.equal(noTo.status, 400);
});

test('a sync waiter of a room-mate is woken by a key upload', async () => {
  const hal = '@hal:localhost';
  const ivy = '@ivy:localhost';
  const hTok = app.login(hal, 'HDEV');
  app.login(ivy, 'IDEV');
  await app.join(hal, '!room2:localhost');
  await app.join(ivy, '!room2:localhost');
  const woken = app.notifier.wait(ivy, 5000).then(() => 'woken');
  await app.request('POST', '/_matrix/client/v3/keys/upload', { token: hTok, body: { device_keys: newDevice(hal, 'HDEV').deviceKeys } });
  assert.equal(await Promise.race([woken, new Promise((r) => setTimeout(() => r('timeout'), 2000))]), 'woken');
});
