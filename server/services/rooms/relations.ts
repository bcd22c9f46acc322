/**
 * Relations and threads (spec: client-server relations.yaml, threads_list.yaml; modules
 * threading.md, event_replacements.md, reference_relations.md). Children come from the relation
 * index written with each event; the parent and every child pass history visibility.
 * `recurse` follows children of children up to RECURSION_DEPTH (spec allows a server limit).
 */
import { notFound } from '../../errors.ts';
import type { RelationRecord } from '../../storage/rooms.ts';
import { formatPaginationToken, parsePositionToken } from '../sync/tokens.ts';
import type { ClientEventFormatter } from './client-event.ts';
import type { RoomsDeps } from './deps.ts';
import type { ClientEvent, Viewer } from './reader.ts';
import type { EventSender } from './send-event.ts';
import { roomAccess } from './state.ts';
import { VisibilityChecker } from './visibility.ts';

export const RECURSION_DEPTH = 3;

export interface RelationsQuery {
  relType?: string;
  eventType?: string;
  from?: string;
  to?: string;
  limit: number;
  dir: 'b' | 'f';
  recurse?: boolean;
}

export class RelationsService {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    private readonly formatter: ClientEventFormatter,
  ) {}

  private bound(viewer: Viewer, roomId: string): number {
    const access = roomAccess(this.deps, this.sender, roomId, viewer.userId);
    const durable = this.deps.notifier.current;
    return access.upTo === 'current' ? durable : Math.min(durable, access.upTo);
  }

  relations(viewer: Viewer, roomId: string, eventId: string, q: RelationsQuery): {
    chunk: ClientEvent[];
    next_batch?: string;
    prev_batch?: string;
    recursion_depth?: number;
  } {
    const bound = this.bound(viewer, roomId);
    const vis = new VisibilityChecker(this.deps.store, roomId, viewer.userId);
    const parent = this.deps.store.getEvent(eventId);
    if (!parent || parent.roomId !== roomId || parent.position > bound || !vis.canSee(parent)) throw notFound('Event not found');
    const from = q.from !== undefined ? parsePositionToken(q.from) : undefined;
    const to = q.to !== undefined ? parsePositionToken(q.to) : undefined;

    // Children (and, with recurse, their children), merged by position in the requested order.
    let rels: RelationRecord[] = [];
    let frontier = [eventId];
    const depth = q.recurse ? RECURSION_DEPTH : 1;
    for (let d = 0; d < depth && frontier.length > 0; d++) {
      const next: RelationRecord[] = [];
      for (const id of frontier) {
        const children = this.deps.store.relations(id, {
          relType: d === 0 ? q.relType : undefined,
          eventType: d === 0 ? q.eventType : undefined,
          dir: 'f',
          limit: 10000,
        });
        next.push(...children);
      }
      rels.push(...next);
      frontier = next.map((r) => r.eventId);
    }
    if (q.recurse) {
      rels = rels.filter((r) => (q.relType === undefined || r.relType === q.relType) && (q.eventType === undefined || r.type === q.eventType));
    }
    rels = rels.filter((r) => r.position <= bound);
    rels.sort((a, b) => (q.dir === 'f' ? a.position - b.position : b.position - a.position));
    if (from !== undefined) rels = rels.filter((r) => (q.dir === 'f' ? r.position > from : r.position <= from));
    if (to !== undefined) rels = rels.filter((r) => (q.dir === 'f' ? r.position <= to : r.position > to));

    const records = this.deps.store.getEvents(rels.map((r) => r.eventId));
    const picked = [];
    let last: number | undefined;
    let more = false;
    for (const r of rels) {
      const rec = records.get(r.eventId);
      if (!rec || !vis.canSee(rec)) continue;
      if (picked.length === q.limit) {
        more = true;
        break;
      }
      picked.push(rec);
      last = r.position;
    }
    const out: { chunk: ClientEvent[]; next_batch?: string; prev_batch?: string; recursion_depth?: number } = {
      chunk: this.formatter.format(picked, viewer),
    };
    if (more && last !== undefined) out.next_batch = formatPaginationToken(q.dir === 'f' ? last : last - 1);
    if (q.from !== undefined) out.prev_batch = q.from;
    if (q.recurse) out.recursion_depth = RECURSION_DEPTH;
    return out;
  }

  threads(viewer: Viewer, roomId: string, q: { include: 'all' | 'participated'; limit: number; from?: string }): { chunk: ClientEvent[]; next_batch?: string } {
    const bound = this.bound(viewer, roomId);
    const vis = new VisibilityChecker(this.deps.store, roomId, viewer.userId);
    const before = q.from !== undefined ? parsePositionToken(q.from) : bound + 1;
    const roots = this.deps.store.threadRoots(roomId, {
      participant: q.include === 'participated' ? viewer.userId : undefined,
      before,
      limit: q.limit + 1,
    });
    const more = roots.length > q.limit;
    const page = roots.slice(0, q.limit);
    const records = this.deps.store.getEvents(page.map((r) => r.rootId));
    const visible = page.map((r) => records.get(r.rootId)).filter((rec) => rec !== undefined && rec.roomId === roomId && vis.canSee(rec));
    const out: { chunk: ClientEvent[]; next_batch?: string } = { chunk: this.formatter.format(visible as NonNullable<(typeof visible)[number]>[], viewer) };
    if (more) out.next_batch = formatPaginationToken(page[page.length - 1]!.latestPosition);
    return out;
  }
}
