/**
 * The cache of remote users' device lists (services/e2ee/device-keys.ts; client-server keys.yaml
 * /keys/query, server-server user_devices.yaml and "Device Management"): over a real sql.js store
 * (e2ee-harness.ts) with a fake remote server that counts requests. A user we share a room with
 * is fetched once with /user/devices and then served from the cache; an m.device_list_update
 * at the cached stream_id updates it; a gap marks it stale and the next query resyncs; an
 * m.signing_key_update replaces the cross-signing keys; when no local user shares a room with
 * the user any more, the cache is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2eeTestApp } from './e2ee-harness.ts';
import type { RemoteKeys } from '../services/e2ee/device-keys.ts';
import { SqlJsE2eeStore } from '../storage/sqljs/e2ee.ts';

const ALICE = '@alice:localhost';
const BOB = '@bob:remote.example';
const ROOM = '!family:localhost';

const deviceKeys = (deviceId: string, key: string) => ({
  user_id: BOB,
  device_id: deviceId,
  algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
  keys: { [`curve25519:${deviceId}`]: key, [`ed25519:${deviceId}`]: key },
  signatures: {},
});
const masterKey = (key: string) => ({ user_id: BOB, usage: ['master'], keys: { [`ed25519:${key}`]: key } });

test('remote device lists are cached, updated from EDUs, resynced after a gap, dropped on leave', async () => {
  const app = await startE2eeTestApp();
  try {
    // The remote's view of bob's devices, and the requests it got.
    const remoteState = { streamId: 10, devices: [{ device_id: 'BOB1', keys: deviceKeys('BOB1', 'k1'), device_display_name: 'phone' }], master: masterKey('m1') };
    const calls = { devices: 0, query: 0 };
    const remote: RemoteKeys = {
      async devices(server, userId) {
        assert.equal(server, 'remote.example');
        calls.devices++;
        return { user_id: userId, stream_id: remoteState.streamId, devices: remoteState.devices, master_key: remoteState.master };
      },
      async query(_server, wanted) {
        calls.query++;
        const perDevice = Object.fromEntries(remoteState.devices.map((d) => [d.device_id, d.keys]));
        return { device_keys: Object.fromEntries(Object.keys(wanted).map((u) => [u, perDevice])), master_keys: { [BOB]: remoteState.master } };
      },
      claim: async () => ({}),
    };
    app.deviceKeys.useFederation(remote);
    const store = new SqlJsE2eeStore(app.db);
    const query = () => app.deviceKeys.queryWithRemote(ALICE, { [BOB]: [] });

    await app.join(ALICE, ROOM);
    await app.join(BOB, ROOM);

    // 1. Fetched once, then from the cache.
    const first = await query();
    assert.deepEqual(Object.keys(first.device_keys[BOB]!), ['BOB1']);
    assert.deepEqual(first.device_keys[BOB]!.BOB1!.unsigned, { device_display_name: 'phone' });
    assert.deepEqual(first.master_keys[BOB], masterKey('m1'));
    assert.deepEqual(first.failures, {});
    const second = await query();
    assert.deepEqual(second, first);
    assert.deepEqual(calls, { devices: 1, query: 0 });
    assert.equal(store.remoteDeviceList(BOB)?.streamId, 10);

    // 2. An update at our stream_id applies; one already applied is ignored.
    await app.deviceKeys.applyRemoteDeviceListEdu('m.device_list_update', { user_id: BOB, device_id: 'BOB2', stream_id: 11, prev_id: [10], keys: deviceKeys('BOB2', 'k2'), device_display_name: 'laptop' });
    await app.deviceKeys.applyRemoteDeviceListEdu('m.device_list_update', { user_id: BOB, device_id: 'BOB1', stream_id: 9, prev_id: [8], deleted: true });
    const updated = await query();
    assert.deepEqual(Object.keys(updated.device_keys[BOB]!).sort(), ['BOB1', 'BOB2']);
    assert.deepEqual(updated.device_keys[BOB]!.BOB2!.unsigned, { device_display_name: 'laptop' });
    // No prev_id: the sender's first update for this user (as when the list was fetched before any
    // was sent); newer than what we hold, so it follows on without a resync.
    await app.deviceKeys.applyRemoteDeviceListEdu('m.device_list_update', { user_id: BOB, device_id: 'BOB2', stream_id: 12, prev_id: [], keys: deviceKeys('BOB2', 'k2'), device_display_name: 'laptop 2' });
    assert.equal(store.remoteDeviceList(BOB)?.stale, false);
    assert.equal(store.remoteDeviceList(BOB)?.streamId, 12);
    assert.deepEqual((await app.deviceKeys.queryWithRemote(ALICE, { [BOB]: ['BOB2'] })).device_keys[BOB]!.BOB2!.unsigned, { device_display_name: 'laptop 2' });
    assert.equal(calls.devices, 1);

    // m.signing_key_update replaces the cross-signing keys.
    await app.deviceKeys.applyRemoteDeviceListEdu('m.signing_key_update', { user_id: BOB, master_key: masterKey('m2') });
    assert.deepEqual((await query()).master_keys[BOB], masterKey('m2'));
    assert.equal(calls.devices, 1);

    // 3. A gap (we never saw 13): stale, and the next query resyncs.
    remoteState.streamId = 14;
    remoteState.devices = [{ device_id: 'BOB3', keys: deviceKeys('BOB3', 'k3'), device_display_name: 'tablet' }];
    remoteState.master = masterKey('m3');
    await app.deviceKeys.applyRemoteDeviceListEdu('m.device_list_update', { user_id: BOB, device_id: 'BOB3', stream_id: 14, prev_id: [13], keys: deviceKeys('BOB3', 'k3') });
    assert.equal(store.remoteDeviceList(BOB)?.stale, true);
    const resynced = await query();
    assert.equal(calls.devices, 2);
    assert.deepEqual(Object.keys(resynced.device_keys[BOB]!), ['BOB3']);
    assert.deepEqual(resynced.master_keys[BOB], masterKey('m3'));
    assert.equal(store.remoteDeviceList(BOB)?.streamId, 14);
    assert.equal(store.remoteDeviceList(BOB)?.stale, false);
    await query();
    assert.equal(calls.devices, 2);

    // An update that arrives while a resync is on its way is not lost: the older snapshot is kept
    // stale, and the next query asks again.
    await store.markRemoteDeviceListStale(BOB);
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    const devices = remote.devices;
    remote.devices = async (server, userId, timeoutMs) => {
      await held;
      return devices(server, userId, timeoutMs);
    };
    const racing = query();
    await new Promise((r) => setImmediate(r));
    await app.deviceKeys.applyRemoteDeviceListEdu('m.device_list_update', { user_id: BOB, device_id: 'BOB4', stream_id: 15, prev_id: [14], keys: deviceKeys('BOB4', 'k4') });
    answer();
    await racing;
    assert.equal(calls.devices, 3);
    assert.equal(store.remoteDeviceList(BOB)?.stale, true, 'the snapshot (stream 14) is older than the update seen (15)');
    remote.devices = devices;
    remoteState.streamId = 15;
    remoteState.devices = [...remoteState.devices, { device_id: 'BOB4', keys: deviceKeys('BOB4', 'k4'), device_display_name: 'watch' }];
    assert.deepEqual(Object.keys((await query()).device_keys[BOB]!).sort(), ['BOB3', 'BOB4']);
    assert.equal(calls.devices, 4);
    assert.equal(store.remoteDeviceList(BOB)?.stale, false);

    // 4. Alice leaves the last room shared with bob: the cache goes, and queries ask the remote.
    await app.leave(ALICE, ROOM);
    assert.equal(store.remoteDeviceList(BOB), undefined);
    assert.deepEqual(store.remoteDeviceListUsers(), []);
    const uncached = await query();
    assert.deepEqual(Object.keys(uncached.device_keys[BOB]!).sort(), ['BOB3', 'BOB4']);
    assert.deepEqual(calls, { devices: 4, query: 1 });
    assert.equal(store.remoteDeviceList(BOB), undefined, 'not cached while no room is shared');
  } finally {
    await app.close();
  }
});
