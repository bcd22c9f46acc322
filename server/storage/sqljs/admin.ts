/**
 * sql.js implementation of AdminStore (storage/admin.ts) over migration 0011-admin.sql, reading
 * users, profiles and devices (0003-accounts.sql) for the admin user listing.
 */
import type { Database, SqlParam, SqlRow, SqlWriter } from '../storage.ts';
import type { AdminListUsersOptions, AdminStore, AdminUserRow, RoomDeletion, RoomDeletionStatus, UserOrder } from '../admin.ts';
import { likeContaining, num, str } from './row.ts';
import { deleteSearchEntriesOf } from './search.ts';

const USER_SELECT = `SELECT u.user_id, u.is_admin, u.is_guest, u.deactivated, u.created_ts, u.user_type,
    p.displayname, p.avatar_url,
    (SELECT MAX(d.last_seen_ts) FROM devices d WHERE d.user_id = u.user_id) AS last_seen_ts,
    CASE WHEN e.user_id IS NULL THEN 0 ELSE 1 END AS erased
  FROM users u
  LEFT JOIN profiles p ON p.user_id = u.user_id
  LEFT JOIN erased_users e ON e.user_id = u.user_id`;

/** Sort columns; shadow banning does not exist here, so that order is the name order. */
const ORDER_COLUMNS: Record<UserOrder, string> = {
  name: 'u.user_id',
  is_guest: 'u.is_guest',
  admin: 'u.is_admin',
  user_type: 'u.user_type',
  deactivated: 'u.deactivated',
  shadow_banned: 'u.user_id',
  displayname: 'p.displayname',
  avatar_url: 'p.avatar_url',
  creation_ts: 'u.created_ts',
  last_seen_ts: 'last_seen_ts',
};

function toUserRow(r: SqlRow): AdminUserRow {
  return {
    userId: String(r.user_id),
    isAdmin: Number(r.is_admin) === 1,
    isGuest: Number(r.is_guest) === 1,
    deactivated: Number(r.deactivated) === 1,
    erased: Number(r.erased) === 1,
    userType: str(r.user_type),
    displayname: str(r.displayname),
    avatarUrl: str(r.avatar_url),
    createdTs: Number(r.created_ts),
    lastSeenTs: num(r.last_seen_ts),
  };
}

function toDeletion(r: SqlRow): RoomDeletion {
  return {
    deleteId: String(r.delete_id),
    roomId: String(r.room_id),
    status: String(r.status) as RoomDeletionStatus,
    error: str(r.error),
    shutdownRoom: JSON.parse(String(r.shutdown_room)),
    createdTs: Number(r.created_ts),
  };
}

/** Rows of a room in the tables other areas own, deleted by a purge (Synapse's _purge_room). */
const PURGE_BY_ROOM = [
  'events',
  'state_groups',
  'current_state',
  'forward_extremities',
  'room_members',
  'membership_history',
  'event_txns',
  'event_relations',
  'room_aliases',
  'account_data',
  'receipts',
  'event_push_actions',
  'content_reports',
  'federation_outbox_pdus',
  'events_aside',
  'remote_memberships',
  'rooms',
];

function tableExists(w: SqlWriter, name: string): boolean {
  return w.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined;
}

function purge(w: SqlWriter, roomId: string): void {
  // Rows keyed by something other than the room go first, while the room's rows still name them.
  w.run('DELETE FROM redactions WHERE redaction_id IN (SELECT event_id FROM events WHERE room_id = ?)', [roomId]);
  w.run('DELETE FROM state_group_entries WHERE group_id IN (SELECT group_id FROM state_groups WHERE room_id = ?)', [roomId]);
  deleteSearchEntriesOf(w, 'events.room_id = ?', [roomId]);
  for (const table of PURGE_BY_ROOM) {
    if (tableExists(w, table)) w.run(`DELETE FROM ${table} WHERE room_id = ?`, [roomId]);
  }
}

