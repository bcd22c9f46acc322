// Transaction ids are forgotten a day after their use (services/rooms/transaction-expiry.ts): the
// store drops client transaction ids of day-old events and day-old federation transaction
// answers, keeps the rest, and writes nothing when nothing is stale; the service sweeps with a
// cutoff one day back, one sweep at a time, and never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { SqlJsRoomsStore } from '../storage/sqljs/rooms.ts';
import { tempDataDir } from '../storage/sqljs/test-fixtures/temp-dir.ts';
import { TRANSACTION_ID_LIFETIME_MS, TransactionExpiry } from '../services/rooms/transaction-expiry.ts';

const ROOM = '!kitchen:localhost';
const ALICE = '@alice:localhost';
const DAY = 24 * 3_600_000;
const NOW = 1_800_000_000_000;

test('the store forgets transaction ids of events sent before the cutoff, and old federation answers', async (t) => {
  const db = await openSqlJsDatabase({ dataDir: tempDataDir(t, 'txn-expiry') });
  const store = new SqlJsRoomsStore(db);
  const sent = [
    { eventId: '$old', txnId: 'm1', ts: NOW - 2 * DAY, pos: 1 },
    { eventId: '$new', txnId: 'm2', ts: NOW - 60_000, pos: 2 },
  ];
  await db.write((w) => {
    for (const e of sent) {
      w.run(
        "INSERT INTO events (event_id, room_id, stream_pos, depth, type, sender, origin_server_ts, state_group, json) VALUES (?, ?, ?, ?, 'm.room.message', ?, ?, 0, '{}')",
        [e.eventId, ROOM, e.pos, e.pos, ALICE, e.ts],
      );
      w.run('INSERT INTO event_txns (user_id, device_id, room_id, txn_id, event_id) VALUES (?, ?, ?, ?, ?)', [ALICE, 'PHONE', ROOM, e.txnId, e.eventId]);
    }
  });
  await store.storeReceivedTxn('remote.example', 'f1', { pdus: {} }, NOW - 2 * DAY);
  await store.storeReceivedTxn('remote.example', 'f2', { pdus: {} }, NOW - 60_000);

  assert.equal(await store.forgetTransactionsBefore(NOW - DAY), 2);
  assert.equal(store.txnEventId(ALICE, 'PHONE', ROOM, 'm1'), undefined, 'a day-old transaction id is forgotten');
  assert.equal(store.txnOfEvent('$old'), undefined);
  assert.equal(store.txnEventId(ALICE, 'PHONE', ROOM, 'm2'), '$new', 'a recent one stays');
  assert.deepEqual(store.txnOfEvent('$new'), { userId: ALICE, deviceId: 'PHONE', txnId: 'm2' });
  assert.equal(store.receivedTxn('remote.example', 'f1'), undefined);
  assert.deepEqual(store.receivedTxn('remote.example', 'f2'), { pdus: {} });
  assert.ok(store.getEvent('$old'), 'the event itself stays');

  const seq = db.stats().lastSeq;
  assert.equal(await store.forgetTransactionsBefore(NOW - DAY), 0);
  assert.equal(db.stats().lastSeq, seq, 'nothing stale: nothing is written');
  await db.close();
});

test('the service sweeps with a cutoff one day back, one sweep at a time, and survives a failing store', async () => {
  const cutoffs: number[] = [];
  const logged: string[] = [];
  let release!: () => void;
  let fail = false;
  const expiry = new TransactionExpiry({
    store: {
      forgetTransactionsBefore: async (ts) => {
        cutoffs.push(ts);
        await new Promise<void>((r) => (release = r));
        if (fail) throw new Error('disk full');
        return 3;
      },
    },
    now: () => NOW,
    log: (level, message) => logged.push(`${level}: ${message}`),
  });
  const a = expiry.sweep();
  const b = expiry.sweep();
  assert.equal(a, b, 'a sweep already running is shared');
  release();
  assert.equal(await a, 3);
  assert.deepEqual(cutoffs, [NOW - TRANSACTION_ID_LIFETIME_MS]);

  fail = true;
  const c = expiry.sweep();
  const closed = expiry.close();
  release();
  assert.equal(await c, 0, 'a failure resolves with nothing forgotten');
  await closed;
  assert.deepEqual(logged, ['debug: forgot day-old transaction ids', 'error: forgetting old transaction ids failed']);
});
