/**
 * sql.js implementation of StorageCareStore (storage/storage-care.ts; table in
 * migrations/0015-storage-care.sql, and the rooms, search and push tables a purge deletes from).
 * A purge is a handful of DELETE statements whose conditions are subqueries over the room's
 * events, so the journal record stays small however many events go, and replay deletes the same
 * rows because it runs on the same database. The cutoff is resolved to a stream position or a
 * timestamp first and passed as a parameter.
 */
import type { Database, SqlParam, SqlWriter } from '../storage.ts';
import type { HistoryCutoff, PurgeHistoryOutcome, PurgeHistoryRequest, StorageCareStore, StorageSample } from '../storage-care.ts';
import { deleteSearchEntriesOf } from './search.ts';

const HOUR_MS = 3_600_000;

/**
 * The purgeable events of a room, as Synapse's _purge_history_txn chooses them: non-state
 * events before the cutoff, never a forward extremity, never the latest event (the room's
 * current state group is read from it), never something current state points at, and never a
 * local event still queued for another server (an event whose outbox rows are being written
 * right now is its room's latest event, which stays).
 */
function victims(cutoff: string, deleteLocalEvents: boolean): string {
  const onlyRemote = deleteLocalEvents ? '' : 'AND substr(e.sender, -length(?3)) <> ?3';
  return `SELECT e.event_id FROM events e
    WHERE e.room_id = ?1 AND e.state_key IS NULL AND ${cutoff} ${onlyRemote}
      AND e.stream_pos < (SELECT MAX(stream_pos) FROM events WHERE room_id = ?1)
      AND e.event_id NOT IN (SELECT event_id FROM forward_extremities WHERE room_id = ?1)
      AND e.event_id NOT IN (SELECT event_id FROM current_state WHERE room_id = ?1)
      AND e.event_id NOT IN (SELECT event_id FROM federation_outbox_pdus WHERE room_id = ?1)`;
}

/** The cutoff as a condition on `e` with its parameter ?2, or an outcome when there is nothing to do. */
function resolveCutoff(w: SqlWriter, roomId: string, cutoff: HistoryCutoff): { sql: string; param: SqlParam } | PurgeHistoryOutcome {
  switch (cutoff.kind) {
    case 'beforeTs':
      return { sql: 'e.origin_server_ts < ?2', param: cutoff.ts };
    case 'keepLatest': {
      if (cutoff.count === 0) return { sql: 'e.stream_pos < ?2', param: Number.MAX_SAFE_INTEGER };
      const row = w.get('SELECT stream_pos FROM events WHERE room_id = ? ORDER BY stream_pos DESC LIMIT 1 OFFSET ?', [roomId, cutoff.count - 1]);
      if (!row) return { ok: true, purgedEvents: 0 };
      return { sql: 'e.stream_pos < ?2', param: Number(row.stream_pos) };
    }
    case 'beforeEvent': {
      const row = w.get('SELECT room_id, stream_pos FROM events WHERE event_id = ?', [cutoff.eventId]);
      if (!row) return { ok: false, reason: 'unknown-event' };
      if (String(row.room_id) !== roomId) return { ok: false, reason: 'event-in-other-room' };
      return { sql: 'e.stream_pos < ?2', param: Number(row.stream_pos) };
    }
  }
}

export function createSqlJsStorageCare(db: Database): StorageCareStore {
  return {
    async recordSample(s: StorageSample, keepSinceTs: number) {
      const hour = Math.floor(s.ts / HOUR_MS) * HOUR_MS;
      await db.write((w) => {
        w.run(
          `INSERT INTO storage_stats_history (hour_ts, sampled_ts, database_bytes, media_bytes, total_bytes) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (hour_ts) DO UPDATE SET sampled_ts = excluded.sampled_ts, database_bytes = excluded.database_bytes,
             media_bytes = excluded.media_bytes, total_bytes = excluded.total_bytes`,
          [hour, s.ts, s.databaseBytes, s.mediaBytes, s.totalBytes],
        );
        w.run('DELETE FROM storage_stats_history WHERE hour_ts < ?', [keepSinceTs]);
      });
    },

    samples(sinceTs: number) {
      const rows = db.read((r) =>
        r.all('SELECT sampled_ts, database_bytes, media_bytes, total_bytes FROM storage_stats_history WHERE sampled_ts >= ? ORDER BY hour_ts', [sinceTs]),
      );
      return rows.map((row) => ({
        ts: Number(row.sampled_ts),
        databaseBytes: Number(row.database_bytes),
        mediaBytes: Number(row.media_bytes),
        totalBytes: Number(row.total_bytes),
      }));
    },

    purgeHistory(req: PurgeHistoryRequest) {
      return db.write((w): PurgeHistoryOutcome => {
        if (!w.get('SELECT 1 AS x FROM rooms WHERE room_id = ?', [req.roomId])) return { ok: false, reason: 'unknown-room' };
        const cutoff = resolveCutoff(w, req.roomId, req.cutoff);
        if ('ok' in cutoff) return cutoff;
        const ids = victims(cutoff.sql, req.deleteLocalEvents);
        const params: SqlParam[] = [req.roomId, cutoff.param];
        if (!req.deleteLocalEvents) params.push(`:${req.serverName}`);
        // Rows that name the events go first, while the events still identify them.
        deleteSearchEntriesOf(w, `events.event_id IN (${ids})`, params);
        w.run(`DELETE FROM event_relations WHERE event_id IN (${ids})`, params);
        w.run(`DELETE FROM redactions WHERE redaction_id IN (${ids})`, params);
        w.run(`DELETE FROM event_push_actions WHERE stream_pos IN (SELECT stream_pos FROM events WHERE event_id IN (${ids}))`, params);
        w.run(`DELETE FROM event_txns WHERE event_id IN (${ids})`, params);
        const { changes } = w.run(`DELETE FROM events WHERE event_id IN (${ids})`, params);
        return { ok: true, purgedEvents: changes };
      });
    },
  };
}