export function createSqlJsAdminStore(db: Database): AdminStore {
  return {
    listUsers(opts: AdminListUsersOptions) {
      const where: string[] = [];
      const params: SqlParam[] = [];
      if (opts.name !== undefined && opts.name !== '') {
        where.push("(LOWER(u.user_id) LIKE ? ESCAPE '\\' OR LOWER(p.displayname) LIKE ? ESCAPE '\\')");
        const pattern = likeContaining(opts.name.toLowerCase());
        params.push(pattern, pattern);
      } else if (opts.userId !== undefined && opts.userId !== '') {
        where.push("u.user_id LIKE ? ESCAPE '\\'");
        params.push(likeContaining(opts.userId));
      }
      if (!opts.includeGuests) where.push('u.is_guest = 0');
      if (!opts.includeDeactivated) where.push('u.deactivated = 0');
      if (opts.admins !== undefined) {
        where.push('u.is_admin = ?');
        params.push(opts.admins ? 1 : 0);
      }
      for (const t of opts.notUserTypes ?? []) {
        if (t === '') where.push('u.user_type IS NOT NULL');
        else {
          where.push('(u.user_type IS NULL OR u.user_type <> ?)');
          params.push(t);
        }
      }
      const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      const dir = opts.dir === 'b' ? 'DESC' : 'ASC';
      return db.read((r) => {
        const total = Number(r.get(`SELECT COUNT(*) AS n FROM users u LEFT JOIN profiles p ON p.user_id = u.user_id${clause}`, params)?.n ?? 0);
        const rows = r.all(`${USER_SELECT}${clause} ORDER BY ${ORDER_COLUMNS[opts.orderBy]} ${dir}, u.user_id ASC LIMIT ? OFFSET ?`, [
          ...params,
          opts.limit,
          opts.from,
        ]);
        return { users: rows.map(toUserRow), total };
      });
    },

    getUserRow(userId) {
      const row = db.read((r) => r.get(`${USER_SELECT} WHERE u.user_id = ?`, [userId]));
      return row ? toUserRow(row) : undefined;
    },

    async markErased(userId) {
      await db.write((w) => w.run('INSERT INTO erased_users (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING', [userId]));
    },

    roomIds() {
      return db.read((r) => r.all('SELECT room_id FROM rooms ORDER BY created_ts, room_id')).map((row) => String(row.room_id));
    },

    roomBlock(roomId) {
      const row = db.read((r) => r.get('SELECT user_id FROM blocked_rooms WHERE room_id = ?', [roomId]));
      return row ? { userId: String(row.user_id) } : undefined;
    },

    async setRoomBlock(roomId, userId, now) {
      await db.write((w) => {
        if (userId === null) w.run('DELETE FROM blocked_rooms WHERE room_id = ?', [roomId]);
        else w.run('INSERT INTO blocked_rooms (room_id, user_id, blocked_ts) VALUES (?, ?, ?) ON CONFLICT (room_id) DO NOTHING', [roomId, userId, now]);
      });
    },

    isRoomClosed(roomId) {
      return db.read(
        (r) =>
          r.get('SELECT 1 AS x FROM blocked_rooms WHERE room_id = ? UNION ALL SELECT 1 AS x FROM purged_rooms WHERE room_id = ?', [roomId, roomId]) !==
          undefined,
      );
    },

    async purgeRoom(roomId, now) {
      await db.write((w) => {
        purge(w, roomId);
        w.run('INSERT INTO purged_rooms (room_id, purged_ts) VALUES (?, ?) ON CONFLICT (room_id) DO NOTHING', [roomId, now]);
      });
    },

    async putRoomDeletion(d) {
      await db.write((w) =>
        w.run(
          `INSERT INTO room_deletions (delete_id, room_id, status, error, shutdown_room, created_ts) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (delete_id) DO UPDATE SET status = excluded.status, error = excluded.error, shutdown_room = excluded.shutdown_room`,
          [d.deleteId, d.roomId, d.status, d.error, JSON.stringify(d.shutdownRoom), d.createdTs],
        ),
      );
    },

    roomDeletion(deleteId) {
      const row = db.read((r) => r.get('SELECT * FROM room_deletions WHERE delete_id = ?', [deleteId]));
      return row ? toDeletion(row) : undefined;
    },

    roomDeletionsOf(roomId) {
      return db.read((r) => r.all('SELECT * FROM room_deletions WHERE room_id = ? ORDER BY created_ts, delete_id', [roomId])).map(toDeletion);
    },

    async failUnfinishedRoomDeletions(error) {
      await db.write((w) => w.run("UPDATE room_deletions SET status = 'failed', error = ? WHERE status IN ('scheduled', 'active')", [error]));
    },

    serverNoticeRoom(userId) {
      const row = db.read((r) => r.get('SELECT room_id FROM server_notice_rooms WHERE user_id = ?', [userId]));
      return row ? String(row.room_id) : undefined;
    },

    async setServerNoticeRoom(userId, roomId) {
      await db.write((w) =>
        w.run('INSERT INTO server_notice_rooms (user_id, room_id) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET room_id = excluded.room_id', [userId, roomId]),
      );
    },
  };
}
