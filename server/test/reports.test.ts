/**
 * Reporting content (client-server report_content.yaml) over real HTTP: event, room and user
 * reports against the real rooms services and a real sql.js database (migration 0009). Rooms
 * are set up through the rooms services directly and tokens are `tok-<user id>`, so this suite
 * does not depend on registration. Checks success, what is stored for the admin, and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as reportingApi from '../api/client/reporting.ts';
import type { RoomCreator } from '../services/rooms/create.ts';
import { ReportsService } from '../services/rooms/reports.ts';
import { createSqlJsReports } from '../storage/sqljs/reports.ts';
import { listenApp, openTempDatabase, testRooms, userIdTokenAuth } from './in-process-app.ts';

const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';
const CAROL = '@carol:localhost';

async function startFixture() {
  const temp = await openTempDatabase('reports');
  const db = temp.db;
  const { store, sender, creator, membership } = testRooms(db, { keySeed: 9 });
  const users = new Set([ALICE, BOB, CAROL]);
  let clock = 1_700_000_000_000;
  const reports = new ReportsService({
    reports: createSqlJsReports(db),
    rooms: store,
    serverName: 'localhost',
    userExists: (u) => users.has(u),
    now: () => clock++,
  });
  const app = await listenApp((routes) => reportingApi.register(routes, { auth: userIdTokenAuth(), reports }));

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
      const res = await fetch(app.url + '/_matrix/client/v3' + path, { method: 'POST', headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await app.close();
      await temp.close();
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
