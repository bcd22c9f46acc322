/**
 * Storage of content reports (spec: client-server report_content.yaml): a user reports an
 * event, a room or another user; the admin's reports page lists, reads and deletes them (the
 * shape of Synapse's admin event_reports API). Implemented by sqljs/reports.ts, migration
 * 0009-reports.sql.
 */

export type ReportKind = 'event' | 'room' | 'user';

export interface NewReport {
  kind: ReportKind;
  receivedTs: number;
  /** The reported room (event and room reports). */
  roomId: string | null;
  /** The reported event (event reports). */
  eventId: string | null;
  /** The reporter. */
  userId: string;
  /** The reported user (user reports), or the sender of the reported event. */
  targetUserId: string | null;
  reason: string | null;
  /** Deprecated severity, -100 (most offensive) to 0. */
  score: number | null;
}

export interface ReportRecord extends NewReport {
  id: number;
}

export interface ListReportsOptions {
  /** Rows to skip (the admin API's `from`). */
  from: number;
  limit: number;
  /** 'b' (default): newest first; 'f': oldest first. */
  dir: 'f' | 'b';
  kind?: ReportKind;
  /** Only reports by this reporter. */
  userId?: string;
  roomId?: string;
}

export interface ReportsStore {
  /** Stores a report; resolves with its id once durable. */
  add(report: NewReport): Promise<number>;
  get(id: number): ReportRecord | undefined;
  list(opts: ListReportsOptions): { reports: ReportRecord[]; total: number };
  /** False when no report has this id. */
  remove(id: number): Promise<boolean>;
}
