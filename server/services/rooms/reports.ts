/**
 * Reporting content (spec: client-server report_content.yaml, modules/report_content.md): a user
 * reports an event, a room or a user to the server admins, whose reports page reads them back.
 *  - Event reports: the reporter must be joined to the room now (spec v1.8), and the event must
 *    be in that room and visible to them (history visibility); otherwise 404 M_NOT_FOUND, the
 *    same answer for every case so the reply reveals nothing.
 *  - Room reports: the room must be known here (404 otherwise); no membership needed (v1.13).
 *  - User reports: a local user must exist (404 otherwise); remote users are accepted as they
 *    are, and no shared room is needed (v1.14).
 */
import { notFound } from '../../errors.ts';
import type { ListReportsOptions, ReportRecord, ReportsStore } from '../../storage/reports.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import { VisibilityChecker } from './visibility.ts';

export interface ReportsDeps {
  reports: ReportsStore;
  rooms: RoomsStore;
  serverName: string;
  /** Whether a local user id is registered (deactivated users still exist). */
  userExists: (userId: string) => boolean;
  now?: () => number;
}

export class ReportsService {
  private readonly now: () => number;

  constructor(private readonly deps: ReportsDeps) {
    this.now = deps.now ?? Date.now;
  }

  async reportEvent(reporter: string, roomId: string, eventId: string, body: { reason?: string; score?: number }): Promise<number> {
    const { rooms } = this.deps;
    const hidden = (): Error => notFound('The event was not found or you are not joined to the room.');
    if (rooms.member(roomId, reporter)?.membership !== 'join') throw hidden();
    const rec = rooms.getEvent(eventId);
    if (!rec || rec.roomId !== roomId) throw hidden();
    if (!new VisibilityChecker(rooms, roomId, reporter).canSee(rec)) throw hidden();
    return this.deps.reports.add({
      kind: 'event',
      receivedTs: this.now(),
      roomId,
      eventId,
      userId: reporter,
      targetUserId: rec.pdu.sender,
      reason: body.reason ?? null,
      score: body.score ?? null,
    });
  }

  async reportRoom(reporter: string, roomId: string, reason: string): Promise<number> {
    if (!this.deps.rooms.getRoom(roomId)) throw notFound('The room was not found.');
    return this.deps.reports.add({
      kind: 'room',
      receivedTs: this.now(),
      roomId,
      eventId: null,
      userId: reporter,
      targetUserId: null,
      reason,
      score: null,
    });
  }

  async reportUser(reporter: string, userId: string, reason: string): Promise<number> {
    const local = userId.slice(userId.indexOf(':') + 1) === this.deps.serverName;
    if (local && !this.deps.userExists(userId)) throw notFound('The user was not found.');
    return this.deps.reports.add({
      kind: 'user',
      receivedTs: this.now(),
      roomId: null,
      eventId: null,
      userId: reporter,
      targetUserId: userId,
      reason,
      score: null,
    });
  }

  // For the admin's reports page (admin/synapse/reports.ts).
  list(opts: ListReportsOptions): { reports: ReportRecord[]; total: number } {
    return this.deps.reports.list(opts);
  }

  get(id: number): ReportRecord | undefined {
    return this.deps.reports.get(id);
  }

  remove(id: number): Promise<boolean> {
    return this.deps.reports.remove(id);
  }
}
