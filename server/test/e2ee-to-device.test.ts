/** Send-to-device over real HTTP, and delivery through sync's ToDeviceSource: in order, once the
 * next sync token passes them they are gone; idempotent per device and txnId; `*` wildcard. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2eeTestApp, type E2eeTestApp } from './e2ee-harness.ts';

let app: E2eeTestApp;
before(async () => {
  app = await startE2eeTestApp();
});
after(async () => {
  await app.close();
});

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';

const send = (token: string, txnId: string, messages: unknown, type = 'm.room_key_request') =>
  app.request('PUT', `/_matrix/client/v3/sendToDevice/${encodeURIComponent(type)}/${txnId}`, { token, body: { messages } });

test('delivery in order, then deletion once the next sync token acknowledges it', async () => {
  const aTok = app.login(ALICE, 'A1');
  app.login(BOB, 'B1');
  app.login(BOB, 'B2');
  const since0 = app.notifier.current;
  const woken = app.notifier.wait(BOB, 5000).then(() => 'woken');
  const r = await send(aTok, 'txn1', { [BOB]: { B1: { n: 1 } } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {});
  assert.equal(await woken, 'woken');
  await send(aTok, 'txn2', { [BOB]: { B1: { n: 2 }, B2: { n: 2 } } });

  const upTo1 = app.notifier.current;
  const first = await app.toDevice.take({ userId: BOB, deviceId: 'B1', since: since0, upTo: upTo1 }, 100);
  assert.deepEqual(first, [
    { sender: ALICE, type: 'm.room_key_request', content: { n: 1 } },
    { sender: ALICE, type: 'm.room_key_request', content: { n: 2 } },
  ]);
  // The same since again (the response was lost): delivered again.
  assert.equal((await app.toDevice.take({ userId: BOB, deviceId: 'B1', since: since0, upTo: upTo1 }, 100)).length, 2);
  // The next sync with since = upTo1 acknowledges them: deleted.
  assert.deepEqual(await app.toDevice.take({ userId: BOB, deviceId: 'B1', since: upTo1, upTo: app.notifier.current }, 100), []);
  assert.equal(app.db.read((q) => q.get("SELECT COUNT(*) AS n FROM e2ee_to_device_inbox WHERE user_id = ? AND device_id = 'B1'", [BOB]))?.n, 0);
  // B2's copy is untouched.
  assert.deepEqual(await app.toDevice.take({ userId: BOB, deviceId: 'B2', since: null, upTo: app.notifier.current }, 100), [
    { sender: ALICE, type: 'm.room_key_request', content: { n: 2 } },
  ]);
});

test('same txnId from the same device is stored once; from another device it is new', async () => {
  const a1 = app.login('@carl:localhost', 'C1');
  const a2 = app.login('@carl:localhost', 'C2');
  app.login('@dana:localhost', 'D1');
  const msg = { '@dana:localhost': { D1: { hello: true } } };
  assert.equal((await send(a1, 'same', msg)).status, 200);
  assert.equal((await send(a1, 'same', msg)).status, 200);
  const got = await app.toDevice.take({ userId: '@dana:localhost', deviceId: 'D1', since: null, upTo: app.notifier.current }, 100);
  assert.equal(got.length, 1);
  await send(a2, 'same', msg);
  assert.equal((await app.toDevice.take({ userId: '@dana:localhost', deviceId: 'D1', since: null, upTo: app.notifier.current }, 100)).length, 2);
});

test('`*` reaches every device; unknown devices and users are skipped; remote users are queued', async () => {
  const tok = app.login('@eve:localhost', 'E1');
  app.login('@finn:localhost', 'F1');
  app.login('@finn:localhost', 'F2');
  const r = await send(tok, 'w1', {
    '@finn:localhost': { '*': { all: true } },
    '@nobody:localhost': { X: { lost: true } },
    '@zed:remote.example': { Z1: { far: true } },
  });
  assert.equal(r.status, 200);
  for (const d of ['F1', 'F2']) {
    const got = await app.toDevice.take({ userId: '@finn:localhost', deviceId: d, since: null, upTo: app.notifier.current }, 100);
    assert.deepEqual(got, [{ sender: '@eve:localhost', type: 'm.room_key_request', content: { all: true } }]);
  }
  const outbox = app.db.read((q) => q.all('SELECT destination, user_id, device_id FROM e2ee_to_device_outbox'));
  assert.deepEqual(outbox.map((o) => ({ ...o })), [{ destination: 'remote.example', user_id: '@zed:remote.example', device_id: 'Z1' }]);
});

test('a sync limited to fewer messages does not lose the rest', async () => {
  const tok = app.login('@gus:localhost', 'G1');
  app.login('@hana:localhost', 'H1');
  const since0 = app.notifier.current;
  for (let i = 0; i < 5; i++) await send(tok, `l${i}`, { '@hana:localhost': { H1: { i } } });
  const w = { userId: '@hana:localhost', deviceId: 'H1' };
  const upTo1 = app.notifier.current;
  const first = await app.toDevice.take({ ...w, since: since0, upTo: upTo1 }, 2);
  assert.deepEqual(first.map((m) => m.content.i), [0, 1]);
  const upTo2 = app.notifier.current;
  const second = await app.toDevice.take({ ...w, since: upTo1, upTo: upTo2 }, 2);
  assert.deepEqual(second.map((m) => m.content.i), [2, 3]);
  const third = await app.toDevice.take({ ...w, since: upTo2, upTo: upTo2 }, 2);
  assert.deepEqual(third.map((m) => m.content.i), [4]);
  assert.deepEqual(await app.toDevice.take({ ...w, since: upTo2, upTo: upTo2 }, 2), []);
});

test('a deleted device loses its inbox', async () => {
  const tok = app.login('@ida:localhost', 'I1');
  app.login('@jon:localhost', 'J1');
  await send(tok, 'd1', { '@jon:localhost': { J1: { x: 1 } } });
  await app.deleteDevice('@jon:localhost', 'J1');
  assert.equal(app.db.read((q) => q.get("SELECT COUNT(*) AS n FROM e2ee_to_device_inbox WHERE user_id = '@jon:localhost'"))?.n, 0);
});

test('errors: no messages, bad JSON, non-object content, no token', async () => {
  const tok = app.login('@kim:localhost', 'K1');
  const missing = await app.request('PUT', '/_matrix/client/v3/sendToDevice/m.test/e1', { token: tok, body: {} });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
  const notJson = await app.request('PUT', '/_matrix/client/v3/sendToDevice/m.test/e2', { token: tok, rawBody: 'x' });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.errcode, 'M_NOT_JSON');
  const badContent = await send(tok, 'e3', { '@kim:localhost': { K1: 'string' } });
  assert.equal(badContent.status, 400);
  const noAuth = await app.request('PUT', '/_matrix/client/v3/sendToDevice/m.test/e4', { body: { messages: {} } });
  assert.equal(noAuth.status, 401);
});
