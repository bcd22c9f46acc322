/**
 * Push rules, unread counts, /notifications and HTTP pushers over real HTTP and real storage
 * (spec client-server "Push Notifications"; pushrules.yaml, pusher.yaml, notifications.yaml;
 * push-gateway push_notifier.yaml). The rooms side is a small in-memory stand-in until the lead
 * wires the real services; a local HTTP server on 127.0.0.1 plays the push gateway.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireAuth, type TokenResolver } from '../api/http/auth.ts';
import { apiServerClasses, createApp } from '../api/http/app.ts';
import { unknownToken } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { register } from '../api/client/push.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { createSqlJsPushStore, insertPushActions } from '../storage/sqljs/push.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushRulesService } from '../services/push/rules.ts';
import { PushCounts, pushRoomViewFrom, readReceiptPositionFrom } from '../services/push/counts.ts';
import { stateMapKey } from '../core/events/types.ts';
import { Pushers } from '../services/push/pushers.ts';
import { readPowerLevels } from '../core/auth/power-levels.ts';
import { getRoomVersion, type RoomVersion } from '../core/room-versions.ts';
import type { StoredPdu } from '../core/events/types.ts';
import type { Database } from '../storage/storage.ts';
import { gateway } from './push-gateway.ts';

const ALICE = '@alice:test';
const BOB = '@bob:test';
const ROOM = '!room:test';
const V10 = getRoomVersion('10') as RoomVersion;

interface World {
  url: string;
  db: Database;
  rules: PushRulesService;
  counts: PushCounts;
  pushers: Pushers;
  members: Map<string, string[]>;
  receipts: Map<string, number>;
  notified: [number, string[]][];
  send(pdu: Partial<StoredPdu> & { content: StoredPdu['content'] }): Promise<number>;
  req(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; json: any }>;
}

let nextPos = 0;

async function world(t: { after(fn: () => unknown): void }, pusherRetry = { initialMs: 20, attempts: 4 }): Promise<World> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-push-'));
  const db = await openSqlJsDatabase({ dataDir });
  const store = createSqlJsPushStore(db);
  const notified: [number, string[]][] = [];
  const notify = (p: number, users: Iterable<string>): void => void notified.push([p, [...users]]);
  const members = new Map<string, string[]>([[ROOM, [ALICE, BOB]]]);
  const receipts = new Map<string, number>();
  const events = new Map<string, StoredPdu>();
  const rooms = {
    joinedMembers: (roomId: string) => members.get(roomId) ?? [],
    isJoined: (roomId: string, userId: string) => (members.get(roomId) ?? []).includes(userId),
    displayName: (_roomId: string, userId: string) => (userId === ALICE ? 'Alice' : userId === BOB ? 'Bob' : null),
    powerLevels: () => readPowerLevels(V10, undefined, { content: { users: { [BOB]: 50 } } } as never),
    roomName: () => 'Test room',
    eventContent: (id: string) => events.get(id)?.content,
  };
  const rules = new PushRulesService({ store, notify });
  let pushersRef: Pushers | undefined;
  const counts = new PushCounts({
    store,
    rules,
    rooms,
    isLocalUser: (u) => u.endsWith(':test'),
    readReceiptPosition: (u, r, thread) => receipts.get(`${u}|${r}|${thread ?? ''}`) ?? null,
    onNotified: (u, pdu, v) => pushersRef?.onNotified(u, pdu, v),
    eventForUser: (_u, id) => {
      const e = events.get(id);
      return e ? { event_id: e.event_id, type: e.type, sender: e.sender, content: e.content, origin_server_ts: e.origin_server_ts } : undefined;
    },
    now: () => 1_700_000_000_000,
    onError: (e) => {
      throw e;
    },
  });
  const pushers = new Pushers({ store, totalUnread: (u) => counts.totalUnread(u), rooms, now: () => 1_700_000_000_000, retry: pusherRetry });
  pushersRef = pushers;

  const tokens: TokenResolver = {
    resolve(token) {
      const m = /^tok-(\w+)$/.exec(token);
      if (!m) throw unknownToken('Unknown token');
      return { userId: `@${m[1]}:test`, deviceId: 'DEV', isAdmin: false, accessTokenId: 1 };
    },
  };
  const log = createLogger('silent');
  const { app } = createApp({ log, maxJsonBodyBytes: 65536, mount: (router) => register(router, { auth: requireAuth(tokens), rules, pushers, notifications: counts }) });
  const server = await listen(createServer(apiServerClasses, app));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    pushers.stop();
    await new Promise((r) => {
      server.close(r);
      server.closeAllConnections();
    });
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    url,
    db,
    rules,
    counts,
    pushers,
    members,
    receipts,
    notified,
    async send(partial) {
      const pos = ++nextPos;
      const pdu = {
        event_id: `$e${pos}`,
        room_id: ROOM,
        sender: BOB,
        type: 'm.room.message',
        origin_server_ts: 1_700_000_000_000 + pos,
        prev_events: [],
        auth_events: [],
        depth: pos,
        hashes: { sha256: '' },
        signatures: {},
        ...partial,
      } as StoredPdu;
      events.set(pdu.event_id, pdu);
      // As the event sender does: evaluate before storing, store in the event's write (as
      // sqljs/rooms.ts does; the events row names the event at its position), then announce.
      const push = counts.prepare(pdu);
      await db.write((w) => {
        w.run(
          'INSERT INTO events (event_id, room_id, stream_pos, depth, type, sender, origin_server_ts, state_group, json) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)',
          [pdu.event_id, pdu.room_id ?? ROOM, pos, pos, pdu.type, pdu.sender, pdu.origin_server_ts, JSON.stringify(pdu)],
        );
        if (push) insertPushActions(w, push.actions, pos);
      });
      push?.durable();
      return pos;
    },
    async req(method, path, opts = {}) {
      const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? 'tok-alice'}` };
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
  };
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const P = '/_matrix/client/v3';

describe('push rules API', () => {
  test('GET /pushrules/ and /pushrules/global/ give the default ruleset with the user id filled in', async (t) => {
    const w = await world(t);
    const all = await w.req('GET', `${P}/pushrules/`);
    assert.equal(all.status, 200);
    const g = all.json.global;
    assert.deepEqual(Object.keys(g).sort(), ['content', 'override', 'room', 'sender', 'underride']);
    assert.equal(g.override[0].rule_id, '.m.rule.master');
    const invite = g.override.find((r: any) => r.rule_id === '.m.rule.invite_for_me');
    assert.equal(invite.conditions[2].pattern, ALICE);
    const global = await w.req('GET', `${P}/pushrules/global/`);
    assert.deepEqual(global.json, g);
    assert.equal((await w.req('GET', '/_matrix/client/r0/pushrules/')).status, 200);
    assert.deepEqual((await w.req('GET', `${P}/pushrules`)).json, all.json);
    assert.deepEqual((await w.req('GET', `${P}/pushrules/global`)).json, g);
    assert.equal((await w.req('POST', `${P}/pushrules/`)).json.errcode, 'M_UNRECOGNIZED');
    assert.equal((await w.req('GET', `${P}/pushrules/`, { token: 'nope' })).status, 401);
  });

  test('PUT/GET/DELETE a content rule', async (t) => {
    const w = await world(t);
    const put = await w.req('PUT', `${P}/pushrules/global/content/nocake`, { body: { pattern: 'cake*lie', actions: ['notify'] } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.json, {});
    const got = await w.req('GET', `${P}/pushrules/global/content/nocake`);
    assert.deepEqual(got.json, { rule_id: 'nocake', default: false, enabled: true, pattern: 'cake*lie', actions: ['notify'] });
    assert.equal((await w.req('GET', `${P}/pushrules/global/override/nocake`)).status, 404);
    assert.equal((await w.req('DELETE', `${P}/pushrules/global/content/nocake`)).status, 200);
    const gone = await w.req('GET', `${P}/pushrules/global/content/nocake`);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.errcode, 'M_NOT_FOUND');
  });

  test('before/after ordering within a kind', async (t) => {
    const w = await world(t);
    const put = (id: string, q = ''): Promise<{ status: number; json: any }> =>
      w.req('PUT', `${P}/pushrules/global/override/${id}${q}`, { body: { conditions: [{ kind: 'event_match', key: 'type', pattern: id }], actions: [] } });
    const order = async (): Promise<string[]> =>
      (await w.req('GET', `${P}/pushrules/global/`)).json.override.map((r: any) => r.rule_id).filter((id: string) => !id.startsWith('.'));
    await put('a');
    await put('b');
    assert.deepEqual(await order(), ['b', 'a'], 'a new rule is the most important');
    await put('c', '?before=a');
    assert.deepEqual(await order(), ['b', 'c', 'a']);
    await put('d', '?after=a');
    assert.deepEqual(await order(), ['b', 'c', 'a', 'd']);
    await put('b', '?after=d');
    assert.deepEqual(await order(), ['c', 'a', 'd', 'b']);
    await put('a');
    assert.deepEqual(await order(), ['c', 'a', 'd', 'b'], 'an update keeps its place');
    const all = (await w.req('GET', `${P}/pushrules/global/`)).json.override.map((r: any) => r.rule_id);
    assert.equal(all[0], '.m.rule.master');
    assert.equal(all[5], '.m.rule.suppress_notices');

    const missing = await put('e', '?before=nope');
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_UNKNOWN');
    const rel = await put('e', '?after=.m.rule.suppress_notices');
    assert.equal(rel.status, 400);
    assert.equal(rel.json.errcode, 'M_UNKNOWN');
    assert.deepEqual(await order(), ['c', 'a', 'd', 'b'], 'failed PUTs change nothing');
  });

  test('bad input gets the spec error, never a crash', async (t) => {
    const w = await world(t);
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/pushrules/global/bogus/x', { actions: [] }, 400, 'M_INVALID_PARAM'],
      ['GET', '/pushrules/global/bogus/x', undefined, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/override/.m.rule.mine', { actions: [] }, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/override/.m.rule.message', { actions: [] }, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/override/a%5Cb', { actions: [] }, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/override/a%2Fb', { actions: [] }, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/content/x', { actions: ['notify'] }, 400, 'M_MISSING_PARAM'],
      ['PUT', '/pushrules/global/override/x', {}, 400, 'M_MISSING_PARAM'],
      ['PUT', '/pushrules/global/override/x', { actions: 'notify' }, 400, 'M_BAD_JSON'],
      ['PUT', '/pushrules/global/override/x', { actions: ['wiggle'] }, 400, 'M_BAD_JSON'],
      ['PUT', '/pushrules/global/override/x', { actions: [], conditions: [{ key: 'type' }] }, 400, 'M_MISSING_PARAM'],
      ['GET', '/pushrules/global/override/nope', undefined, 404, 'M_NOT_FOUND'],
      ['DELETE', '/pushrules/global/override/nope', undefined, 404, 'M_NOT_FOUND'],
      ['DELETE', '/pushrules/global/override/.m.rule.nope', undefined, 404, 'M_NOT_FOUND'],
      ['DELETE', '/pushrules/global/override/.m.rule.master', undefined, 400, 'M_INVALID_PARAM'],
      ['PUT', '/pushrules/global/override/nope/enabled', { enabled: true }, 404, 'M_NOT_FOUND'],
      ['PUT', '/pushrules/global/override/.m.rule.message/enabled', { enabled: true }, 404, 'M_NOT_FOUND'],
      ['PUT', '/pushrules/global/underride/.m.rule.message/enabled', { enabled: 'no' }, 400, 'M_BAD_JSON'],
      ['PUT', '/pushrules/global/underride/.m.rule.message/actions', { actions: [{ sound: 'x' }] }, 400, 'M_BAD_JSON'],
      ['GET', '/pushrules/global/room/nope/actions', undefined, 404, 'M_NOT_FOUND'],
    ];
    for (const [method, path, body, status, errcode] of cases) {
      const r = await w.req(method, P + path, { body });
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.errcode, errcode, `${method} ${path}`);
      assert.equal(typeof r.json.error, 'string');
    }
    const notJson = await fetch(`${w.url}${P}/pushrules/global/override/x`, {
      method: 'PUT',
      headers: { Authorization: 'Bearer tok-alice', 'Content-Type': 'application/json' },
      body: '{nope',
    });
    assert.equal(notJson.status, 400);
  });

  test('enabled and actions of default and user rules', async (t) => {
    const w = await world(t);
    const base = `${P}/pushrules/global/underride/.m.rule.message`;
    assert.deepEqual((await w.req('GET', `${base}/enabled`)).json, { enabled: true });
    assert.deepEqual((await w.req('GET', `${base}/actions`)).json, { actions: ['notify'] });
    assert.equal((await w.req('PUT', `${base}/enabled`, { body: { enabled: false } })).status, 200);
    assert.deepEqual((await w.req('GET', `${base}/enabled`)).json, { enabled: false });
    const actions = ['notify', { set_tweak: 'sound', value: 'bing' }];
    assert.equal((await w.req('PUT', `${base}/actions`, { body: { actions: ['dont_notify', ...actions] } })).status, 200);
    const rule = (await w.req('GET', base)).json;
    assert.deepEqual(rule, { ...rule, rule_id: '.m.rule.message', default: true, enabled: false, actions });

    await w.req('PUT', `${P}/pushrules/global/sender/${encodeURIComponent(BOB)}`, { body: { actions: [] } });
    const sb = `${P}/pushrules/global/sender/${encodeURIComponent(BOB)}`;
    assert.equal((await w.req('PUT', `${sb}/enabled`, { body: { enabled: false } })).status, 200);
    assert.deepEqual((await w.req('GET', sb)).json, { rule_id: BOB, default: false, enabled: false, actions: [] });
    await w.req('PUT', sb, { body: { actions: ['notify'] } });
    assert.equal((await w.req('GET', sb)).json.enabled, false, 'updating a rule keeps its enabled flag');

    // Another user is unaffected.
    assert.deepEqual((await w.req('GET', `${base}/enabled`, { token: 'tok-bob' })).json, { enabled: true });
  });

  test('changes write m.push_rules account data, wake sync, and survive a reopen of the cache', async (t) => {
    const w = await world(t);
    await w.req('PUT', `${P}/pushrules/global/room/${encodeURIComponent(ROOM)}`, { body: { actions: [] } });
    const row = w.db.read((r) => r.get("SELECT content, stream_pos FROM account_data WHERE user_id = ? AND room_id = '' AND type = 'm.push_rules'", [ALICE]));
    assert.ok(row);
    const content = JSON.parse(String(row.content));
    assert.equal(content.global.room[0].rule_id, ROOM);
    assert.deepEqual(w.notified.at(-1), [Number(row.stream_pos), [ALICE]]);
    w.rules.invalidate(ALICE);
    assert.equal(w.rules.ruleset(ALICE).room[0]!.rule_id, ROOM);
  });
});

describe('unread counts and /notifications', () => {
  test('a count bounded below an earlier, later-bounded count covers only its own range', async (t) => {
    const w = await world(t);
    w.members.set(ROOM, [ALICE, BOB]);
    const first = await w.send({ content: { msgtype: 'm.text', body: 'one' } });
    await w.send({ content: { msgtype: 'm.text', body: 'two' } });
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 2);
    // Another device's sync whose window ends at the first message.
    assert.equal(w.counts.counts(ALICE, ROOM, first).notification_count, 1);
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 2);
  });

  test('a message notifies every joined local member but the sender; mentions highlight', async (t) => {
    const w = await world(t);
    w.members.set(ROOM, [ALICE, BOB, '@carol:test', '@remote:elsewhere']);
    const p1 = await w.send({ content: { msgtype: 'm.text', body: 'hello' } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(w.counts.counts('@carol:test', ROOM), { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(w.counts.counts(BOB, ROOM), { notification_count: 0, highlight_count: 0 });
    await w.send({ content: { msgtype: 'm.text', body: 'hey alice', 'm.mentions': { user_ids: [ALICE] } } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), { notification_count: 2, highlight_count: 1 });
    await w.send({ content: { msgtype: 'm.notice', body: 'bot' } });
    await w.send({ type: 'm.reaction', content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: 'k' } } });
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 2);
    // @room from Bob (PL 50) highlights.
    await w.send({ content: { msgtype: 'm.text', body: '@room', 'm.mentions': { room: true } } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), { notification_count: 3, highlight_count: 2 });
  });

  test('read receipts clear counts; threaded receipts clear their thread', async (t) => {
    const w = await world(t);
    await w.send({ content: { msgtype: 'm.text', body: 'one' } });
    const p2 = await w.send({ content: { msgtype: 'm.text', body: 'two' } });
    const root = `$e${p2}`;
    await w.send({ content: { msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: root } } });
    const p4 = await w.send({ content: { msgtype: 'm.text', body: 'in thread 2', 'm.relates_to': { rel_type: 'm.thread', event_id: root } } });
    // An edit of a threaded message would be suppressed; a reply-ish relation to a thread event joins the thread.
    await w.send({ type: 'm.room.message', content: { msgtype: 'm.text', body: 'ref', 'm.relates_to': { rel_type: 'org.example.ref', event_id: `$e${p4}` } } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), {
      notification_count: 5,
      highlight_count: 0,
      threads: { [root]: { notification_count: 3, highlight_count: 0 } },
    });
    w.receipts.set(`${ALICE}|${ROOM}|main`, p2);
    assert.deepEqual(w.counts.counts(ALICE, ROOM), {
      notification_count: 3,
      highlight_count: 0,
      threads: { [root]: { notification_count: 3, highlight_count: 0 } },
    });
    w.receipts.set(`${ALICE}|${ROOM}|${root}`, p4);
    assert.deepEqual(w.counts.counts(ALICE, ROOM), {
      notification_count: 1,
      highlight_count: 0,
      threads: { [root]: { notification_count: 1, highlight_count: 0 } },
    });
    w.receipts.set(`${ALICE}|${ROOM}|`, p4 + 1);
    assert.deepEqual(w.counts.counts(ALICE, ROOM), { notification_count: 0, highlight_count: 0 });
  });

  test('counts kept between syncs grow with new rows and start over when the receipt moves', async (t) => {
    const w = await world(t);
    await w.send({ content: { msgtype: 'm.text', body: 'one' } });
    const p2 = await w.send({ content: { msgtype: 'm.text', body: 'two' } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), { notification_count: 2, highlight_count: 0 });
    await w.send({ content: { msgtype: 'm.text', body: 'hey alice', 'm.mentions': { user_ids: [ALICE] } } });
    const root = `$e${p2}`;
    await w.send({ content: { msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: root } } });
    assert.deepEqual(w.counts.counts(ALICE, ROOM), {
      notification_count: 4,
      highlight_count: 1,
      threads: { [root]: { notification_count: 1, highlight_count: 0 } },
    });
    assert.deepEqual(w.counts.counts(ALICE, ROOM).notification_count, 4, 'asking again counts nothing twice');
    w.receipts.set(`${ALICE}|${ROOM}|`, p2);
    assert.deepEqual(w.counts.counts(ALICE, ROOM), {
      notification_count: 2,
      highlight_count: 1,
      threads: { [root]: { notification_count: 1, highlight_count: 0 } },
    });
    await w.send({ content: { msgtype: 'm.text', body: 'three' } });
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 3);
  });

  test('an invite notifies the invitee; a 1:1 room uses room_one_to_one', async (t) => {
    const w = await world(t);
    w.members.set(ROOM, [BOB]);
    await w.send({ type: 'm.room.member', state_key: '@dave:test', content: { membership: 'invite' } });
    assert.equal(w.counts.counts('@dave:test', ROOM).notification_count, 1);
    w.members.set(ROOM, [ALICE, BOB]);
    await w.send({ content: { msgtype: 'm.text', body: 'dm' } });
    const n = await w.req('GET', `${P}/notifications`);
    assert.deepEqual(n.json.notifications[0].actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
  });

  test('user rules take effect on the next event (cache invalidated on change)', async (t) => {
    const w = await world(t);
    await w.send({ content: { msgtype: 'm.text', body: 'a' } });
    await w.req('PUT', `${P}/pushrules/global/room/${encodeURIComponent(ROOM)}`, { body: { actions: [] } });
    await w.send({ content: { msgtype: 'm.text', body: 'b' } });
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 1);
    await w.req('PUT', `${P}/pushrules/global/override/.m.rule.master/enabled`, { body: { enabled: true } });
    await w.req('DELETE', `${P}/pushrules/global/room/${encodeURIComponent(ROOM)}`);
    await w.send({ content: { msgtype: 'm.text', body: 'c' } });
    assert.equal(w.counts.counts(ALICE, ROOM).notification_count, 1);
  });

  test('GET /notifications pages newest first, marks read, filters highlights', async (t) => {
    const w = await world(t);
    const positions: number[] = [];
    for (let i = 0; i < 5; i++) {
      const mention: Record<string, never> = i % 2 === 0 ? ({ 'm.mentions': { user_ids: [ALICE] } } as never) : {};
      positions.push(await w.send({ content: { msgtype: 'm.text', body: `m${i}`, ...mention } }));
    }
    w.receipts.set(`${ALICE}|${ROOM}|`, positions[1]!);
    const first = await w.req('GET', `${P}/notifications?limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.notifications.map((n: any) => n.event.content.body), ['m4', 'm3']);
    assert.equal(first.json.notifications[0].room_id, ROOM);
    assert.equal(first.json.notifications[0].read, false);
    assert.equal(typeof first.json.notifications[0].ts, 'number');
    const second = await w.req('GET', `${P}/notifications?limit=2&from=${first.json.next_token}`);
    assert.deepEqual(second.json.notifications.map((n: any) => [n.event.content.body, n.read]), [['m2', false], ['m1', true]]);
    const third = await w.req('GET', `${P}/notifications?limit=2&from=${second.json.next_token}`);
    assert.deepEqual(third.json.notifications.map((n: any) => n.event.content.body), ['m0']);
    assert.equal(third.json.next_token, undefined);
    const hl = await w.req('GET', `${P}/notifications?only=highlight`);
    assert.deepEqual(hl.json.notifications.map((n: any) => n.event.content.body), ['m4', 'm2', 'm0']);
    assert.equal((await w.req('GET', `${P}/notifications?limit=ten`)).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await w.req('GET', `${P}/notifications?from=abc`)).json.errcode, 'M_INVALID_PARAM');
  });
});

const pusherBody = (url: string, extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  app_id: 'org.example.app',
  pushkey: 'PUSHKEY',
  app_display_name: 'Example',
  device_display_name: "Alice's phone",
  lang: 'en',
  data: { url, custom: 1 },
  ...extra,
});

describe('pushers', () => {
  test('set, list, validation and kind null', async (t) => {
    const w = await world(t);
    const url = 'https://push.example.org/_matrix/push/v1/notify';
    assert.equal((await w.req('POST', `${P}/pushers/set`, { body: pusherBody(url, { profile_tag: 'tag' }) })).status, 200);
    const list = await w.req('GET', `${P}/pushers`);
    assert.deepEqual(list.json, {
      pushers: [
        {
          pushkey: 'PUSHKEY',
          kind: 'http',
          app_id: 'org.example.app',
          app_display_name: 'Example',
          device_display_name: "Alice's phone",
          profile_tag: 'tag',
          lang: 'en',
          data: { url, custom: 1 },
        },
      ],
    });
    const bad: [Record<string, unknown>, string][] = [
      [pusherBody('https://push.example.org/notify'), 'M_INVALID_PARAM'],
      [pusherBody('not a url'), 'M_INVALID_PARAM'],
      [pusherBody(url, { kind: 'carrier-pigeon' }), 'M_INVALID_PARAM'],
      [pusherBody(url, { lang: undefined, data: undefined }), 'M_MISSING_PARAM'],
      [{ ...pusherBody(url), data: {} }, 'M_MISSING_PARAM'],
      [{ kind: 'http', app_id: 'x' }, 'M_MISSING_PARAM'],
      [pusherBody(url, { app_id: 'x'.repeat(65) }), 'M_BAD_JSON'],
      [pusherBody(url, { pushkey: 'x'.repeat(513) }), 'M_BAD_JSON'],
    ];
    for (const [body, errcode] of bad) {
      const r = await w.req('POST', `${P}/pushers/set`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.errcode, errcode, JSON.stringify(body));
    }
    // append false takes the pushkey from another user; append true shares it.
    await w.req('POST', `${P}/pushers/set`, { token: 'tok-bob', body: pusherBody(url) });
    assert.equal((await w.req('GET', `${P}/pushers`)).json.pushers.length, 0);
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(url, { append: true }) });
    assert.equal((await w.req('GET', `${P}/pushers`)).json.pushers.length, 1);
    assert.equal((await w.req('GET', `${P}/pushers`, { token: 'tok-bob' })).json.pushers.length, 1);
    assert.equal((await w.req('POST', `${P}/pushers/set`, { body: { kind: null, app_id: 'org.example.app', pushkey: 'PUSHKEY' } })).status, 200);
    assert.deepEqual((await w.req('GET', `${P}/pushers`)).json, { pushers: [] });
  });

  test('pushers go away with their device and with the account', async (t) => {
    const w = await world(t);
    const url = 'https://push.example.org/_matrix/push/v1/notify';
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(url) });
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(url, { pushkey: 'OTHER' }) });
    await w.pushers.onDeviceDeleted(ALICE, 'ELSEWHERE');
    assert.equal((await w.req('GET', `${P}/pushers`)).json.pushers.length, 2);
    await w.pushers.onDeviceDeleted(ALICE, 'DEV');
    assert.equal((await w.req('GET', `${P}/pushers`)).json.pushers.length, 0);
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(url) });
    await w.pushers.onUserDeactivated(ALICE);
    assert.equal((await w.req('GET', `${P}/pushers`)).json.pushers.length, 0);
  });

  test('a message reaches the push gateway with the spec notification body', async (t) => {
    const w = await world(t);
    w.members.set(ROOM, [ALICE, BOB, '@carol:test']);
    const gw = await gateway(t, () => ({ status: 200, body: { rejected: [] } }));
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(gw.url) });
    const pos = await w.send({ content: { msgtype: 'm.text', body: 'hi alice', 'm.mentions': { user_ids: [ALICE] } } });
    await gw.waitFor(1);
    assert.equal(gw.received[0].path, '/_matrix/push/v1/notify');
    assert.deepEqual(gw.received[0].body, {
      notification: {
        event_id: `$e${pos}`,
        room_id: ROOM,
        type: 'm.room.message',
        sender: BOB,
        sender_display_name: 'Bob',
        room_name: 'Test room',
        prio: 'high',
        content: { msgtype: 'm.text', body: 'hi alice', 'm.mentions': { user_ids: [ALICE] } },
        counts: { unread: 1 },
        devices: [
          {
            app_id: 'org.example.app',
            pushkey: 'PUSHKEY',
            pushkey_ts: 1_700_000_000,
            data: { custom: 1 },
            tweaks: { sound: 'default', highlight: true },
          },
        ],
      },
    });
    // Bob sent it: his pusher (none here) would not be called; Alice's own messages never push to her.
    await w.send({ sender: ALICE, content: { msgtype: 'm.text', body: 'mine' } });
    await w.send({ content: { msgtype: 'm.text', body: 'second' } });
    await gw.waitFor(2);
    assert.equal(gw.received[1].body.notification.content.body, 'second');
    assert.equal(gw.received[1].body.notification.counts.unread, 2);
    assert.equal(gw.received[1].body.notification.prio, 'low');
  });

  test('event_id_only format sends no event details', async (t) => {
    const w = await world(t);
    const gw = await gateway(t, () => ({ status: 200, body: { rejected: [] } }));
    await w.req('POST', `${P}/pushers/set`, { body: { ...pusherBody(gw.url), data: { url: gw.url, format: 'event_id_only' } } });
    const pos = await w.send({ content: { msgtype: 'm.text', body: 'secret' } });
    await gw.waitFor(1);
    const n = gw.received[0].body.notification;
    assert.equal(n.event_id, `$e${pos}`);
    assert.equal(n.room_id, ROOM);
    assert.equal(n.content, undefined);
    assert.equal(n.sender, undefined);
    assert.deepEqual(n.devices[0].data, { format: 'event_id_only' });
  });

  test('gateway errors are retried with backoff; rejected pushkeys remove the pusher', async (t) => {
    const w = await world(t);
    const gw = await gateway(t, (i) => (i < 2 ? { status: 503, body: {} } : { status: 200, body: { rejected: ['PUSHKEY'] } }));
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(gw.url) });
    const pos = await w.send({ content: { msgtype: 'm.text', body: 'retry me' } });
    await gw.waitFor(3);
    assert.deepEqual(gw.received.map((r) => r.body.notification.event_id), [`$e${pos}`, `$e${pos}`, `$e${pos}`]);
    const deadline = Date.now() + 2000;
    while ((await w.req('GET', `${P}/pushers`)).json.pushers.length > 0) {
      assert.ok(Date.now() < deadline, 'pusher was not removed');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  test('retries are bounded: an unreachable gateway gives up and later pokes still go out', async (t) => {
    const w = await world(t, { initialMs: 5, attempts: 3 });
    const gw = await gateway(t, (i) => (i < 3 ? { status: 500, body: {} } : { status: 200, body: { rejected: [] } }));
    await w.req('POST', `${P}/pushers/set`, { body: pusherBody(gw.url) });
    const p1 = await w.send({ content: { msgtype: 'm.text', body: 'lost' } });
    const p2 = await w.send({ content: { msgtype: 'm.text', body: 'delivered' } });
    await gw.waitFor(4);
    assert.deepEqual(gw.received.map((r) => r.body.notification.event_id), [`$e${p1}`, `$e${p1}`, `$e${p1}`, `$e${p2}`]);
  });
});

describe('wiring helpers', () => {
  test('readReceiptPositionFrom takes the later of m.read and m.read.private, per thread', () => {
    const pos: Record<string, number> = { $a: 5, $b: 9, $c: 7 };
    const read = readReceiptPositionFrom({
      userReceipts: () => [
        { receiptType: 'm.read', threadId: null, eventId: '$a' },
        { receiptType: 'm.read.private', threadId: null, eventId: '$b' },
        { receiptType: 'm.fully_read', threadId: null, eventId: '$c' },
        { receiptType: 'm.read', threadId: 'main', eventId: '$c' },
      ],
      eventPosition: (id) => pos[id],
    });
    assert.equal(read(ALICE, ROOM), 9);
    assert.equal(read(ALICE, ROOM, 'main'), 7);
    assert.equal(read(ALICE, ROOM, '$root'), null);
  });

  test('pushRoomViewFrom reads names, members and power levels from current state', () => {
    const ev = (type: string, stateKey: string, content: Record<string, unknown>) => ({ type, state_key: stateKey, content, sender: BOB }) as unknown as StoredPdu;
    const state = new Map<string, StoredPdu>([
      [stateMapKey('m.room.name', ''), ev('m.room.name', '', { name: 'Kitchen' })],
      [stateMapKey('m.room.canonical_alias', ''), ev('m.room.canonical_alias', '', { alias: '#k:test' })],
      [stateMapKey('m.room.member', BOB), ev('m.room.member', BOB, { membership: 'join', displayname: 'Bobby' })],
      [stateMapKey('m.room.power_levels', ''), ev('m.room.power_levels', '', { users: { [BOB]: 100 }, notifications: { room: 20 } })],
    ]);
    const view = pushRoomViewFrom((id) => (id === ROOM ? { version: V10, state, joined: new Set([ALICE, BOB]) } : undefined));
    assert.deepEqual(view.joinedMembers(ROOM), [ALICE, BOB]);
    assert.equal(view.displayName(ROOM, BOB), 'Bobby');
    assert.equal(view.displayName(ROOM, ALICE), null);
    assert.equal(view.roomName(ROOM), 'Kitchen');
    assert.equal(view.canonicalAlias(ROOM), '#k:test');
    assert.equal(view.powerLevels(ROOM).notifications.get('room'), 20);
    assert.equal(view.powerLevels(ROOM).users.get(BOB), 100);
    assert.deepEqual(view.joinedMembers('!nope:test'), []);
  });

  test('rules survive closing and reopening storage', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-push-'));
    const db1 = await openSqlJsDatabase({ dataDir });
    const rules1 = new PushRulesService({ store: createSqlJsPushStore(db1), notify: () => {} });
    await rules1.putRule(ALICE, 'content', 'tea', { pattern: 'tea', actions: ['notify'] }, {});
    await rules1.putRule(ALICE, 'content', 'time', { pattern: 'time', actions: [] }, { after: 'tea' });
    await rules1.setEnabled(ALICE, 'override', '.m.rule.suppress_notices', false);
    await db1.close();
    const db2 = await openSqlJsDatabase({ dataDir });
    t.after(async () => {
      await db2.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const rules2 = new PushRulesService({ store: createSqlJsPushStore(db2), notify: () => {} });
    assert.deepEqual(rules2.ruleset(ALICE).content.map((r) => r.rule_id), ['tea', 'time']);
    assert.equal(rules2.getRule(ALICE, 'override', '.m.rule.suppress_notices').enabled, false);
  });
});
