/**
 * The federation sender's queue over real durable storage (sql.js in a temp folder) with a
 * recording transport standing in for the remote server: batching limits, one transaction in
 * flight, backoff and "retry now", restart and crash recovery, catch-up, EDUs.
 * Two- and three-server runs over real TLS are in federation-rooms*.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import type { Database } from '../storage/storage.ts';
import { createSqlJsFederationQueue } from '../storage/sqljs/federation-queue.ts';
import { DestinationHealthService } from '../services/federation/destinations.ts';
import { FederationSender } from '../services/federation/sender/sender.ts';
import type { TransactionBody, TransactionTransport } from '../services/federation/sender/destination-queue.ts';
import type { StoredPdu } from '../core/events/types.ts';

const HS = 'a.test';

/** Records transactions; fails while `down`; checks that only one is in flight per destination. */
class FakeRemote implements TransactionTransport {
  txns: { destination: string; txnId: string; body: TransactionBody }[] = [];
  down = false;
  delayMs = 0;
  private inFlight = new Set<string>();
  overlapped = false;

  async sendTransaction(destination: string, txnId: string, body: TransactionBody) {
    if (this.inFlight.has(destination)) this.overlapped = true;
    this.inFlight.add(destination);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.down) throw new Error('connect ECONNREFUSED');
      this.txns.push({ destination, txnId, body });
      return { pdus: {} };
    } finally {
      this.inFlight.delete(destination);
    }
  }

  eventIds(destination: string): string[] {
    return this.txns.filter((t) => t.destination === destination).flatMap((t) => t.body.pdus.map((p) => (p as { event_id: string }).event_id));
  }
}

interface Rig {
  db: Database;
  sender: FederationSender;
  health: DestinationHealthService;
  remote: FakeRemote;
  members: Map<string, string[]>;
}

async function rig(dataDir: string, remote = new FakeRemote(), members = new Map<string, string[]>(), opts: { minRetryMs?: number } = {}): Promise<Rig> {
  const db = await openSqlJsDatabase({ dataDir });
  const store = createSqlJsFederationQueue(db);
  const health = new DestinationHealthService(store, { minRetryMs: opts.minRetryMs ?? 50, maxRetryMs: 400 });
  const sender = new FederationSender({
    serverName: HS,
    store,
    health,
    transport: remote,
    rooms: { joinedMembers: (r) => members.get(r) ?? [] },
    loadPdu: (id) => ({ event_id: id }),
    log: () => {},
    catchUpThreshold: 30,
    txnPrefix: `t${Math.random().toString(36).slice(2)}_`,
  });
  await sender.start();
  return { db, sender, health, remote, members };
}

async function stop(r: Rig): Promise<void> {
  await r.sender.close();
  await r.db.close();
}

function pdu(roomId: string, n: number): StoredPdu {
  return { event_id: `$e${n}`, room_id: roomId, sender: `@alice:${HS}`, type: 'm.room.message', content: {}, origin_server_ts: n, prev_events: [], auth_events: [], depth: n, hashes: { sha256: '' }, signatures: {} };
}

