/**
 * Hearth as seen by an independent client: matrix-js-sdk (Element Web's SDK) in Node, with its
 * own Rust crypto, against a real Hearth over HTTP. Everything the SDK does here (its /sync
 * parsing, UIA, pagination, receipts, Olm/Megolm) is code we did not write, so these tests catch
 * wire-format mistakes that our own harness would mirror.
 *
 * Spec modules exercised: registration, login, device_management, create_room, inviting,
 * joining, room_send, redaction, message_pagination, sync, typing, receipts, pushrules (the
 * SDK fetches them before syncing), filter, keys, to_device.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { startTestServer, type TestServer } from './harness.ts';
import {
  newDevice,
  newUser,
  passwordAuth,
  startClient,
  stopClient,
  timelineBodies,
  waitForEvent,
  waitForEventId,
  waitForRoom,
  waitUntil,
  withUia,
  type SdkUser,
} from './js-sdk-helpers.ts';

const T = { timeout: 60_000 };

describe('matrix-js-sdk against Hearth', () => {
  let server: TestServer;
  let url: string;
  const started: sdk.MatrixClient[] = [];
  let alice: SdkUser;
  let alice2: SdkUser;
  let bob: SdkUser;
  let carol: SdkUser;

  const starting = new Map<sdk.MatrixClient, Promise<void>>();
  /** Starts the user's client once (tests that need sync call this; the others run without). */
  function start(u: SdkUser, opts: Parameters<typeof startClient>[1] = {}): Promise<void> {
    let p = starting.get(u.client);
    if (!p) {
      started.push(u.client);
      p = startClient(u.client, opts);
      starting.set(u.client, p);
    }
    return p;
  }
  async function startAll(...us: SdkUser[]): Promise<void> {
    await Promise.all(us.map((u) => start(u)));
  }

  /** Alice creates a room, invites `others`, each accepts through their own client's sync. */
  async function roomWith(creator: SdkUser, others: SdkUser[], extra: sdk.ICreateRoomOpts = {}): Promise<string> {
    const { room_id: roomId } = await creator.client.createRoom({ preset: sdk.Preset.PrivateChat, name: 'test room', ...extra });
    await waitForRoom(creator.client, roomId, 'join');
    for (const o of others) {
      await creator.client.invite(roomId, o.userId);
      await waitForRoom(o.client, roomId, 'invite');
      await o.client.joinRoom(roomId);
      await waitForRoom(o.client, roomId, 'join');
      await waitUntil(creator.client, `${creator.userId} sees ${o.userId} joined`, () => creator.client.getRoom(roomId)?.getMember(o.userId)?.membership === 'join');
    }
    return roomId;
  }

  before(async () => {
    server = await startTestServer({ registration: 'open', registrationSharedSecret: 'js-sdk-secret' });
    url = server.url;
    alice = await newUser(url, 'alice');
    bob = await newUser(url, 'bob');
    carol = await newUser(url, 'carol');
    alice2 = await newDevice(url, alice, 'Alice phone');
    // clients are started by the tests that need sync; carol's by the pagination test, with a
    // small initialSyncLimit
  });

  after(async () => {
    await Promise.all(started.map((c) => stopClient(c)));
    await server?.close();
  });

  test('register (UIA m.login.dummy) and password login give distinct devices of one user', T, async () => {
    assert.equal(alice.userId, '@alice:localhost');
    assert.equal(alice2.userId, alice.userId);
    assert.notEqual(alice2.deviceId, alice.deviceId);
    assert.notEqual(alice2.accessToken, alice.accessToken);
    const who = await alice2.client.whoami();
    assert.equal(who.user_id, alice.userId);
    assert.equal(who.device_id, alice2.deviceId);
  });

  test('createRoom, invite, join; messages arrive through sync in order, on both of the sender\'s devices', T, async () => {
    await startAll(alice, alice2, bob);
    const roomId = await roomWith(alice, [bob]);
    await waitForRoom(alice2.client, roomId, 'join');
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) ids.push((await alice.client.sendTextMessage(roomId, body)).event_id);
    const last = await waitForEventId(bob.client, roomId, ids[2]!);
    assert.equal(last.getSender(), alice.userId);
    assert.deepEqual(timelineBodies(bob.client, roomId).slice(-3), ['one', 'two', 'three']);
    await waitForEventId(alice2.client, roomId, ids[2]!);
    assert.deepEqual(timelineBodies(alice2.client, roomId).slice(-3), ['one', 'two', 'three']);
    // the sender's own client gets the remote echo with the same event id (txn id matching)
    const echo = await waitForEventId(alice.client, roomId, ids[0]!);
    assert.equal(echo.status, null, 'local echo replaced by the synced event');
    // room name from m.room.name, members from state
    assert.equal(bob.client.getRoom(roomId)!.name, 'test room');
    assert.deepEqual(bob.client.getRoom(roomId)!.getJoinedMembers().map((m) => m.userId).sort(), [alice.userId, bob.userId].sort());
  });

  test('typing notifications start and stop', T, async () => {
    await startAll(alice, bob);
    const roomId = await roomWith(alice, [bob]);
    await alice.client.sendTyping(roomId, true, 20_000);
    await waitUntil(bob.client, 'bob sees alice typing', () => bob.client.getRoom(roomId)?.getMember(alice.userId)?.typing === true);
    await alice.client.sendTyping(roomId, false, 0);
    await waitUntil(bob.client, 'bob sees alice stop typing', () => bob.client.getRoom(roomId)?.getMember(alice.userId)?.typing === false);
  });

  test('unread counts from the server, read receipts both ways', T, async () => {
    await startAll(alice, bob);
    const roomId = await roomWith(alice, [bob]);
    const ids: string[] = [];
    for (const body of ['unread 1', 'unread 2']) ids.push((await alice.client.sendTextMessage(roomId, body)).event_id);
    const last = await waitForEventId(bob.client, roomId, ids[1]!);
    const bobRoom = bob.client.getRoom(roomId)!;
    // default push rules make each message notify: the server's unread_notifications count
    const count = (): number => bobRoom.getUnreadNotificationCount(sdk.NotificationCountType.Total);
    // 2, not 3: the invite bob accepted is not unread in the room he joined (Synapse counts from
    // the join when there is no receipt: event_push_actions.py, _get_unread_counts_by_receipt_txn)
    await waitUntil(bob.client, () => `bob unread count 2 (now ${count()})`, () => count() === 2);
    assert.equal(bobRoom.getUnreadNotificationCount(sdk.NotificationCountType.Highlight), 0);

    await bob.client.sendReadReceipt(last, sdk.ReceiptType.Read);
    // alice's client sees bob's receipt through the m.receipt ephemeral event
    await waitUntil(alice.client, 'alice sees bob\'s read receipt', () => {
      const r = alice.client.getRoom(roomId);
      return !!r && r.getEventReadUpTo(bob.userId) === last.getId() && r.getUsersReadUpTo(r.findEventById(last.getId()!)!).includes(bob.userId);
    });
    // the server resets bob's count; wait for a sync that says so (another message forces one)
    const ping = (await alice.client.sendTextMessage(roomId, 'after receipt')).event_id;
    await waitForEventId(bob.client, roomId, ping);
    await waitUntil(bob.client, () => `bob unread count 1 after reading and one more message (now ${count()})`, () => count() === 1);

    // private read receipt: not shown to alice, but resets bob's count
    const pingEv = bobRoom.findEventById(ping)!;
    await bob.client.sendReadReceipt(pingEv, sdk.ReceiptType.ReadPrivate);
    const ping2 = (await alice.client.sendTextMessage(roomId, 'after private receipt')).event_id;
    await waitForEventId(bob.client, roomId, ping2);
    await waitUntil(bob.client, () => `bob unread count 1 after private receipt (now ${count()})`, () => count() === 1);
    assert.notEqual(alice.client.getRoom(roomId)!.getEventReadUpTo(bob.userId, true), ping, 'private receipt must not reach alice');
  });

  test('redaction reaches the other client and strips the content', T, async () => {
    await startAll(alice, bob);
    const roomId = await roomWith(alice, [bob]);
    const { event_id: id } = await alice.client.sendTextMessage(roomId, 'oops, secret');
    const ev = await waitForEventId(bob.client, roomId, id);
    assert.equal(ev.getContent().body, 'oops, secret');
    const { event_id: redactionId } = await alice.client.redactEvent(roomId, id, undefined, { reason: 'typo' });
    await waitUntil(bob.client, 'bob sees the redaction', () => bob.client.getRoom(roomId)?.findEventById(id)?.isRedacted());
    const redacted = bob.client.getRoom(roomId)!.findEventById(id)!;
    assert.deepEqual(redacted.getContent(), {});
    assert.equal(redacted.getUnsigned().redacted_because?.event_id ?? redacted.getRedactionEvent()?.event_id, redactionId);
    // a fresh /context-free read of the event from the server is redacted too
    const fetched = await bob.client.fetchRoomEvent(roomId, id);
    assert.deepEqual(fetched.content, {});
    assert.equal(fetched.unsigned?.redacted_because?.event_id, redactionId);
  });

  test('back-pagination with scrollback fills in history past initialSyncLimit', T, async () => {
    await startAll(alice, bob);
    const roomId = await roomWith(alice, [bob]);
    // carol joins before the history is written, then starts her client with a small limit
    await alice.client.invite(roomId, carol.userId);
    await carol.client.joinRoom(roomId);
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) sent.push(`history ${i}`);
    let lastId = '';
    for (const body of sent) lastId = (await alice.client.sendTextMessage(roomId, body)).event_id;
    await start(carol, { initialSyncLimit: 5 });
    const room = await waitForRoom(carol.client, roomId, 'join');
    await waitForEventId(carol.client, roomId, lastId);
    const before = timelineBodies(carol.client, roomId);
    assert.ok(before.length <= 5, `initial sync returned ${before.length} messages with initialSyncLimit 5`);
    assert.equal(room.getLiveTimeline().getPaginationToken(sdk.EventTimeline.BACKWARDS) !== null, true, 'a prev_batch token');
    for (let i = 0; i < 20 && timelineBodies(carol.client, roomId).length < 30; i++) {
      await carol.client.scrollback(room, 10);
      if (room.oldState.paginationToken === null && room.getLiveTimeline().getPaginationToken(sdk.EventTimeline.BACKWARDS) === null) break;
    }
    assert.deepEqual(timelineBodies(carol.client, roomId), sent, 'all 30 messages, oldest first, no duplicates');
    // and the room's beginning: m.room.create is reachable
    for (let i = 0; i < 10 && !room.getLiveTimeline().getEvents().some((e) => e.getType() === 'm.room.create'); i++) await carol.client.scrollback(room, 20);
    assert.ok(room.getLiveTimeline().getEvents().some((e) => e.getType() === 'm.room.create'), 'scrollback reaches m.room.create');
  });

  test('device management: list, rename, delete with password UIA', T, async () => {
    const extra = await newDevice(url, alice, 'Alice laptop');
    const list1 = (await alice.client.getDevices()).devices;
    const ids1 = list1.map((d) => d.device_id);
    for (const id of [alice.deviceId, alice2.deviceId, extra.deviceId]) assert.ok(ids1.includes(id), `getDevices lists ${id}`);
    assert.equal(list1.find((d) => d.device_id === extra.deviceId)!.display_name, 'Alice laptop');

    await alice.client.setDeviceDetails(extra.deviceId, { display_name: 'Old laptop' });
    const got = await alice.client.getDevice(extra.deviceId);
    assert.equal(got.display_name, 'Old laptop');

    // without auth: 401 with a session and a flow offering m.login.password
    let challenge: sdk.MatrixError | undefined;
    try {
      await alice.client.deleteDevice(extra.deviceId);
    } catch (e) {
      challenge = e as sdk.MatrixError;
    }
    assert.ok(challenge, 'deleteDevice without auth must ask for UIA');
    assert.equal(challenge.httpStatus, 401);
    const flows = (challenge.data as { flows?: { stages: string[] }[] }).flows ?? [];
    assert.ok(flows.some((f) => f.stages.includes('m.login.password')), `flows ${JSON.stringify(flows)}`);
    // a wrong password is refused with 401 M_FORBIDDEN inside UIA
    await assert.rejects(alice.client.deleteDevice(extra.deviceId, passwordAuth({ username: 'alice', password: 'wrong' }, (challenge.data as { session?: string }).session)), (e: sdk.MatrixError) => e.httpStatus === 401);

    await withUia((auth) => alice.client.deleteDevice(extra.deviceId, auth), (session) => passwordAuth(alice, session));
    const ids2 = (await alice.client.getDevices()).devices.map((d) => d.device_id);
    assert.ok(!ids2.includes(extra.deviceId), 'deleted device is gone');
    await assert.rejects(extra.client.whoami(), (e: sdk.MatrixError) => e.httpStatus === 401 && e.errcode === 'M_UNKNOWN_TOKEN');
  });

  test('end-to-end encryption with the SDK\'s Rust crypto: Megolm message decrypted by the other user', T, async () => {
    const dave = await newUser(url, 'dave');
    const erin = await newUser(url, 'erin');
    await start(dave, { crypto: true });
    await start(erin, { crypto: true });
    const roomId = await roomWith(dave, [erin], {
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await waitUntil(erin.client, 'erin sees the room as encrypted', () => erin.client.getCrypto()!.isEncryptionEnabledInRoom(roomId));
    // both devices' keys are on the server (keys/upload) and visible to the other (keys/query)
    for (const [a, b] of [[dave, erin], [erin, dave]] as const) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const map = await a.client.getCrypto()!.getUserDeviceInfo([b.userId], true);
        if (map.get(b.userId)?.has(b.deviceId)) break;
        if (Date.now() > deadline) throw new Error(`${a.userId} never learnt ${b.userId}'s device ${b.deviceId} (keys/query or device_lists.changed)`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    const { event_id: id } = await dave.client.sendTextMessage(roomId, 'the eagle lands at dawn');
    const ev = await waitForEventId(erin.client, roomId, id, 20_000);
    assert.equal(ev.getWireType(), 'm.room.encrypted', 'the server stored and delivered ciphertext');
    assert.equal(ev.getWireContent().algorithm, 'm.megolm.v1.aes-sha2');
    assert.equal(ev.isDecryptionFailure(), false, `decryption failed: ${ev.decryptionFailureReason}`);
    assert.equal(ev.getType(), 'm.room.message');
    assert.equal(ev.getClearContent()?.body, 'the eagle lands at dawn');

    // and back the other way (erin's own outbound session, shared to dave over to-device)
    const { event_id: reply } = await erin.client.sendTextMessage(roomId, 'understood');
    const back = await waitForEventId(dave.client, roomId, reply, 20_000);
    assert.equal(back.isDecryptionFailure(), false, `decryption failed: ${back.decryptionFailureReason}`);
    assert.equal(back.getClearContent()?.body, 'understood');
  });
});
