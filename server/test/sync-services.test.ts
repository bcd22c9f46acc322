/**
 * The sync services over real sql.js storage in a temporary folder, with a small in-memory
 * RoomsReader standing in for the rooms services: initial and incremental /sync, long-polling,
 * typing, receipts, account data and tags, filters and presence. (End-to-end HTTP tests of the
 * same behaviour are in sync.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { createSqlJsSyncData } from '../storage/sqljs/sync-data.ts';
import { allocateStreamPosition, currentStreamPosition } from '../storage/stream.ts';
import type { Database } from '../storage/storage.ts';
import type { SyncDataStore } from '../storage/sync-data.ts';
import { Notifier } from '../services/sync/notifier.ts';
import { Bus } from '../services/bus.ts';
import { createSync, ZERO_UNREAD_COUNTS, type SyncService } from '../services/sync/sync.ts';
import { createFilterService, type FilterService } from '../services/sync/filters.ts';
import { createAccountDataService, type AccountDataService } from '../services/sync/account-data.ts';
import { createReceiptsService, type ReceiptsService } from '../services/sync/receipts.ts';
import { createTypingService, type TypingService } from '../services/sync/typing.ts';
import { createPresenceService, type PresenceService } from '../services/sync/presence.ts';
import type { ClientEvent, EventFilter, MembershipEntry, RoomsReader, Viewer } from '../services/rooms/reader.ts';
import { formatPaginationToken } from '../services/sync/tokens.ts';
import { createProfileService } from '../services/users/profile.ts';
import { createUserDirectory } from '../services/users/user-directory.ts';
import { MatrixError } from '../errors.ts';

/** In-memory rooms: events with stream positions allocated from the real counter. */
class FakeRooms implements RoomsReader {
  events: { roomId: string; pos: number; ev: ClientEvent }[] = [];
  private n = 0;
  constructor(
    private readonly db: Database,
    private readonly notifier: Notifier,
  ) {}

  async send(roomId: string, sender: string, type: string, content: Record<string, unknown>, stateKey?: string): Promise<ClientEvent> {
    const pos = await this.db.write((w) => allocateStreamPosition(w));
    const ev: ClientEvent = { event_id: `$e${++this.n}:test`, type, sender, origin_server_ts: 1000 + pos, content, room_id: roomId };
    if (stateKey !== undefined) ev.state_key = stateKey;
    this.events.push({ roomId, pos, ev });
    this.notifier.notify(pos, new Set([...this.joinedMembers(roomId), ...(type === 'm.room.member' ? [stateKey!] : [])]));
    return ev;
  }

  private matches(f: EventFilter | undefined, e: ClientEvent): boolean {
    if (!f) return true;
    if (f.types && !f.types.includes(e.type)) return false;
    if (f.not_types?.includes(e.type)) return false;
    if (f.senders && !f.senders.includes(e.sender)) return false;
    return true;
  }

  private memberRows(userId: string): { roomId: string; pos: number; ev: ClientEvent }[] {
    return this.events.filter((e) => e.ev.type === 'm.room.member' && e.ev.state_key === userId);
  }

  private entry(e: { roomId: string; pos: number; ev: ClientEvent }): MembershipEntry {
    return { roomId: e.roomId, membership: e.ev.content.membership as MembershipEntry['membership'], eventId: e.ev.event_id, position: e.pos };
  }

  memberships(userId: string, upTo: number): MembershipEntry[] {
    const latest = new Map<string, MembershipEntry>();
    for (const e of this.memberRows(userId)) if (e.pos <= upTo) latest.set(e.roomId, this.entry(e));
    return [...latest.values()];
  }

  membershipChanges(userId: string, since: number, upTo: number): MembershipEntry[] {
    return this.memberRows(userId)
      .filter((e) => e.pos > since && e.pos <= upTo)
      .map((e) => this.entry(e));
  }

  timeline(_v: Viewer, roomId: string, since: number | null, upTo: number, limit: number, filter?: EventFilter) {
    const all = this.events.filter((e) => e.roomId === roomId && (since === null || e.pos > since) && e.pos <= upTo && this.matches(filter, e.ev));
    const picked = all.slice(-limit);
    const prevBatch = formatPaginationToken(picked.length > 0 ? picked[0]!.pos - 1 : upTo);
    return { events: picked.map((e) => e.ev), limited: all.length > picked.length, prevBatch };
  }