/** Writes a bare event row as rooms storage would (for the start-up fan-out, which reads `events`). */
async function storeEventRow(db: Database, p: StoredPdu, pos: number): Promise<void> {
  await db.write((w) => {
    w.run('UPDATE stream_counter SET pos = ? WHERE id = 1', [pos]);
    w.run(
      'INSERT INTO events (event_id, room_id, stream_pos, depth, type, sender, origin_server_ts, state_group, json) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)',
      [p.event_id, p.room_id!, pos, p.depth, p.type, p.sender, p.origin_server_ts, JSON.stringify(p)],
    );
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-fedsend-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('PDUs go to every other server in the room, ≤50 per transaction, one transaction in flight, in order', async (t) => {
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test', '@carol:c.test', '@bob2:b.test']]]);
  const r = await rig(tempDir(t), new FakeRemote(), members);
  r.remote.delayMs = 5;
  for (let i = 1; i <= 120; i++) r.sender.onEventPersisted(pdu('!r:a.test', i), i);
  await until(() => r.remote.eventIds('b.test').length === 120 && r.remote.eventIds('c.test').length === 120);
  const sizes = r.remote.txns.filter((x) => x.destination === 'b.test').map((x) => x.body.pdus.length);
  assert.ok(sizes.every((n) => n <= 50), `batch sizes ${sizes}`);
  assert.deepEqual(r.remote.eventIds('b.test'), Array.from({ length: 120 }, (_, i) => `$e${i + 1}`));
  assert.equal(r.remote.overlapped, false);
  assert.equal(new Set(r.remote.txns.map((x) => x.txnId)).size, r.remote.txns.length, 'transaction ids are unique');
  assert.equal(r.remote.txns[0]!.body.origin, HS);
  assert.equal(r.health.get('b.test')!.queued.pdus, 0);
  assert.equal(r.health.get('b.test')!.lastSuccessfulPos, 120);
  // Events of remote senders are not ours to send.
  r.sender.onEventPersisted({ ...pdu('!r:a.test', 500), sender: '@bob:b.test' }, 500);
  await r.sender.flush();
  assert.equal(r.health.get('c.test')!.queued.pdus, 0);
  await stop(r);
});

test('a failing destination backs off (doubling), records why, and is retried; "retry now" resets the backoff', async (t) => {
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test']]]);
  const r = await rig(tempDir(t), new FakeRemote(), members, { minRetryMs: 60_000 });
  r.remote.down = true;
  r.sender.onEventPersisted(pdu('!r:a.test', 1), 1);
  await until(() => (r.health.get('b.test')?.failureCount ?? 0) === 1);
  const h = r.health.get('b.test')!;
  assert.match(h.lastFailureReason ?? '', /ECONNREFUSED/);
  assert.equal(h.retryIntervalMs, 60_000);
  assert.ok(h.retryAtTs! > Date.now() + 50_000);
  assert.deepEqual(h.queued, { pdus: 1, edus: 0, toDevice: 0 });
  assert.equal(r.health.isUp('b.test'), false);
  // New events while down wait for the backoff.
  r.sender.onEventPersisted(pdu('!r:a.test', 2), 2);
  await r.sender.flush();
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(r.health.get('b.test')!.failureCount, 1, 'no attempt during the backoff');
  // Retry now while still down: fails again and the interval doubles.
  await r.health.resetBackoff('b.test');
  await until(() => r.health.get('b.test')!.failureCount === 2);
  assert.equal(r.health.get('b.test')!.retryIntervalMs, 60_000, 'retry now starts the doubling again');
  r.remote.down = false;
  assert.equal(await r.health.resetBackoff('b.test'), true);
  await until(() => r.remote.eventIds('b.test').length === 2);
  const after = r.health.get('b.test')!;
  assert.equal(after.retryIntervalMs, 0);
  assert.equal(after.failureCount, 0);
  assert.ok(after.lastSuccessTs !== null && after.lastFailureTs !== null);
  assert.equal(await r.health.resetBackoff('unknown.test'), false);
  await stop(r);
});

test('the backoff doubles up to its ceiling', async (t) => {
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test']]]);
  const r = await rig(tempDir(t), new FakeRemote(), members, { minRetryMs: 100 });
  r.remote.down = true;
  r.sender.onEventPersisted(pdu('!r:a.test', 1), 1);
  await until(() => (r.health.get('b.test')?.failureCount ?? 0) >= 4, 8000);
  assert.equal(r.health.get('b.test')!.retryIntervalMs, 400);
  await stop(r);
});

test('the queue survives a restart: nothing dropped, nothing sent twice', async (t) => {
  const dir = tempDir(t);
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test']]]);
  const remote = new FakeRemote();
  let r = await rig(dir, remote, members);
  for (let i = 1; i <= 3; i++) r.sender.onEventPersisted(pdu('!r:a.test', i), i);
  await until(() => remote.eventIds('b.test').length === 3);
  remote.down = true;
  for (let i = 4; i <= 8; i++) r.sender.onEventPersisted(pdu('!r:a.test', i), i);
  await r.sender.flush();
  await until(() => r.health.get('b.test')!.failureCount > 0);
  await stop(r);

  remote.down = false;
  r = await rig(dir, remote, members);
  await until(() => remote.eventIds('b.test').length === 8);
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(remote.eventIds('b.test'), ['$e1', '$e2', '$e3', '$e4', '$e5', '$e6', '$e7', '$e8']);
  await stop(r);
});

test('a local event stored without its outbox rows (crash in between) is fanned out at start', async (t) => {
  const dir = tempDir(t);
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test']]]);
  const remote = new FakeRemote();
  let r = await rig(dir, remote, members);
  await storeEventRow(r.db, pdu('!r:a.test', 1), 1);
  await storeEventRow(r.db, { ...pdu('!r:a.test', 2), sender: '@bob:b.test' }, 2);
  await stop(r); // the sender never saw them
  r = await rig(dir, remote, members);
  await until(() => remote.eventIds('b.test').length === 1);
  assert.deepEqual(remote.eventIds('b.test'), ['$e1']);
  await stop(r);
  // Fanned out once: the next start sends nothing again.
  r = await rig(dir, remote, members);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(remote.eventIds('b.test').length, 1);
  await stop(r);
});

test('catch-up after an outage with a long backlog sends the latest event of each room', async (t) => {
  const members = new Map([
    ['!r1:a.test', [`@alice:${HS}`, '@bob:b.test']],
    ['!r2:a.test', [`@alice:${HS}`, '@bob:b.test']],
  ]);
  const r = await rig(tempDir(t), new FakeRemote(), members, { minRetryMs: 60_000 });
  r.remote.down = true;
  r.sender.onEventPersisted(pdu('!r1:a.test', 1), 1);
  await until(() => r.health.get('b.test')?.failureCount === 1);
  for (let i = 2; i <= 40; i++) r.sender.onEventPersisted(pdu(i % 2 === 0 ? '!r2:a.test' : '!r1:a.test', i), i);
  await r.sender.flush();
  r.remote.down = false;
  await r.health.resetBackoff('b.test');
  await until(() => r.health.get('b.test')!.failureCount === 0);
  assert.deepEqual(r.remote.eventIds('b.test').sort(), ['$e39', '$e40']);
  await stop(r);
});

test('EDUs: receipts coalesce while queued, typing is ephemeral, to-device comes from the e2ee outbox; ≤100 per transaction', async (t) => {
  const members = new Map([['!r:a.test', [`@alice:${HS}`, '@bob:b.test']]]);
  const r = await rig(tempDir(t), new FakeRemote(), members, { minRetryMs: 60_000 });
  r.remote.down = true;
  const receipt = (id: string) => ({ edu_type: 'm.receipt', content: { '!r:a.test': { 'm.read': { [`@alice:${HS}`]: { event_ids: [id], data: { ts: 1 } } } } } });
  await r.sender.sendEdu(['b.test'], receipt('$1'), { coalesceKey: 'receipt !r alice' });
  await until(() => r.health.get('b.test')?.failureCount === 1);
  await r.sender.sendEdu(['b.test'], receipt('$2'), { coalesceKey: 'receipt !r alice' });
  await r.sender.sendEdu(['b.test', HS], { edu_type: 'm.signing_key_update', content: { user_id: `@alice:${HS}` } });
  await r.db.write((w) => {
    for (let i = 0; i < 150; i++) {
      w.run(
        "INSERT INTO e2ee_to_device_outbox (stream_pos, destination, sender, user_id, device_id, event_type, content_json, message_id) VALUES (?, 'b.test', ?, '@bob:b.test', ?, 'm.room_key_request', '{}', ?)",
        [1000 + i, `@alice:${HS}`, `D${i}`, `m${i}`],
      );
    }
  });
  assert.deepEqual(r.health.get('b.test')!.queued, { pdus: 0, edus: 2, toDevice: 150 });
  r.remote.down = false;
  await r.health.resetBackoff('b.test');
  r.sender.sendEdu(['b.test'], { edu_type: 'm.typing', content: { room_id: '!r:a.test', user_id: `@alice:${HS}`, typing: true } }, { ephemeralKey: 'typing' });
  await until(() => r.remote.txns.flatMap((x) => x.body.edus).length === 153);
  const edus = r.remote.txns.flatMap((x) => x.body.edus);
  assert.ok(r.remote.txns.every((x) => x.body.edus.length <= 100));
  const receipts = edus.filter((e) => e.edu_type === 'm.receipt');
  assert.equal(receipts.length, 1);
  assert.deepEqual(Object.values((receipts[0]!.content['!r:a.test'] as any)['m.read'])[0], { event_ids: ['$2'], data: { ts: 1 } });
  const toDevice = edus.filter((e) => e.edu_type === 'm.direct_to_device');
  assert.equal(toDevice.length, 150);
  assert.equal(new Set(toDevice.map((e) => e.content.message_id)).size, 150);
  assert.deepEqual(toDevice[0]!.content, { sender: `@alice:${HS}`, type: 'm.room_key_request', message_id: 'm0', messages: { '@bob:b.test': { D0: {} } } });
  assert.equal(edus.filter((e) => e.edu_type === 'm.typing').length, 1);
  await until(() => r.health.get('b.test')!.queued.toDevice === 0);
  await stop(r);
});
