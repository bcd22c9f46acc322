/**
 * An end-to-end encrypted exchange between users of two Hearth servers, each user a
 * matrix-js-sdk client with the SDK's own Rust crypto (as in js-sdk.test.ts), the servers
 * talking over real TLS (federation-harness.ts). It exercises everything E2EE needs across
 * servers (spec: server-server "Device Management", "End-to-End Encryption", "Send-to-device
 * messaging"): clients' /keys/query and /keys/claim for remote users answered through
 * /user/keys/query and /user/keys/claim, the Megolm sessions shared over m.direct_to_device
 * EDUs, and a new device announced by an m.device_list_update EDU that reaches the other side's
 * sync as device_lists.changed. Also that the joining server's client API shows the room state
 * its send_join brought (outliers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { startFederation } from './federation-harness.ts';
import { newDevice, newUser, startClient, stopClient, waitForEventId, waitForRoom, waitUntil, type SdkUser } from './js-sdk-helpers.ts';

/** Polls an async check (the SDK's crypto API answers with promises) until it is true. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The client's crypto knows `other`'s device (its server asked the other's: /user/keys/query). */
function learnsDevice(u: SdkUser, other: SdkUser): Promise<void> {
  return eventually(`${u.userId} learns ${other.userId}'s device ${other.deviceId}`, async () => {
    const map = await u.client.getCrypto()!.getUserDeviceInfo([other.userId], true);
    return map.get(other.userId)?.has(other.deviceId) ?? false;
  });
}

test('alice on A and bob on B exchange Megolm-encrypted messages, each decrypting the other\'s', { timeout: 60_000 }, async () => {
  const [a, b] = await startFederation(2, { settings: { federationRetryMinMs: 200 } });
  const users: SdkUser[] = [];
  try {
    const alice = await newUser(a!.url, 'alice');
    const bob = await newUser(b!.url, 'bob');
    users.push(alice, bob);
    await Promise.all(users.map((u) => startClient(u.client, { crypto: true })));

    const { room_id: roomId } = await alice.client.createRoom({
      preset: sdk.Preset.PrivateChat,
      name: 'secret family room',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await waitForRoom(alice.client, roomId, 'join');
    await alice.client.invite(roomId, bob.userId);
    await waitForRoom(bob.client, roomId, 'invite');
    await bob.client.joinRoom(roomId);
    await waitForRoom(bob.client, roomId, 'join');
    await waitUntil(alice.client, 'alice sees bob joined', () => alice.client.getRoom(roomId)?.getMember(bob.userId)?.membership === 'join', 15_000);
    // B knows the room's state from send_join (kept as outliers): its /state shows it.
    const state = await b!.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`, { token: bob.accessToken });
    assert.equal(state.status, 200, JSON.stringify(state.json));
    const types = (state.json as { type: string }[]).map((e) => e.type);
    for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.encryption', 'm.room.name']) assert.ok(types.includes(t), `B's /state lacks ${t}: ${types}`);
    for (const u of users) await eventually(`${u.userId} sees the room as encrypted`, () => u.client.getCrypto()!.isEncryptionEnabledInRoom(roomId));
    // Each side's client learns the other's device through its own server and /user/keys/query.
    await Promise.all([learnsDevice(alice, bob), learnsDevice(bob, alice)]);

    // Alice's client claims a one-time key of bob's device (/user/keys/claim), shares the Megolm
    // session with it over to-device (an m.direct_to_device EDU to B), and sends ciphertext.
    const { event_id: id } = await alice.client.sendTextMessage(roomId, 'the cake is in the oven');
    const ev = await waitForEventId(bob.client, roomId, id, 20_000);
    assert.equal(ev.getWireType(), 'm.room.encrypted', 'B stored and delivered ciphertext');
    assert.equal(ev.getWireContent().algorithm, 'm.megolm.v1.aes-sha2');
    assert.equal(ev.isDecryptionFailure(), false, `bob could not decrypt: ${ev.decryptionFailureReason}`);
    assert.equal(ev.getType(), 'm.room.message');
    assert.equal(ev.getClearContent()?.body, 'the cake is in the oven');
    assert.equal(ev.getSender(), alice.userId);

    // And back: bob's own outbound session, shared with alice's device across servers.
    const { event_id: reply } = await bob.client.sendTextMessage(roomId, 'I will bring candles');
    const back = await waitForEventId(alice.client, roomId, reply, 20_000);
    assert.equal(back.getWireType(), 'm.room.encrypted');
    assert.equal(back.isDecryptionFailure(), false, `alice could not decrypt: ${back.decryptionFailureReason}`);
    assert.equal(back.getClearContent()?.body, 'I will bring candles');
    assert.equal(back.getSender(), bob.userId);

    // Bob signs in on a second device: B tells A with an m.device_list_update EDU, alice's sync
    // names bob in device_lists.changed, her client asks again and shares its next session with it.
    const bob2 = await newDevice(b!.url, bob, 'Bob tablet');
    users.push(bob2);
    await startClient(bob2.client, { crypto: true });
    await learnsDevice(alice, bob2);
    const { event_id: third } = await alice.client.sendTextMessage(roomId, 'welcome, tablet');
    const onTablet = await waitForEventId(bob2.client, roomId, third, 20_000);
    assert.equal(onTablet.isDecryptionFailure(), false, `bob's new device could not decrypt: ${onTablet.decryptionFailureReason}`);
    assert.equal(onTablet.getClearContent()?.body, 'welcome, tablet');
  } finally {
    await Promise.all(users.map((u) => stopClient(u.client)));
    await Promise.all([a!.close(), b!.close()]);
  }
});