  private stateIn(roomId: string, from: number | null, to: number, filter?: EventFilter): ClientEvent[] {
    const m = new Map<string, ClientEvent>();
    for (const e of this.events) {
      if (e.roomId !== roomId || e.ev.state_key === undefined || e.pos > to || (from !== null && e.pos <= from)) continue;
      m.set(`${e.ev.type}|${e.ev.state_key}`, e.ev);
    }
    return [...m.values()].filter((e) => this.matches(filter, e));
  }

  stateAt(_v: Viewer, roomId: string, at: number, filter?: EventFilter): ClientEvent[] {
    return this.stateIn(roomId, null, at, filter);
  }

  stateChanges(_v: Viewer, roomId: string, since: number, upTo: number, filter?: EventFilter): ClientEvent[] {
    return this.stateIn(roomId, since, upTo, filter);
  }

  strippedState(roomId: string) {
    return this.stateIn(roomId, null, Number.MAX_SAFE_INTEGER)
      .filter((e) => e.type !== 'm.room.member')
      .map((e) => ({ type: e.type, state_key: e.state_key!, sender: e.sender, content: e.content }));
  }

  summary(roomId: string, userId: string, upTo: number) {
    const members = this.stateIn(roomId, null, upTo).filter((e) => e.type === 'm.room.member');
    const joined = members.filter((e) => e.content.membership === 'join');
    const invited = members.filter((e) => e.content.membership === 'invite');
    return {
      'm.heroes': [...joined, ...invited].map((e) => e.state_key!).filter((u) => u !== userId).slice(0, 5),
      'm.joined_member_count': joined.length,
      'm.invited_member_count': invited.length,
    };
  }

  membersAt(_v: Viewer, roomId: string, userIds: readonly string[], at: number): ClientEvent[] {
    return this.stateIn(roomId, null, at).filter((e) => e.type === 'm.room.member' && userIds.includes(e.state_key!));
  }

  joinedMembers(roomId: string): string[] {
    return this.stateIn(roomId, null, Number.MAX_SAFE_INTEGER)
      .filter((e) => e.type === 'm.room.member' && e.content.membership === 'join')
      .map((e) => e.state_key!);
  }

  usersSharingRoomsWith(userId: string): Set<string> {
    const out = new Set<string>();
    for (const m of this.memberships(userId, Number.MAX_SAFE_INTEGER)) {
      if (m.membership === 'join') for (const u of this.joinedMembers(m.roomId)) out.add(u);
    }
    return out;
  }
}

const alice: Viewer = { userId: '@alice:test', deviceId: 'A' };
const bob: Viewer = { userId: '@bob:test', deviceId: 'B' };

