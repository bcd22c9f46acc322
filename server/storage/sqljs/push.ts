/**
 * sql.js implementation of PushStore (storage/push.ts) over migrations/0007-push.sql. A rules
 * change rewrites the user's rows in one transaction and stamps the `m.push_rules` account data
 * (table of 0005-sync-data.sql) with a fresh stream position, so /sync reports the new rules.
 */
import type { DefaultRuleOverride } from '../../core/push/default-rules.ts';
import { RULE_KINDS, type PushAction, type PushCondition, type PushRule, type RuleKind } from '../../core/push/evaluate.ts';
import type { NewPushAction, PushActionRow, PushStore, PusherRow, UnreadCount, UserPushRules } from '../push.ts';
import type { Database, SqlReader, SqlRow, SqlWriter } from '../storage.ts';
import { allocateStreamPosition } from '../stream.ts';
import { str } from './row.ts';

const emptyKinds = (): Record<RuleKind, PushRule[]> => ({ override: [], content: [], room: [], sender: [], underride: [] });

function readRules(r: SqlReader, userId: string): UserPushRules {
  const user = emptyKinds();
  for (const row of r.all('SELECT * FROM push_rules WHERE user_id = ? ORDER BY kind, priority DESC', [userId])) {
    const kind = String(row.kind) as RuleKind;
    if (!user[kind]) continue;
    const rule: PushRule = {
      rule_id: String(row.rule_id),
      default: false,
      enabled: Number(row.enabled) === 1,
      actions: JSON.parse(String(row.actions)) as PushAction[],
    };
    if (row.conditions !== null) rule.conditions = JSON.parse(String(row.conditions)) as PushCondition[];
    if (row.pattern !== null) rule.pattern = String(row.pattern);
    user[kind].push(rule);
  }
  const defaults = new Map<string, DefaultRuleOverride>();
  for (const row of r.all('SELECT * FROM push_rule_defaults WHERE user_id = ?', [userId])) {
    const o: DefaultRuleOverride = {};
    if (row.enabled !== null) o.enabled = Number(row.enabled) === 1;
    if (row.actions !== null) o.actions = JSON.parse(String(row.actions)) as PushAction[];
    defaults.set(`${String(row.kind)}/${String(row.rule_id)}`, o);
  }
  return { user, defaults };
}

function writeRules(w: SqlWriter, userId: string, rules: UserPushRules): void {
  w.run('DELETE FROM push_rules WHERE user_id = ?', [userId]);
  w.run('DELETE FROM push_rule_defaults WHERE user_id = ?', [userId]);
  for (const kind of RULE_KINDS) {
    const list = rules.user[kind];
    list.forEach((rule, i) => {
      w.run(
        'INSERT INTO push_rules (user_id, kind, rule_id, priority, conditions, pattern, actions, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [
          userId,
          kind,
          rule.rule_id,
          list.length - i,
          rule.conditions === undefined ? null : JSON.stringify(rule.conditions),
          rule.pattern ?? null,
          JSON.stringify(rule.actions),
          rule.enabled,
        ],
      );
    });
  }
  for (const [key, o] of rules.defaults) {
    const slash = key.indexOf('/');
    w.run('INSERT INTO push_rule_defaults (user_id, kind, rule_id, enabled, actions) VALUES (?, ?, ?, ?, ?)', [
      userId,
      key.slice(0, slash),
      key.slice(slash + 1),
      o.enabled ?? null,
      o.actions === undefined ? null : JSON.stringify(o.actions),
    ]);
  }
}

/**
 * Stores an event's push actions with one statement per distinct outcome (usually one or two:
 * "notify" for most members, "highlight" for the mentioned), however many members were notified:
 * the outcome's user ids travel as one JSON array that SQLite unpacks (json_each). A statement per
 * row, or per-row JSON, costs several times more through sql.js. Used inside the event's own
 * write (sqljs/rooms.ts).
 */
export function insertPushActions(w: SqlWriter, rows: readonly NewPushAction[], position: number): void {
  const outcomes = new Map<string, { row: NewPushAction; actions: string; users: string[] }>();
  // Users matched by the same rule share its actions array: encoded once (this runs per member).
  const encoded = new Map<readonly unknown[], string>();
  for (const a of rows) {
    let actions = encoded.get(a.actions);
    if (actions === undefined) encoded.set(a.actions, (actions = JSON.stringify(a.actions)));
    // The rows are one event's (room, ts and notify are the same in all of them), so
    // only what can differ between its recipients tells outcomes apart.
    const key = `${a.threadId}\0${a.highlight}\0${actions}`;
    const outcome = outcomes.get(key);
    if (outcome) outcome.users.push(a.userId);
    else outcomes.set(key, { row: a, actions, users: [a.userId] });
  }
  for (const { row: a, actions, users } of outcomes.values()) {
    w.run(
      `INSERT INTO event_push_actions (user_id, room_id, stream_pos, thread_id, notify, highlight, actions, ts)
       SELECT value, ?, ?, ?, ?, ?, ?, ? FROM json_each(?)`,
      [a.roomId, position, a.threadId, a.notify, a.highlight, actions, a.ts, JSON.stringify(users)],
    );
  }
}

function toAction(row: SqlRow): PushActionRow {
  return {
    userId: String(row.user_id),
    roomId: String(row.room_id),
    eventId: String(row.event_id),
    position: Number(row.stream_pos),
    threadId: String(row.thread_id),
    notify: Number(row.notify) === 1,
    highlight: Number(row.highlight) === 1,
    actions: JSON.parse(String(row.actions)) as PushAction[],
    ts: Number(row.ts),
  };
}

