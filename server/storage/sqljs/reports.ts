/**
 * sql.js implementation of ReportsStore (storage/reports.ts; table content_reports in
 * migrations/0009-reports.sql). Ids are allocated inside the write transaction, as parameters,
 * so journal replay assigns the same ones.
 */
import type { Database, SqlParam, SqlRow } from '../storage.ts';
import type { ListReportsOptions, NewReport, ReportKind, ReportRecord, ReportsStore } from '../reports.ts';
import { str } from './row.ts';

const COLUMNS = 'id, kind, received_ts, room_id, event_id, user_id, target_user_id, reason, score';

function toRecord(row: SqlRow): ReportRecord {
  return {
    id: Number(row.id),
    kind: String(row.kind) as ReportKind,
    receivedTs: Number(row.received_ts),
    roomId: str(row.room_id),
    eventId: str(row.event_id),
    userId: String(row.user_id),
    targetUserId: str(row.target_user_id),
    reason: str(row.reason),
    score: row.score === null || row.score === undefined ? null : Number(row.score),
  };
}

export function createSqlJsReports(db: Database): ReportsStore {
  return {
    async add(report: NewReport) {
      return db.write((w) => {
        const id = Number(w.get('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM content_reports')!.id);
        w.run(
          `INSERT INTO content_reports (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, report.kind, report.receivedTs, report.roomId, report.eventId, report.userId, report.targetUserId, report.reason, report.score],
        );
        return id;
      });
    },

    get(id: number) {
      const row = db.read((r) => r.get(`SELECT ${COLUMNS} FROM content_reports WHERE id = ?`, [id]));
      return row ? toRecord(row) : undefined;
    },

    list(opts: ListReportsOptions) {
      const where: string[] = [];
      const params: SqlParam[] = [];
      if (opts.kind) {
        where.push('kind = ?');
        params.push(opts.kind);
      }
      if (opts.userId !== undefined) {
        where.push('user_id = ?');
        params.push(opts.userId);
      }
      if (opts.roomId !== undefined) {
        where.push('room_id = ?');
        params.push(opts.roomId);
      }
      const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      const order = opts.dir === 'f' ? 'ASC' : 'DESC';
      return db.read((r) => {
        const total = Number(r.get(`SELECT COUNT(*) AS n FROM content_reports${clause}`, params)?.n ?? 0);
        const rows = r.all(`SELECT ${COLUMNS} FROM content_reports${clause} ORDER BY received_ts ${order}, id ${order} LIMIT ? OFFSET ?`, [
          ...params,
          opts.limit,
          opts.from,
        ]);
        return { reports: rows.map(toRecord), total };
      });
    },

    async remove(id: number) {
      return db.write((w) => w.run('DELETE FROM content_reports WHERE id = ?', [id]).changes === 1);
    },
  };
}
