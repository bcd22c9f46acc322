/**
 * Reporting content (client-server report_content.yaml) over real HTTP: event, room and user
 * reports against the real rooms services and a real sql.js database (migration 0009). Rooms
 * are set up through the rooms services directly and tokens are `tok-<user id>`, so this suite
 * does not depend on registration. Checks success, what is stored for the admin, and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiRouter } from '../api/http/router.ts';
import { requireAuth } from '../api/http/auth.ts';
import { errorHandler, unrecognizedEndpoint } from '../api/http/errors.ts';
import * as reportingApi from '../api/client/reporting.ts';
import { signingKeyFromSeed } from '../core/crypto/ed25519.ts';
import { unknownToken } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { Bus } from '../services/bus.ts';
import { RoomCreator } from '../services/rooms/create.ts';
import type { RoomsDeps } from '../services/rooms/deps.ts';
import { MembershipService } from '../services/rooms/membership.ts';
import { ReportsService } from '../services/rooms/reports.ts';
import { EventSender } from '../services/rooms/send-event.ts';
import { Notifier } from '../services/sync/notifier.ts';
import { createSqlJsReports } from '../storage/sqljs/reports.ts';
import { SqlJsRoomsStore } from '../storage/sqljs/rooms.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';
const CAROL = '@carol:localhost';

async function startFixture() {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-reports-'));
  const db = await openSqlJsDatabase({ dataDir });
  const store = new SqlJsRoomsStore(db);
  const deps: RoomsDeps = {
    store,
    serverName: 'localhost',
    signingKey: signingKeyFromSeed(new Uint8Array(32).fill(9), 'test'),
    bus: new Bus(),
    notifier: new Notifier(0),
    defaultRoomVersion: () => '11',
    getProfile: () => ({}),
  };
  const sender = new EventSender(deps);
  const creator = new RoomCreator(deps, sender);
  const membership = new MembershipService(deps, sender);
  const users = new Set([ALICE, BOB, CAROL]);
  let clock = 1_700_000_000_000;
  const reports = new ReportsService({
    reports: createSqlJsReports(db),
    rooms: store,
    serverName: 'localhost',
    userExists: (u) => users.has(u),
    now: () => clock++,
  });

  const app = express();
  app.set('query parser', 'simple');
  const routes = new ApiRouter(1024 * 1024);
  const auth = requireAuth({
    resolve(token) {
      if (!token.startsWith('tok-')) throw unknownToken('Unknown token');
      return { userId: token.slice(4), deviceId: 'DEVICE', isAdmin: false, accessTokenId: 1 };
    },
  });
  reportingApi.register(routes, { auth, reports });
  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(createLogger('silent')));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    db,
    reports,
    membership,
    createRoom: async (userId: string, req: Parameters<RoomCreator['createRoom']>[1] = {}) => (await creator.createRoom(userId, req)).roomId,
    send: async (roomId: string, userId: string, body: string) =>
      (await sender.send({ roomId, sender: userId, type: 'm.room.message', content: { msgtype: 'm.text', body } })).eventId,
    state: async (roomId: string, userId: string, type: string, content: Record<string, never> | Record<string, string>) =>
      (await sender.send({ roomId, sender: userId, type, stateKey: '', content })).eventId,
    async post(path: string, userId: string | null, body?: unknown, rawBody?: string) {
      const headers: Record<string, string> = {};
      if (userId) headers.Authorization = `Bearer tok-${userId}`;
      if (body !== undefined || rawBody !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(url + '/_matrix/client/v3' + path, { method: 'POST', headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const enc = encodeURIComponent;

test('content reports', async (t) => {
  const fx = await startFixture();
  t.after(() => fx.close());
  const room = await fx.createRoom(ALICE, { preset: 'public_chat' });
  await fx.membership.join(BOB, room);
  const msg = await fx.send(room, ALICE, 'something rude');

  await t.test('event report: stored with reason, score and the sender as target', async () => {
    const res = await fx.post(`/rooms/${enc(room)}/report/${enc(msg)}`, BOB, { reason: 'rude', score: -50 });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, {});
    const { reports, total } = fx.reports.list({ from: 0, limit: 10, dir: 'b' });
    assert.equal(total, 1);
    const r = reports[0]!;
    assert.equal(r.kind, 'event');
    assert.equal(r.roomId, room);
    assert.equal(r.eventId, msg);
    assert.equal(r.userId, BOB);
    assert.equal(r.targetUserId, ALICE);
    assert.equal(r.reason, 'rude');
    assert.equal(r.score, -50);
    assert.equal(typeof r.receivedTs, 'number');
    assert.deepEqual(fx.reports.get(r.id), r);
  });

  await t.test('event report: the reason is optional', async () => {
    const res = await fx.post(`/rooms/${enc(room)}/report/${enc(msg)}`, BOB, {});
    assert.equal(res.status, 200);
    const newest = fx.reports.list({ from: 0, limit: 1, dir: 'b' }).reports[0]!;
    assert.equal(newest.reason, null);
    assert.equal(newest.score, null);
  });

  await t.test('event report: 404 for unknown, foreign-room, unjoined or invisible events', async () => {
    const unknown = await fx.post(`/rooms/${enc(room)}/report/${enc('$nope')}`, BOB, { reason: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');

    const other = await fx.createRoom(BOB);
    const otherMsg = await fx.send(other, BOB, 'elsewhere');
    const wrongRoom = await fx.post(`/rooms/${enc(room)}/report/${enc(otherMsg)}`, BOB, { reason: 'x' });
    assert.equal(wrongRoom.status, 404);

    const notJoined = await fx.post(`/rooms/${enc(room)}/report/${enc(msg)}`, CAROL, { reason: 'x' });
    assert.equal(notJoined.status, 404);
    assert.equal(notJoined.json.errcode, 'M_NOT_FOUND');

    const priv = await fx.createRoom(ALICE, { preset: 'public_chat' });
    await fx.state(priv, ALICE, 'm.room.history_visibility', { history_visibility: 'joined' });
    const early = await fx.send(priv, ALICE, 'before carol');
    await fx.membership.join(CAROL, priv);
    const invisible = await fx.post(`/rooms/${enc(priv)}/report/${enc(early)}`, CAROL, { reason: 'x' });
    assert.equal(invisible.status, 404);
    const late = await fx.send(priv, ALICE, 'after carol');
    assert.equal((await fx.post(`/rooms/${enc(priv)}/report/${enc(late)}`, CAROL, { reason: 'x' })).status, 200);
  });

  await t.test('event report: bad bodies', async () => {
    const path = `/rooms/${enc(room)}/report/${enc(msg)}`;
    const notJson = await fx.post(path, BOB, undefined, '{oops');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.errcode, 'M_NOT_JSON');
    const array = await fx.post(path, BOB, ['reason']);
    assert.equal(array.status, 400);
    assert.equal(array.json.errcode, 'M_BAD_JSON');
    const badReason = await fx.post(path, BOB, { reason: 42 });
    assert.equal(badReason.status, 400);
    assert.equal(badReason.json.errcode, 'M_BAD_JSON');
    const badScore = await fx.post(path, BOB, { reason: 'x', score: 5 });
    assert.equal(badScore.status, 400);
    const unauth = await fx.post(path, null, { reason: 'x' });
    assert.equal(unauth.status, 401);
    assert.equal(unauth.json.errcode, 'M_MISSING_TOKEN');
  });

  await t.test('room report: no membership needed; unknown room 404; reason required but may be blank', async () => {
    const ok = await fx.post(`/rooms/${enc(room)}/report`, CAROL, { reason: 'spam room' });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const r = fx.reports.list({ from: 0, limit: 1, dir: 'b', kind: 'room' }).reports[0]!;
    assert.deepEqual([r.kind, r.roomId, r.eventId, r.userId, r.reason], ['room', room, null, CAROL, 'spam room']);
    assert.equal((await fx.post(`/rooms/${enc(room)}/report`, CAROL, { reason: '' })).status, 200);
    const unknown = await fx.post(`/rooms/${enc('!unknown:localhost')}/report`, CAROL, { reason: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    const missing = await fx.post(`/rooms/${enc(room)}/report`, CAROL, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
  });

  await t.test('user report: local users must exist; remote users are accepted; bad ids rejected', async () => {
    const ok = await fx.post(`/users/${enc(ALICE)}/report`, CAROL, { reason: 'harassment' });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const r = fx.reports.list({ from: 0, limit: 1, dir: 'b', kind: 'user' }).reports[0]!;
    assert.deepEqual([r.kind, r.targetUserId, r.userId, r.roomId], ['user', ALICE, CAROL, null]);
    const unknown = await fx.post(`/users/${enc('@ghost:localhost')}/report`, CAROL, { reason: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    assert.equal((await fx.post(`/users/${enc('@someone:elsewhere.example')}/report`, CAROL, { reason: 'x' })).status, 200);
    const bad = await fx.post(`/users/${enc('not-a-user')}/report`, CAROL, { reason: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
    const missing = await fx.post(`/users/${enc(ALICE)}/report`, CAROL, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
  });

  await t.test('the admin list pages, filters and deletes', async () => {
    const all = fx.reports.list({ from: 0, limit: 100, dir: 'f' });
    assert.ok(all.total >= 6);
    const ids = all.reports.map((r) => r.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    const page = fx.reports.list({ from: 1, limit: 2, dir: 'f' });
    assert.deepEqual(
      page.reports.map((r) => r.id),
      ids.slice(1, 3),
    );
    assert.ok(fx.reports.list({ from: 0, limit: 100, dir: 'b', userId: CAROL }).reports.every((r) => r.userId === CAROL));
    assert.ok(fx.reports.list({ from: 0, limit: 100, dir: 'b', roomId: room }).reports.every((r) => r.roomId === room));
    assert.equal(await fx.reports.remove(ids[0]!), true);
    assert.equal(await fx.reports.remove(ids[0]!), false);
    assert.equal(fx.reports.get(ids[0]!), undefined);
  });
});
