/**
 * Event reports behind Synapse's admin API (Synapse docs admin_api/event_reports.md): the event
 * reports users filed (services/rooms/reports.ts), each with the room's current name and
 * canonical alias, and the reported event itself on the details page. Room and user reports are
 * not part of Synapse's event_reports API, so they are left out here.
 */
import { stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import { notFound } from '../../errors.ts';
import type { ReportRecord } from '../../storage/reports.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { ReportsService } from '../rooms/reports.ts';
import type { RoomCache } from '../rooms/room-cache.ts';

export interface EventReport {
  report: ReportRecord;
  roomName: string | null;
  canonicalAlias: string | null;
}

export interface ListEventReportsOptions {
  from: number;
  limit: number;
  dir: 'f' | 'b';
  userId?: string;
  roomId?: string;
}

export class SynapseReportsAdmin {
  constructor(
    private readonly reports: ReportsService,
    private readonly rooms: Pick<RoomsStore, 'getEvent'>,
    private readonly cache: Pick<RoomCache, 'get'>,
  ) {}

  list(o: ListEventReportsOptions): { reports: EventReport[]; total: number } {
    const { reports, total } = this.reports.list({ ...o, kind: 'event' });
    return { reports: reports.map((r) => this.describe(r)), total };
  }

  get(id: number): EventReport & { event: StoredPdu | null } {
    const r = this.reports.get(id);
    if (!r || r.kind !== 'event') throw notFound('Event report not found');
    return { ...this.describe(r), event: r.eventId !== null ? (this.rooms.getEvent(r.eventId)?.pdu ?? null) : null };
  }

  async remove(id: number): Promise<void> {
    const r = this.reports.get(id);
    if (!r || r.kind !== 'event' || !(await this.reports.remove(id))) throw notFound('Event report not found');
  }

  private describe(report: ReportRecord): EventReport {
    const state = report.roomId !== null ? this.cache.get(report.roomId)?.state : undefined;
    const name = state?.get(stateMapKey('m.room.name', ''))?.content.name;
    const alias = state?.get(stateMapKey('m.room.canonical_alias', ''))?.content.alias;
    return { report, roomName: typeof name === 'string' ? name : null, canonicalAlias: typeof alias === 'string' ? alias : null };
  }
}
