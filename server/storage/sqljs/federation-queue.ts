/**
 * sql.js implementation of FederationQueueStore (storage/federation-queue.ts; tables in
 * migrations/0014-federation-queue.sql). Two reads cross into other areas' tables on purpose:
 * the fan-out reads `events` (the event stream is the source of the PDU outbox), and to-device
 * EDUs come from `e2ee_to_device_outbox`, which the e2ee store fills and this store drains.
 */
import type { Database, SqlParam, SqlRow, SqlWriter } from '../storage.ts';
import type {
  DestinationRecord,
  FederationQueueStore,
  LocalEventRef,
  NewEdu,
  QueuedEdu,
  QueuedToDevice,
  SentItems,
} from '../federation-queue.ts';
import { num } from './row.ts';

const DEST_COLUMNS =
  'destination, last_success_ts, last_failure_ts, last_failure_reason, retry_last_ts, retry_interval_ms, failure_count, last_successful_pos';

function toDestination(row: SqlRow): DestinationRecord {
  return {
    destination: String(row.destination),
    lastSuccessTs: num(row.last_success_ts),
    lastFailureTs: num(row.last_failure_ts),
    lastFailureReason: row.last_failure_reason === null ? null : String(row.last_failure_reason),
    retryLastTs: Number(row.retry_last_ts),
    retryIntervalMs: Number(row.retry_interval_ms),
    failureCount: Number(row.failure_count),
    lastSuccessfulPos: num(row.last_successful_pos),
  };
}

/** Creates the destination's row when it is new. */
function ensureDestination(w: SqlWriter, destination: string): void {
  w.run(
    `INSERT INTO federation_destinations (${DEST_COLUMNS}) VALUES (?, NULL, NULL, NULL, 0, 0, 0, NULL) ON CONFLICT (destination) DO NOTHING`,
    [destination],
  );
}

function insertEdus(w: SqlWriter, rows: readonly NewEdu[]): void {
  let id = Number(w.get('SELECT COALESCE(MAX(id), 0) AS id FROM federation_outbox_edus')!.id);
  for (const e of rows) {
    ensureDestination(w, e.destination);
    if (e.coalesceKey !== undefined) {
      w.run('DELETE FROM federation_outbox_edus WHERE destination = ? AND coalesce_key = ?', [e.destination, e.coalesceKey]);
    }
    w.run('INSERT INTO federation_outbox_edus (id, destination, edu_type, content_json, coalesce_key) VALUES (?, ?, ?, ?, ?)', [
      ++id,
      e.destination,
      e.eduType,
      JSON.stringify(e.content),
      e.coalesceKey ?? null,
    ]);
  }
}

const ORDER_COLUMNS = { destination: 'destination', retry_last_ts: 'retry_last_ts', last_success_ts: 'last_success_ts' } as const;

