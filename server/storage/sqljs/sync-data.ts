/**
 * sql.js implementation of SyncDataStore (storage/sync-data.ts): filters, account data, receipts,
 * presence and profile fields, in the tables of migrations/0005-sync-data.sql plus the accounts
 * area's users and profiles tables. Every write that /sync reports stamps its row with a fresh
 * stream position inside the same transaction.
 */
import type { Database, SqlRow, SqlWriter } from '../storage.ts';
import { allocateStreamPosition } from '../stream.ts';
import type {
  AccountDataRow,
  DirectoryEntry,
  PresenceRow,
  PresenceState,
  ProfileRecord,
  ReceiptRow,
  SyncDataStore,
} from '../sync-data.ts';
import { likeContaining, str } from './row.ts';

const parseObject = (v: SqlRow[string] | undefined): Record<string, unknown> => JSON.parse(String(v)) as Record<string, unknown>;

/** Placeholders for an IN list; SQLite's bound-parameter limit is far above the rooms a user has,
 * but long lists are chunked anyway. */
function chunks<T>(list: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function toReceipt(row: SqlRow): ReceiptRow {
  const thread = String(row.thread_id);
  return {
    roomId: String(row.room_id),
    userId: String(row.user_id),
    receiptType: String(row.receipt_type),
    threadId: thread === '' ? null : thread,
    eventId: String(row.event_id),
    ts: Number(row.ts),
    position: Number(row.stream_pos),
  };
}

function toPresence(row: SqlRow): PresenceRow {
  return {
    userId: String(row.user_id),
    presence: String(row.presence) as PresenceState,
    statusMsg: str(row.status_msg),
    lastActiveTs: Number(row.last_active_ts),
    position: Number(row.stream_pos),
  };
}

export function createSqlJsSyncData(db: Database): SyncDataStore {
  const writeAccountData = (w: SqlWriter, userId: string, roomId: string | null, type: string, content: Record<string, unknown>): number => {
    const pos = allocateStreamPosition(w);
    w.run(
      `INSERT INTO account_data (user_id, room_id, type, content, stream_pos) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_pos = excluded.stream_pos`,
      [userId, roomId ?? '', type, JSON.stringify(content), pos],
    );
    return pos;
  };

  return {
    async createFilter(userId, filterJson) {
      return db.write((w) => {
        const row = w.get('SELECT MAX(filter_id) AS m FROM sync_filters WHERE user_id = ?', [userId]);
        const id = row && row.m !== null ? Number(row.m) + 1 : 0;
        w.run('INSERT INTO sync_filters (user_id, filter_id, filter_json) VALUES (?, ?, ?)', [userId, id, filterJson]);
        return String(id);
      });
    },

    getFilter(userId, filterId) {
      if (!/^\d{1,15}$/.test(filterId)) return undefined;
      const row = db.read((r) => r.get('SELECT filter_json FROM sync_filters WHERE user_id = ? AND filter_id = ?', [userId, Number(filterId)]));
      return row ? String(row.filter_json) : undefined;
    },

    getAccountData(userId, roomId, type) {
      const row = db.read((r) =>
        r.get('SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?', [userId, roomId ?? '', type]),
      );
      return row ? parseObject(row.content) : undefined;
    },

    putAccountData(userId, roomId, type, content) {
      return db.write((w) => writeAccountData(w, userId, roomId, type, content));
    },

    updateAccountData(userId, roomId, type, update) {
      return db.write((w) => {
        const row = w.get('SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?', [userId, roomId ?? '', type]);
        const next = update(row ? parseObject(row.content) : undefined);
        if (next === null) return null;
        return writeAccountData(w, userId, roomId, type, next);
      });
    },

    accountDataChanges(userId, since, upTo) {
      const rows = db.read((r) =>
        r.all(
          'SELECT room_id, type, content, stream_pos FROM account_data WHERE user_id = ? AND stream_pos > ? AND stream_pos <= ? ORDER BY stream_pos',
          [userId, since ?? Number.MIN_SAFE_INTEGER, upTo],
        ),
      );
      return rows.map(
        (row): AccountDataRow => ({
          roomId: row.room_id === '' ? null : String(row.room_id),
          type: String(row.type),
          content: parseObject(row.content),
          position: Number(row.stream_pos),
        }),
      );
    },

    putReceipt(rc) {
      return db.write((w) => {
        const thread = rc.threadId ?? '';
        const cur = w.get(
          'SELECT event_id FROM receipts WHERE room_id = ? AND user_id = ? AND receipt_type = ? AND thread_id = ?',
          [rc.roomId, rc.userId, rc.receiptType, thread],
        );
        if (cur && cur.event_id === rc.eventId) return null;
        const pos = allocateStreamPosition(w);
        w.run(
          `INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, ts, stream_pos) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (room_id, user_id, receipt_type, thread_id)
           DO UPDATE SET event_id = excluded.event_id, ts = excluded.ts, stream_pos = excluded.stream_pos`,
          [rc.roomId, rc.userId, rc.receiptType, thread, rc.eventId, rc.ts, pos],
        );
        return pos;
      });
    },

    receiptChanges(roomIds, since, upTo) {
      if (roomIds.length === 0) return [];
      return db.read((r) => {
        const out: ReceiptRow[] = [];
        if (since !== null) {
          // Few receipts change in a window: scan the window, then keep the asked rooms.
          const wanted = new Set(roomIds);
          for (const row of r.all('SELECT * FROM receipts WHERE stream_pos > ? AND stream_pos <= ?', [since, upTo])) {
            if (wanted.has(String(row.room_id))) out.push(toReceipt(row));
          }
          return out;
        }
        for (const part of chunks(roomIds)) {
          const rows = r.all(
            `SELECT * FROM receipts WHERE room_id IN (${part.map(() => '?').join(',')}) AND stream_pos <= ?`,
            [...part, upTo],
          );
          for (const row of rows) out.push(toReceipt(row));
        }
        return out;
      });
    },

    userReceipts(userId, roomId) {
      return db.read((r) => r.all('SELECT * FROM receipts WHERE room_id = ? AND user_id = ?', [roomId, userId])).map(toReceipt);
    },

    getPresence(userId) {
      const row = db.read((r) => r.get('SELECT * FROM presence WHERE user_id = ?', [userId]));
      return row ? toPresence(row) : undefined;
    },

    setPresence(userId, p) {
      return db.write((w) => {
        const pos = allocateStreamPosition(w);
        w.run(
          `INSERT INTO presence (user_id, presence, status_msg, last_active_ts, stream_pos) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence, status_msg = excluded.status_msg,
             last_active_ts = excluded.last_active_ts, stream_pos = excluded.stream_pos`,
          [userId, p.presence, p.statusMsg, p.lastActiveTs, pos],
        );
        return pos;
      });
    },

    presenceChanges(since, upTo, userIds) {
      const rows = db.read((r) =>
        r.all('SELECT * FROM presence WHERE stream_pos > ? AND stream_pos <= ?', [since ?? Number.MIN_SAFE_INTEGER, upTo]),
      );
      const out: PresenceRow[] = [];
      for (const row of rows) if (!userIds || userIds.has(String(row.user_id))) out.push(toPresence(row));
      return out;
    },

    userExists(userId) {
      return db.read((r) => r.get('SELECT 1 AS x FROM users WHERE user_id = ?', [userId])) !== undefined;
    },

    getProfile(userId) {
      return db.read((r) => {
        if (!r.get('SELECT 1 AS x FROM users WHERE user_id = ?', [userId])) return undefined;
        const p = r.get('SELECT displayname, avatar_url FROM profiles WHERE user_id = ?', [userId]);
        const fields: Record<string, unknown> = {};
        for (const row of r.all('SELECT field_name, value_json FROM profile_fields WHERE user_id = ?', [userId])) {
          fields[String(row.field_name)] = JSON.parse(String(row.value_json));
        }
        const rec: ProfileRecord = { displayname: str(p?.displayname), avatar_url: str(p?.avatar_url), fields };
        return rec;
      });
    },

    async setProfileField(userId, field, value) {
      await db.write((w) => {
        if (field === 'displayname' || field === 'avatar_url') {
          const v = value === undefined || value === null ? null : String(value);
          const res = w.run(`UPDATE profiles SET ${field} = ? WHERE user_id = ?`, [v, userId]);
          if (res.changes === 0) {
            w.run(`INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, ?)`, [
              userId,
              field === 'displayname' ? v : null,
              field === 'avatar_url' ? v : null,
            ]);
          }
          return;
        }
        if (value === undefined) {
          w.run('DELETE FROM profile_fields WHERE user_id = ? AND field_name = ?', [userId, field]);
        } else {
          w.run(
            `INSERT INTO profile_fields (user_id, field_name, value_json) VALUES (?, ?, ?)
             ON CONFLICT (user_id, field_name) DO UPDATE SET value_json = excluded.value_json`,
            [userId, field, JSON.stringify(value)],
          );
        }
      });
    },

    searchProfiles(term, max) {
      const like = likeContaining(term.toLowerCase());
      const rows = db.read((r) =>
        r.all(
          `SELECT u.user_id AS user_id, p.displayname AS displayname, p.avatar_url AS avatar_url
           FROM users u LEFT JOIN profiles p ON p.user_id = u.user_id
           WHERE u.deactivated = 0 AND (lower(u.user_id) LIKE ? ESCAPE '\\' OR lower(p.displayname) LIKE ? ESCAPE '\\')
           LIMIT ?`,
          [like, like, max],
        ),
      );
      return rows.map(
        (row): DirectoryEntry => ({ userId: String(row.user_id), displayname: str(row.displayname), avatarUrl: str(row.avatar_url) }),
      );
    },

    roomsWithEventsBetween(since, upTo) {
      const rows = db.read((r) => r.all('SELECT DISTINCT room_id FROM events WHERE stream_pos > ? AND stream_pos <= ?', [since, upTo]));
      return new Set(rows.map((row) => String(row.room_id)));
    },

    usersInPublicRooms() {
      return db.read((r) => {
        const publicRooms: string[] = [];
        const rows = r.all(
          `SELECT cs.room_id AS room_id, e.json AS json FROM current_state cs JOIN events e ON e.event_id = cs.event_id
           WHERE cs.state_key = '' AND cs.type IN ('m.room.join_rules', 'm.room.history_visibility')`,
        );
        for (const row of rows) {
          const content = (JSON.parse(String(row.json)) as { content?: Record<string, unknown> }).content ?? {};
          if (content.join_rule === 'public' || content.history_visibility === 'world_readable') publicRooms.push(String(row.room_id));
        }
        const users = new Set<string>();
        for (const part of chunks([...new Set(publicRooms)])) {
          const members = r.all(
            `SELECT user_id FROM room_members WHERE membership = 'join' AND room_id IN (${part.map(() => '?').join(',')})`,
            part,
          );
          for (const m of members) users.add(String(m.user_id));
        }
        return users;
      });
    },
  };
}
