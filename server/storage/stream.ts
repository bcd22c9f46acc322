/**
 * The one stream of positions shared by everything sync reports: events, receipts, account data,
 * to-device messages, device-list changes, presence. One counter makes a sync token one number
 * (plus the in-memory typing serial) and makes "everything up to position P" well defined.
 * Positions are allocated inside the write transaction that stores the item, so they are
 * journaled and replayed with it; writes are serial, so positions are durable in order.
 * Table: `stream_counter` (migration 0002-stream.sql).
 */
import type { SqlReader, SqlWriter } from './storage.ts';

export function allocateStreamPosition(w: SqlWriter): number {
  // One statement: RETURNING gives the new value (and is journaled as the write it is).
  const row = w.get('UPDATE stream_counter SET pos = pos + 1 WHERE id = 1 RETURNING pos');
  return Number(row!.pos);
}

export function currentStreamPosition(r: SqlReader): number {
  const row = r.get('SELECT pos FROM stream_counter WHERE id = 1');
  return row ? Number(row.pos) : 0;
}
