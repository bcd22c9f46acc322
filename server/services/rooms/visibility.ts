/**
 * History visibility (spec: client-server "History visibility", m.room.history_visibility), one
 * checker per (room, viewer) and request: the visibility in effect at each event and the
 * viewer's membership just before it decide.
 *  1. world_readable → visible.
 *  2. The viewer's membership was join → visible.
 *  3. shared, and the viewer joined at any point after the event → visible.
 *  4. invited, and the viewer's membership was invite → visible.
 *  5. Otherwise hidden.
 * The viewer always sees their own membership events (an invite, kick or ban must reach them).
 * Default visibility without a state event is `shared`. Backfilled history (positions ≤ 0) may
 * predate every history_visibility event of the timeline here, so its own state decides.
 */
import { stateMapKey } from '../../core/events/types.ts';
import type { EventRecord, MembershipChange, RoomsStore } from '../../storage/rooms.ts';

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

function asVisibility(v: unknown): HistoryVisibility {
  return v === 'world_readable' || v === 'invited' || v === 'joined' || v === 'shared' ? v : 'shared';
}

export class VisibilityChecker {
  private visibilities?: { position: number; value: HistoryVisibility }[];
  private history?: MembershipChange[];

  constructor(
    private readonly store: RoomsStore,
    readonly roomId: string,
    readonly userId: string,
  ) {}

  private hvTimeline(): { position: number; value: HistoryVisibility }[] {
    this.visibilities ??= this.store
      .stateEventsOfType(this.roomId, 'm.room.history_visibility')
      .map((e) => ({ position: e.position, value: asVisibility(e.content.history_visibility) }));
    return this.visibilities;
  }

  private memberships(): MembershipChange[] {
    this.history ??= this.store.membershipHistory(this.roomId, this.userId);
    return this.history;
  }

  /** Visibility in effect at an event at `position` (the state including that event). */
  visibilityAt(position: number): HistoryVisibility {
    let v: HistoryVisibility = 'shared';
    for (const e of this.hvTimeline()) {
      if (e.position > position) break;
      v = e.value;
    }
    return v;
  }

  /** The viewer's membership just before `position` ('leave' if none). */
  membershipBefore(position: number): string {
    let m = 'leave';
    for (const e of this.memberships()) {
      if (e.position >= position) break;
      m = e.membership;
    }
    return m;
  }

  /** Whether the viewer has ever had any membership in the room. */
  everMember(): boolean {
    return this.memberships().length > 0;
  }

  /** Current history visibility (latest). */
  currentVisibility(): HistoryVisibility {
    const t = this.hvTimeline();
    return t.length > 0 ? t[t.length - 1]!.value : 'shared';
  }

  /** Visibility in a state group (unknown event: the strictest that still shows joined members). */
  private visibilityIn(group: number): HistoryVisibility {
    const id = this.store.stateGroupIds(group).get(stateMapKey('m.room.history_visibility', ''));
    if (id === undefined) return 'shared';
    const e = this.store.getDagEvent(id);
    return e ? asVisibility(e.pdu.content.history_visibility) : 'joined';
  }

  canSee(rec: Pick<EventRecord, 'position' | 'pdu'> & { stateGroup?: number }): boolean {
    const { pdu, position } = rec;
    if (pdu.type === 'm.room.member' && pdu.state_key === this.userId) return true;
    const hv = position <= 0 && rec.stateGroup !== undefined ? this.visibilityIn(rec.stateGroup) : this.visibilityAt(position);
    if (hv === 'world_readable') return true;
    const m = this.membershipBefore(position);
    if (m === 'join') return true;
    if (hv === 'shared' && this.memberships().some((e) => e.membership === 'join' && e.position > position)) return true;
    if (hv === 'invited' && m === 'invite') return true;
    return false;
  }

  filter<T extends Pick<EventRecord, 'position' | 'pdu'>>(records: T[]): T[] {
    return records.filter((r) => this.canSee(r));
  }
}