describe('sync services (real storage, fake rooms)', () => {
  let dir: string;
  let db: Database;
  let store: SyncDataStore;
  let notifier: Notifier;
  let rooms: FakeRooms;
  let sync: SyncService;
  let filters: FilterService;
  let accountData: AccountDataService;
  let receipts: ReceiptsService;
  let typing: TypingService;
  let presence: PresenceService;
  const room = '!room:test';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-sync-'));
    db = await openSqlJsDatabase({ dataDir: dir });
    store = createSqlJsSyncData(db);
    notifier = new Notifier(db.read((r) => currentStreamPosition(r)));
    rooms = new FakeRooms(db, notifier);
    filters = createFilterService(store);
    accountData = createAccountDataService({ store, notifier });
    const bus = new Bus();
    receipts = createReceiptsService({ store, notifier, bus, accountData, joinedMembers: (r) => rooms.joinedMembers(r) });
    typing = createTypingService({ notifier, bus, joinedMembers: (r) => rooms.joinedMembers(r) });
    presence = createPresenceService({
      store,
      notifier,
      bus,
      usersSharingRoomsWith: (u) => rooms.usersSharingRoomsWith(u),
      isLocalUser: () => true,
      sweepIntervalMs: 0,
    });
    sync = createSync({
      rooms,
      notifier,
      presence,
      roomsWithEvents: (since, upTo) => new Set(rooms.events.filter((e) => e.pos > since && e.pos <= upTo).map((e) => e.roomId)),
      sources: {
        accountData,
        receipts,
        typing,
        presence,
        toDevice: { take: async () => [] },
        deviceLists: { changes: () => ({ changed: [], left: [] }), oneTimeKeyCounts: () => ({}), unusedFallbackKeyTypes: () => [] },
        unreadCounts: ZERO_UNREAD_COUNTS,
      },
    });
    await db.write((w) => {
      for (const u of [alice.userId, bob.userId]) w.run('INSERT INTO users (user_id, created_ts) VALUES (?, 0)', [u]);
    });
    await rooms.send(room, alice.userId, 'm.room.create', { creator: alice.userId }, '');
    await rooms.send(room, alice.userId, 'm.room.member', { membership: 'join' }, alice.userId);
    await rooms.send(room, bob.userId, 'm.room.member', { membership: 'join' }, bob.userId);
    for (let i = 0; i < 15; i++) await rooms.send(room, alice.userId, 'm.room.message', { msgtype: 'm.text', body: `hello ${i}` });
  });

  after(async () => {
    typing.close();
    presence.close();
    notifier.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const req = (over: Partial<Parameters<SyncService['sync']>[1]> = {}) => ({ timeoutMs: 0, fullState: false, filter: {}, setPresence: 'offline' as const, ...over });

  it('initial sync: limited timeline, state at its start, summary, next_batch', async () => {
    const res = await sync.sync(alice, req());
    const r = res.rooms.join[room]!;
    assert.ok(r, 'joined room present');
    assert.equal(r.timeline.events.length, 10);
    assert.equal(r.timeline.limited, true);
    assert.match(r.timeline.prev_batch, /^t\d+$/);
    assert.equal(r.timeline.events.at(-1)!.content.body, 'hello 14');
    assert.equal(r.timeline.events[0]!.room_id, undefined);
    const stateTypes = r.state!.events.map((e) => `${e.type}|${e.state_key}`).sort();
    assert.deepEqual(stateTypes, ['m.room.create|', `m.room.member|${alice.userId}`, `m.room.member|${bob.userId}`]);
    assert.deepEqual(r.summary, { 'm.heroes': [bob.userId], 'm.joined_member_count': 2, 'm.invited_member_count': 0 });
    assert.deepEqual(r.unread_notifications, { notification_count: 0, highlight_count: 0 });
    assert.match(res.next_batch, /^s\d+_\d+$/);
  });

  it('incremental sync returns only what is new; an empty one times out with the same token', async () => {
    const first = await sync.sync(alice, req());
    const empty = await sync.sync(alice, req({ since: first.next_batch, timeoutMs: 20 }));
    assert.deepEqual(empty.rooms.join, {});
    assert.equal(empty.next_batch, first.next_batch);
    const ev = await rooms.send(room, bob.userId, 'm.room.message', { msgtype: 'm.text', body: 'new' });
    const inc = await sync.sync(alice, req({ since: first.next_batch }));
    const r = inc.rooms.join[room]!;
    assert.deepEqual(
      r.timeline.events.map((e) => e.event_id),
      [ev.event_id],
    );
    assert.equal(r.timeline.limited, false);
    assert.deepEqual(r.state!.events, []);
    assert.equal(r.summary, undefined);
  });

  it('a long-polling sync wakes up for a message from another user', async () => {
    const first = await sync.sync(alice, req());
    const pending = sync.sync(alice, req({ since: first.next_batch, timeoutMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 20));
    const ev = await rooms.send(room, bob.userId, 'm.room.message', { msgtype: 'm.text', body: 'wake up' });
    const res = await pending;
    assert.deepEqual(
      res.rooms.join[room]!.timeline.events.map((e) => e.event_id),
      [ev.event_id],
    );
  });

  it('a long poll ends early when its client goes away', async () => {
    const first = await sync.sync(alice, req());
    const abort = new AbortController();
    const pending = sync.sync(alice, req({ since: first.next_batch, timeoutMs: 60_000 }), abort.signal);
    setTimeout(() => abort.abort(), 10);
    const res = await pending;
    assert.deepEqual(res.rooms.join, {});
  });

  it('typing and receipts arrive in ephemeral; private receipts only for their owner', async () => {
    const first = await sync.sync(alice, req());
    const pending = sync.sync(alice, req({ since: first.next_batch, timeoutMs: 10_000 }));
    typing.setTyping(bob.userId, room, bob.userId, true, 30_000);
    const woke = await pending;
    const ephemeral = woke.rooms.join[room]!.ephemeral.events;
    assert.deepEqual(ephemeral, [{ type: 'm.typing', content: { user_ids: [bob.userId] } }]);
    assert.throws(() => typing.setTyping(alice.userId, room, bob.userId, true), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    assert.throws(() => typing.setTyping(alice.userId, '!other:test', alice.userId, true), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');

    const target = rooms.events.at(-1)!.ev.event_id;
    await receipts.send(bob.userId, room, 'm.read', target, undefined);
    await receipts.send(bob.userId, room, 'm.read.private', target, undefined);
    await receipts.send(alice.userId, room, 'm.read', target, 'main');
    typing.setTyping(bob.userId, room, bob.userId, false);
    const inc = await sync.sync(alice, req({ since: woke.next_batch }));
    const evs = inc.rooms.join[room]!.ephemeral.events;
    assert.deepEqual(evs.find((e) => e.type === 'm.typing')!.content, { user_ids: [] });
    const receipt = evs.find((e) => e.type === 'm.receipt')!.content as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.keys(receipt[target]!).sort(), ['m.read']);
    assert.ok((receipt[target]!['m.read'] as Record<string, unknown>)[bob.userId]);
    assert.equal(((receipt[target]!['m.read'] as Record<string, { thread_id?: string }>)[alice.userId])!.thread_id, 'main');
    const bobView = await sync.sync(bob, req());
    const bobReceipt = bobView.rooms.join[room]!.ephemeral.events.find((e) => e.type === 'm.receipt')!.content as Record<string, Record<string, unknown>>;
    assert.ok(bobReceipt[target]!['m.read.private']);
    await assert.rejects(receipts.send(alice.userId, room, 'm.fully_read', target, 'main'), (e: MatrixError) => e.errcode === 'M_INVALID_PARAM');
    await assert.rejects(receipts.send(alice.userId, room, 'm.read', target, ''), (e: MatrixError) => e.errcode === 'M_INVALID_PARAM');
  });

  it('account data, read markers and tags round-trip and reach sync', async () => {
    const first = await sync.sync(alice, req());
    await accountData.set(alice.userId, alice.userId, null, 'org.example.config', { a: 1 });
    await accountData.set(alice.userId, alice.userId, room, 'org.example.room', { b: 2 });
    await accountData.setTag(alice.userId, alice.userId, room, 'm.favourite', { order: 0.5 });
    await accountData.setTag(alice.userId, alice.userId, room, 'u.work', {});
    await accountData.deleteTag(alice.userId, alice.userId, room, 'u.work');
    await receipts.setReadMarkers(alice.userId, room, { fullyRead: rooms.events.at(-1)!.ev.event_id });
    assert.deepEqual(accountData.get(alice.userId, alice.userId, null, 'org.example.config'), { a: 1 });
    assert.deepEqual(accountData.getTags(alice.userId, alice.userId, room), { 'm.favourite': { order: 0.5 } });
    assert.throws(() => accountData.get(bob.userId, alice.userId, null, 'org.example.config'), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    assert.throws(() => accountData.get(alice.userId, alice.userId, null, 'nope'), (e: MatrixError) => e.errcode === 'M_NOT_FOUND');
    await assert.rejects(accountData.set(alice.userId, alice.userId, room, 'm.fully_read', {}), (e: MatrixError) => e.status === 405);
    await assert.rejects(accountData.setTag(alice.userId, alice.userId, room, 'u.x', { order: 'high' }), (e: MatrixError) => e.errcode === 'M_INVALID_PARAM');
    assert.throws(() => accountData.get(alice.userId, alice.userId, 'not-a-room', 'x'), (e: MatrixError) => e.errcode === 'M_INVALID_PARAM');

    const inc = await sync.sync(alice, req({ since: first.next_batch }));
    assert.deepEqual(inc.account_data.events, [{ type: 'org.example.config', content: { a: 1 } }]);
    const roomData = inc.rooms.join[room]!.account_data.events;
    assert.deepEqual(roomData.map((e) => e.type).sort(), ['m.fully_read', 'm.tag', 'org.example.room']);
    assert.deepEqual(roomData.find((e) => e.type === 'm.tag')!.content, { tags: { 'm.favourite': { order: 0.5 } } });
    const bobInc = await sync.sync(bob, req({ since: first.next_batch }));
    assert.deepEqual(bobInc.account_data.events, []);
  });

  it('filters: stored and inline, timeline limit and types, account data and ephemeral filters', async () => {
    const id = await filters.create(alice.userId, alice.userId, { room: { timeline: { limit: 2, types: ['m.room.message'] } } });
    assert.deepEqual(filters.get(alice.userId, alice.userId, id), { room: { timeline: { limit: 2, types: ['m.room.message'] } } });
    assert.throws(() => filters.get(bob.userId, alice.userId, id), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    assert.throws(() => filters.get(alice.userId, alice.userId, '999'), (e: MatrixError) => e.errcode === 'M_NOT_FOUND');
    const stored = filters.resolve(alice.userId, id);
    const res = await sync.sync(alice, req({ filter: stored }));
    const tl = res.rooms.join[room]!.timeline;
    assert.equal(tl.events.length, 2);
    assert.ok(tl.events.every((e) => e.type === 'm.room.message'));

    const inline = filters.resolve(alice.userId, '{"room":{"rooms":[]},"account_data":{"not_types":["*"]}}');
    const none = await sync.sync(alice, req({ filter: inline }));
    assert.deepEqual(none.rooms.join, {});
    assert.deepEqual(none.account_data.events, []);
    assert.throws(() => filters.resolve(alice.userId, '{not json'), (e: MatrixError) => e.errcode === 'M_BAD_JSON');
    assert.throws(() => filters.resolve(alice.userId, '{"room":{"timeline":{"limit":"ten"}}}'), (e: MatrixError) => e.errcode === 'M_BAD_JSON');
    assert.throws(() => filters.resolve(alice.userId, '12345'), (e: MatrixError) => e.errcode === 'M_INVALID_PARAM');

    const lazy = await sync.sync(alice, req({ filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } } }));
    const members = lazy.rooms.join[room]!.state!.events.filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
    // The last event's sender, yourself, and the heroes; nobody else.
    assert.deepEqual(members.sort(), [alice.userId, bob.userId].sort());
  });

  it('presence: set, get, visible to room members, in sync', async () => {
    const first = await sync.sync(bob, req());
    await presence.set(alice.userId, alice.userId, 'unavailable', 'busy');
    const got = presence.get(bob.userId, alice.userId);
    assert.equal(got.presence, 'unavailable');
    assert.equal(got.status_msg, 'busy');
    assert.equal(typeof got.last_active_ago, 'number');
    await assert.rejects(presence.set(bob.userId, alice.userId, 'online'), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    assert.throws(() => presence.get('@stranger:test', alice.userId), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    const inc = await sync.sync(bob, req({ since: first.next_batch }));
    const ev = inc.presence.events.find((e) => e.sender === alice.userId)!;
    assert.equal(ev.type, 'm.presence');
    assert.equal(ev.content.presence, 'unavailable');
    // Syncing without set_presence marks the syncing user online.
    await sync.sync(bob, req({ setPresence: undefined }));
    assert.equal(presence.get(alice.userId, bob.userId).presence, 'online');
  });

  it('a room left since the token appears under leave with the timeline up to the leave', async () => {
    const other = '!left:test';
    await rooms.send(other, alice.userId, 'm.room.create', { creator: alice.userId }, '');
    await rooms.send(other, alice.userId, 'm.room.member', { membership: 'join' }, alice.userId);
    await rooms.send(other, bob.userId, 'm.room.member', { membership: 'join' }, bob.userId);
    const first = await sync.sync(bob, req());
    assert.ok(first.rooms.join[other]);
    const msg = await rooms.send(other, alice.userId, 'm.room.message', { body: 'bye' });
    const leave = await rooms.send(other, bob.userId, 'm.room.member', { membership: 'leave' }, bob.userId);
    await rooms.send(other, alice.userId, 'm.room.message', { body: 'after' });
    const inc = await sync.sync(bob, req({ since: first.next_batch }));
    assert.equal(inc.rooms.join[other], undefined);
    assert.deepEqual(
      inc.rooms.leave[other]!.timeline.events.map((e) => e.event_id),
      [msg.event_id, leave.event_id],
    );
    const again = await sync.sync(bob, req());
    assert.equal(again.rooms.leave[other], undefined);
    const withLeave = await sync.sync(bob, req({ filter: { room: { include_leave: true } } }));
    assert.ok(withLeave.rooms.leave[other]);
  });
});

describe('profile and user directory services (real storage)', () => {
  let dir: string;
  let db: Database;
  let store: SyncDataStore;
  const shared = new Map<string, Set<string>>();
  const updates: { userId: string; displayname: string | null }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-profile-'));
    db = await openSqlJsDatabase({ dataDir: dir });
    store = createSqlJsSyncData(db);
    await db.write((w) => {
      for (const [u, name] of [['@alice:test', 'Alice'], ['@albert:test', 'Al Bundy'], ['@bob:test', null], ['@zed:test', 'Alibi']] as const) {
        w.run('INSERT INTO users (user_id, created_ts) VALUES (?, 0)', [u]);
        w.run('INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, NULL)', [u, name]);
      }
    });
    shared.set('@bob:test', new Set(['@alice:test', '@albert:test']));
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('profile fields: set, read, delete, member events updated', async () => {
    const profile = createProfileService({
      store,
      isLocalUser: (u) => u.endsWith(':test'),
      updateMembershipProfiles: async (userId, p) => void updates.push({ userId, displayname: p.displayname }),
    });
    await profile.setField('@alice:test', '@alice:test', 'displayname', { displayname: 'Alice Liddell' });
    await profile.setField('@alice:test', '@alice:test', 'm.tz', { 'm.tz': 'Europe/London' });
    assert.deepEqual(await profile.getProfile('@alice:test'), { displayname: 'Alice Liddell', 'm.tz': 'Europe/London' });
    assert.deepEqual(updates, [{ userId: '@alice:test', displayname: 'Alice Liddell' }]);
    await profile.deleteField('@alice:test', '@alice:test', 'm.tz');
    await assert.rejects(profile.getField('@alice:test', 'm.tz'), (e: MatrixError) => e.errcode === 'M_NOT_FOUND');
    await assert.rejects(profile.getProfile('@ghost:test'), (e: MatrixError) => e.errcode === 'M_NOT_FOUND');
    await assert.rejects(profile.getProfile('@remote:elsewhere'), (e: MatrixError) => e.errcode === 'M_NOT_FOUND');
    await assert.rejects(profile.setField('@bob:test', '@alice:test', 'displayname', { displayname: 'x' }), (e: MatrixError) => e.errcode === 'M_FORBIDDEN');
    await assert.rejects(profile.setField('@alice:test', '@alice:test', 'x'.repeat(300), {}), (e: MatrixError) => e.errcode === 'M_KEY_TOO_LARGE');
    assert.deepEqual(profile.memberProfile('@alice:test'), { displayname: 'Alice Liddell' });
  });

  it('user directory: only visible users, ranked, limited', async () => {
    const directory = createUserDirectory({ store, usersSharingRoomsWith: (u) => shared.get(u) ?? new Set() });
    const res = directory.search('@bob:test', 'al');
    assert.deepEqual(
      res.results.map((r) => r.user_id),
      ['@albert:test', '@alice:test'],
    );
    assert.equal(res.limited, false);
    const limited = directory.search('@bob:test', 'al', 1);
    assert.equal(limited.results.length, 1);
    assert.equal(limited.limited, true);
    assert.deepEqual(directory.search('@zed:test', 'alice').results, []);
    assert.deepEqual(directory.search('@bob:test', '%').results, []);
    assert.deepEqual(store.usersInPublicRooms(), new Set());
  });
});