export function createSqlJsFederationQueue(db: Database): FederationQueueStore {
  return {
    dispatchedPosition() {
      return Number(db.read((r) => r.get('SELECT dispatched_pos FROM federation_sender_state WHERE id = 1'))?.dispatched_pos ?? 0);
    },

    localEventsAfter(serverName, after, limit) {
      // LIKE narrows the scan; the exact suffix check below rejects `_`/`%` wildcard matches.
      const suffix = `:${serverName}`;
      const rows = db.read((r) =>
        r.all('SELECT stream_pos, event_id, room_id, sender FROM events WHERE stream_pos > ? AND sender LIKE ? ORDER BY stream_pos LIMIT ?', [
          after,
          `%${suffix}`,
          limit,
        ]),
      );
      return rows
        .filter((row) => String(row.sender).endsWith(suffix))
        .map((row): LocalEventRef => ({ position: Number(row.stream_pos), eventId: String(row.event_id), roomId: String(row.room_id) }));
    },

    async enqueuePdus(rows, dispatchedUpTo) {
      await db.write((w) => {
        for (const p of rows) {
          ensureDestination(w, p.destination);
          w.run(
            'INSERT INTO federation_outbox_pdus (destination, stream_pos, event_id, room_id) VALUES (?, ?, ?, ?) ON CONFLICT (destination, stream_pos) DO NOTHING',
            [p.destination, p.position, p.eventId, p.roomId],
          );
        }
        w.run('UPDATE federation_sender_state SET dispatched_pos = ? WHERE id = 1 AND dispatched_pos < ?', [dispatchedUpTo, dispatchedUpTo]);
      });
    },

    async enqueueEdus(rows) {
      if (rows.length === 0) return;
      await db.write((w) => insertEdus(w, rows));
    },

    pendingPdus(destination, limit) {
      return db
        .read((r) =>
          r.all('SELECT stream_pos, event_id, room_id FROM federation_outbox_pdus WHERE destination = ? ORDER BY stream_pos LIMIT ?', [
            destination,
            limit,
          ]),
        )
        .map((row) => ({ destination, position: Number(row.stream_pos), eventId: String(row.event_id), roomId: String(row.room_id) }));
    },

    pendingEdus(destination, limit) {
      return db
        .read((r) => r.all('SELECT id, edu_type, content_json FROM federation_outbox_edus WHERE destination = ? ORDER BY id LIMIT ?', [destination, limit]))
        .map((row): QueuedEdu => ({ id: Number(row.id), eduType: String(row.edu_type), content: JSON.parse(String(row.content_json)) }));
    },

    pendingToDevice(destination, limit) {
      return db
        .read((r) =>
          r.all(
            'SELECT stream_pos, sender, user_id, device_id, event_type, content_json, message_id FROM e2ee_to_device_outbox ' +
              'WHERE destination = ? ORDER BY stream_pos, user_id, device_id LIMIT ?',
            [destination, limit],
          ),
        )
        .map(
          (row): QueuedToDevice => ({
            position: Number(row.stream_pos),
            sender: String(row.sender),
            userId: String(row.user_id),
            deviceId: String(row.device_id),
            eventType: String(row.event_type),
            content: JSON.parse(String(row.content_json)),
            messageId: String(row.message_id),
          }),
        );
    },

    counts(destination) {
      return db.read((r) => ({
        pdus: Number(r.get('SELECT COUNT(*) AS n FROM federation_outbox_pdus WHERE destination = ?', [destination])!.n),
        edus: Number(r.get('SELECT COUNT(*) AS n FROM federation_outbox_edus WHERE destination = ?', [destination])!.n),
        toDevice: Number(r.get('SELECT COUNT(*) AS n FROM e2ee_to_device_outbox WHERE destination = ?', [destination])!.n),
      }));
    },

    destinationsWithPending() {
      return db
        .read((r) =>
          r.all(
            'SELECT destination FROM federation_outbox_pdus UNION SELECT destination FROM federation_outbox_edus ' +
              'UNION SELECT destination FROM e2ee_to_device_outbox',
          ),
        )
        .map((row) => String(row.destination));
    },

    async collapseToLatestPerRoom(destination) {
      return db.write(
        (w) =>
          w.run(
            'DELETE FROM federation_outbox_pdus WHERE destination = ? AND stream_pos < ' +
              '(SELECT MAX(o.stream_pos) FROM federation_outbox_pdus o WHERE o.destination = federation_outbox_pdus.destination AND o.room_id = federation_outbox_pdus.room_id)',
            [destination],
          ).changes,
      );
    },

    async transactionSucceeded(destination, sent: SentItems, now) {
      await db.write((w) => {
        ensureDestination(w, destination);
        for (const pos of sent.pduPositions) w.run('DELETE FROM federation_outbox_pdus WHERE destination = ? AND stream_pos = ?', [destination, pos]);
        for (const id of sent.eduIds) w.run('DELETE FROM federation_outbox_edus WHERE id = ?', [id]);
        for (const m of sent.toDevice) {
          w.run('DELETE FROM e2ee_to_device_outbox WHERE stream_pos = ? AND user_id = ? AND device_id = ?', [m.position, m.userId, m.deviceId]);
        }
        const newest = sent.pduPositions.length > 0 ? Math.max(...sent.pduPositions) : null;
        w.run(
          'UPDATE federation_destinations SET last_success_ts = ?, retry_last_ts = 0, retry_interval_ms = 0, failure_count = 0, ' +
            'last_successful_pos = CASE WHEN ? IS NULL THEN last_successful_pos ELSE MAX(COALESCE(last_successful_pos, 0), ?) END WHERE destination = ?',
          [now, newest, newest, destination],
        );
      });
    },

    async recordFailure(destination, now, reason, retryIntervalMs) {
      await db.write((w) => {
        ensureDestination(w, destination);
        w.run(
          'UPDATE federation_destinations SET last_failure_ts = ?, last_failure_reason = ?, retry_last_ts = ?, retry_interval_ms = ?, ' +
            'failure_count = failure_count + 1 WHERE destination = ?',
          [now, reason, now, retryIntervalMs, destination],
        );
      });
    },

    async resetBackoff(destination) {
      await db.write((w) =>
        w.run('UPDATE federation_destinations SET retry_last_ts = 0, retry_interval_ms = 0 WHERE destination = ?', [destination]),
      );
    },

    destination(destination) {
      const row = db.read((r) => r.get(`SELECT ${DEST_COLUMNS} FROM federation_destinations WHERE destination = ?`, [destination]));
      return row ? toDestination(row) : undefined;
    },

    listDestinations(opts) {
      const where = opts.search ? ' WHERE destination LIKE ?' : '';
      const params: SqlParam[] = opts.search ? [`%${opts.search}%`] : [];
      const order = ORDER_COLUMNS[opts.orderBy ?? 'destination'];
      const dir = opts.dir === 'b' ? 'DESC' : 'ASC';
      return db.read((r) => ({
        total: Number(r.get(`SELECT COUNT(*) AS n FROM federation_destinations${where}`, params)!.n),
        destinations: r
          .all(`SELECT ${DEST_COLUMNS} FROM federation_destinations${where} ORDER BY ${order} ${dir}, destination ${dir} LIMIT ? OFFSET ?`, [
            ...params,
            opts.limit,
            opts.from,
          ])
          .map(toDestination),
      }));
    },

    roomsWithServer(destination, opts) {
      // Reads room_members (rooms storage): the rooms the destination takes part in right now.
      const suffix = `:${destination}`;
      const joined = db
        .read((r) => r.all("SELECT DISTINCT room_id, user_id FROM room_members WHERE membership = 'join' AND user_id LIKE ?", [`%${suffix}`]))
        .filter((row) => String(row.user_id).endsWith(suffix))
        .map((row) => String(row.room_id));
      const roomIds = [...new Set(joined)].sort();
      const page = roomIds.slice(opts.from, opts.from + opts.limit);
      const rooms = db.read((r) =>
        page.map((roomId) => ({
          roomId,
          streamOrdering: Number(r.get('SELECT COALESCE(MAX(stream_pos), 0) AS p FROM events WHERE room_id = ?', [roomId])!.p),
        })),
      );
      return { rooms, total: roomIds.length };
    },

    announcedDeviceList(userId) {
      const row = db.read((r) =>
        r.get('SELECT last_stream_id, device_ids_json, signing_keys_json FROM federation_device_list_streams WHERE user_id = ?', [userId]),
      );
      if (!row) return undefined;
      return { lastStreamId: Number(row.last_stream_id), deviceIds: JSON.parse(String(row.device_ids_json)), signingKeys: String(row.signing_keys_json) };
    },

    async enqueueDeviceListUpdate(userId, announced, rows) {
      await db.write((w) => {
        insertEdus(w, rows);
        w.run(
          'INSERT INTO federation_device_list_streams (user_id, last_stream_id, device_ids_json, signing_keys_json) VALUES (?, ?, ?, ?) ' +
            'ON CONFLICT (user_id) DO UPDATE SET last_stream_id = excluded.last_stream_id, device_ids_json = excluded.device_ids_json, ' +
            'signing_keys_json = excluded.signing_keys_json',
          [userId, announced.lastStreamId, JSON.stringify(announced.deviceIds), announced.signingKeys],
        );
      });
    },
  };
}