function toPusher(row: SqlRow): PusherRow {
  return {
    userId: String(row.user_id),
    appId: String(row.app_id),
    pushkey: String(row.pushkey),
    kind: String(row.kind),
    deviceId: str(row.device_id),
    appDisplayName: String(row.app_display_name),
    deviceDisplayName: String(row.device_display_name),
    profileTag: str(row.profile_tag),
    lang: String(row.lang),
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
    pushkeyTs: Number(row.pushkey_ts),
  };
}

export function createSqlJsPushStore(db: Database): PushStore {
  // Pushers are read for every recipient of every notifying event and change rarely: cached per
  // user, the whole cache dropped on any pusher write (a write may touch other users' pushers).
  const pushersByUser = new Map<string, PusherRow[]>();
  return {
    userRules(userId) {
      return db.read((r) => readRules(r, userId));
    },

    updateUserRules(userId, update, accountData) {
      return db.write((w) => {
        const next = update(readRules(w, userId));
        writeRules(w, userId, next);
        const position = allocateStreamPosition(w);
        w.run(
          `INSERT INTO account_data (user_id, room_id, type, content, stream_pos) VALUES (?, '', 'm.push_rules', ?, ?)
           ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_pos = excluded.stream_pos`,
          [userId, JSON.stringify(accountData(next)), position],
        );
        return { rules: next, position };
      });
    },

    unreadByThread(userId, roomId, after, upTo) {
      const rows = db.read((r) =>
        r.all(
          `SELECT thread_id, COUNT(*) AS n, SUM(highlight) AS h, MAX(stream_pos) AS p FROM event_push_actions
           WHERE user_id = ? AND room_id = ? AND stream_pos > ? AND stream_pos <= ? AND notify = 1 GROUP BY thread_id`,
          [userId, roomId, after, upTo],
        ),
      );
      return rows.map(
        (row): UnreadCount => ({ threadId: String(row.thread_id), notify: Number(row.n), highlight: Number(row.h ?? 0), lastPosition: Number(row.p) }),
      );
    },

    unreadInThread(userId, roomId, threadId, after, upTo) {
      const row = db.read((r) =>
        r.get(
          `SELECT COUNT(*) AS n, SUM(highlight) AS h FROM event_push_actions
           WHERE user_id = ? AND room_id = ? AND thread_id = ? AND stream_pos > ? AND stream_pos <= ? AND notify = 1`,
          [userId, roomId, threadId, after, upTo],
        ),
      );
      return { notify: Number(row?.n ?? 0), highlight: Number(row?.h ?? 0) };
    },

    roomsWithNotifications(userId, minPosition) {
      return db
        .read((r) => r.all('SELECT DISTINCT room_id FROM event_push_actions WHERE user_id = ? AND stream_pos > ? AND notify = 1', [userId, minPosition]))
        .map((row) => String(row.room_id));
    },

    notifications(userId, opts) {
      const params: (string | number)[] = [userId];
      // The event id is its stream position's (migration 0019).
      let sql = 'SELECT a.*, e.event_id FROM event_push_actions a JOIN events e ON e.stream_pos = a.stream_pos WHERE a.user_id = ? AND a.notify = 1';
      if (opts.before !== null) {
        sql += ' AND a.stream_pos < ?';
        params.push(opts.before);
      }
      if (opts.onlyHighlight) sql += ' AND a.highlight = 1';
      sql += ' ORDER BY a.stream_pos DESC LIMIT ?';
      params.push(opts.limit);
      return db.read((r) => r.all(sql, params)).map(toAction);
    },

    pushers(userId) {
      let rows = pushersByUser.get(userId);
      if (!rows) {
        rows = db.read((r) => r.all('SELECT * FROM pushers WHERE user_id = ? ORDER BY app_id, pushkey', [userId])).map(toPusher);
        if (pushersByUser.size >= 10_000) pushersByUser.clear();
        pushersByUser.set(userId, rows);
      }
      return rows.map((row) => ({ ...row }));
    },

    async setPusher(p, append) {
      pushersByUser.clear();
      await db.write((w) => {
        if (!append) w.run('DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id <> ?', [p.appId, p.pushkey, p.userId]);
        w.run(
          `INSERT INTO pushers (user_id, app_id, pushkey, kind, device_id, app_display_name, device_display_name, profile_tag, lang, data, pushkey_ts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (app_id, pushkey, user_id) DO UPDATE SET kind = excluded.kind, device_id = excluded.device_id,
             app_display_name = excluded.app_display_name, device_display_name = excluded.device_display_name,
             profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data, pushkey_ts = excluded.pushkey_ts`,
          [p.userId, p.appId, p.pushkey, p.kind, p.deviceId, p.appDisplayName, p.deviceDisplayName, p.profileTag, p.lang, JSON.stringify(p.data), p.pushkeyTs],
        );
      });
    },

    deletePusher(userId, appId, pushkey) {
      pushersByUser.clear();
      return db.write((w) => w.run('DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?', [userId, appId, pushkey]).changes > 0);
    },

    async deletePushersForDevice(userId, deviceId) {
      pushersByUser.clear();
      await db.write((w) => w.run('DELETE FROM pushers WHERE user_id = ? AND device_id = ?', [userId, deviceId]));
    },

    async deletePushersForUser(userId) {
      pushersByUser.clear();
      await db.write((w) => w.run('DELETE FROM pushers WHERE user_id = ?', [userId]));
    },
  };
}
