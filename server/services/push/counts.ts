/**
 * Push evaluation and unread counts (spec client-server "Push Notifications" → "Server
 * behaviour", "Receiving notifications", "Marking notifications as read"; notifications.yaml).
 *
 * For every event about to be stored, each local joined member except the sender (plus a local
 * invitee) has their push rules evaluated; the notifying results are written in the event's own
 * transaction (services/rooms/send-event.ts), with its stream position and thread, so the count
 * is in the same /sync as the event ("MUST appear in the same /sync response as the event
 * itself") and a crash cannot keep one without the other. Once the event is durable, the users'
 * pushers are poked.
 *
 * Counts are "since the read receipt": the unthreaded receipt (the later of m.read and
 * m.read.private) clears everything up to it; a threaded receipt clears its thread further
 * ('main' is the main timeline). An event belongs to a thread when it has an m.thread relation,
 * or relates (up to 3 hops, per the spec's recommendation) to an event that does.
 */
import { readPowerLevels, userPowerLevel, type PowerLevels } from '../../core/auth/power-levels.ts';
import { DEFAULT_ROOM_VERSION, getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import { evaluatePushRules, type CompiledRuleset, type PushContext, type PushVerdict } from '../../core/push/evaluate.ts';
import { stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import type { NewPushAction, PushStore } from '../../storage/push.ts';
import type { UnreadCountsSource } from '../sync/sources.ts';

export interface PushCountsDeps {
  store: PushStore;
  rules: { compiled(userId: string): CompiledRuleset };
  rooms: {
    joinedMembers(roomId: string): string[];
    /** Whether the user is joined to the room (a lookup, without copying the member list). */
    isJoined(roomId: string, userId: string): boolean;
    /** The user's display name in the room (m.room.member displayname), or null. */
    displayName(roomId: string, userId: string): string | null;
    /** The room's current power levels (core/auth/power-levels.ts readPowerLevels). */
    powerLevels(roomId: string): PowerLevels;
    /** Content of a stored event, to follow relations to a thread (optional: one hop without it). */
    eventContent?(eventId: string): Record<string, unknown> | undefined;
  };
  isLocalUser(userId: string): boolean;
  /**
   * Stream position of the event the user's receipt points at, or null: threadId undefined is
   * the unthreaded receipt (the later of m.read and m.read.private), 'main' the main timeline's
   * threaded receipt, else the thread root's id.
   */
  readReceiptPosition(userId: string, roomId: string, threadId?: string): number | null;
  /** Pokes the user's pushers (services/push/pushers.ts); optional so counts work without them. */
  onNotified?(userId: string, pdu: StoredPdu, verdict: PushVerdict): void;
  /** The event as the user sees it (for GET /notifications), or undefined when gone/invisible. */
  eventForUser?(userId: string, eventId: string): Record<string, unknown> | undefined;
  now(): number;
  onError?(err: unknown): void;
}

/** An event's notifying push results, stored with the event; `durable` runs once it is on disk. */
export interface PreparedPush {
  actions: NewPushAction[];
  durable(): void;
}

export interface Counts {
  notification_count: number;
  highlight_count: number;
  threads?: Record<string, { notification_count: number; highlight_count: number }>;
}

export interface NotificationsPage {
  notifications: { actions: unknown[]; event: Record<string, unknown>; read: boolean; room_id: string; ts: number; profile_tag?: string }[];
  next_token?: string;
}

const MAX_THREAD_HOPS = 3;
const DEFAULT_VERSION = getRoomVersion(DEFAULT_ROOM_VERSION) as RoomVersion;

function relatesTo(content: unknown): { rel_type?: unknown; event_id?: unknown } | undefined {
  if (!content || typeof content !== 'object') return undefined;
  const r = (content as Record<string, unknown>)['m.relates_to'];
  return r && typeof r === 'object' && !Array.isArray(r) ? (r as { rel_type?: unknown; event_id?: unknown }) : undefined;
}

/** How long counts kept in memory are trusted before a full recount (a safety net: the purges that
 * delete rows behind them call invalidateRoom). */
const TALLY_TTL_MS = 5 * 60_000;
const MAX_TALLIES = 20_000;

/** Notifying rows of one (user, room) after a receipt position, per thread, up to `upTo`. */
interface Tally {
  after: number;
  upTo: number;
  byThread: Map<string, { notify: number; highlight: number }>;
  countedAt: number;
}

export class PushCounts implements UnreadCountsSource {
  /** Counts kept between syncs, so each sync counts only the rows added since the last one
   * (a room with thousands unread would otherwise be counted in full at every sync). */
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly deps: PushCountsDeps) {}

  /** Per-thread notifying rows after `after`: the kept tally plus the rows newer than it. Rows are
   * written with increasing stream positions, so "newer than upTo" misses none. */
  private unreadSince(userId: string, roomId: string, after: number, upTo: number): { threadId: string; notify: number; highlight: number }[] {
    const key = `${userId}\u0000${roomId}`;
    const now = this.deps.now();
    let tally = this.tallies.get(key);
    // A sync whose bound is older than the kept count (another device's, begun earlier) counts
    // its own range, so it reports nothing it will not also show.
    if (tally && tally.after === after && upTo < tally.upTo) {
      return this.deps.store.unreadByThread(userId, roomId, after, upTo);
    }
    if (!tally || tally.after !== after || now - tally.countedAt > TALLY_TTL_MS) {
      tally = { after, upTo: after, byThread: new Map(), countedAt: now };
      if (this.tallies.size >= MAX_TALLIES) this.tallies.clear();
    }
    this.tallies.delete(key);
    this.tallies.set(key, tally);
    for (const g of this.deps.store.unreadByThread(userId, roomId, tally.upTo, upTo)) {
      const t = tally.byThread.get(g.threadId) ?? { notify: 0, highlight: 0 };
      tally.byThread.set(g.threadId, { notify: t.notify + g.notify, highlight: t.highlight + g.highlight });
      if (g.lastPosition > tally.upTo) tally.upTo = g.lastPosition;
    }
    return [...tally.byThread].map(([threadId, t]) => ({ threadId, ...t }));
  }

  /** Forgets the counts kept for a room, whose push action rows a purge of its history (or of the
   * whole room) deleted: the next sync counts it afresh. Purges are rare, so a scan is fine. */
  invalidateRoom(roomId: string): void {
    const suffix = `\u0000${roomId}`;
    for (const key of this.tallies.keys()) if (key.endsWith(suffix)) this.tallies.delete(key);
  }

  /** PushEvaluator (services/rooms/send-event.ts): the event's notifying results, to be stored
   * with it, and what to do once it is durable; undefined when nobody is notified. Never throws:
   * a failed evaluation is reported and the event is sent without notifications. */
  prepare(pdu: StoredPdu): PreparedPush | undefined {
    try {
      const { actions, verdicts } = this.evaluate(pdu);
      if (actions.length === 0) return undefined;
      return { actions, durable: () => { for (const [userId, verdict] of verdicts) this.deps.onNotified?.(userId, pdu, verdict); } };
    } catch (err) {
      this.deps.onError?.(err);
      return undefined;
    }
  }

  /** Evaluates one event's push rules for its local recipients. */
  private evaluate(pdu: StoredPdu): { actions: NewPushAction[]; verdicts: [string, PushVerdict][] } {
    const actions: NewPushAction[] = [];
    const verdicts: [string, PushVerdict][] = [];
    if (pdu.room_id === undefined) return { actions, verdicts };
    const roomId = pdu.room_id;
    const members = this.deps.rooms.joinedMembers(roomId);
    const recipients = new Set(members.filter((u) => u !== pdu.sender && this.deps.isLocalUser(u)));
    if (pdu.type === 'm.room.member' && pdu.content.membership === 'invite' && typeof pdu.state_key === 'string') {
      if (pdu.state_key !== pdu.sender && this.deps.isLocalUser(pdu.state_key)) recipients.add(pdu.state_key);
    }
    if (recipients.size === 0) return { actions, verdicts };

    let pl: PowerLevels | undefined;
    let senderLevel: number | undefined;
    const powerLevels = (): PowerLevels => (pl ??= this.deps.rooms.powerLevels(roomId));
    const memberCount = members.length;
    const ts = this.deps.now();
    let threadId: string | undefined;
    for (const userId of recipients) {
      const ctx: PushContext = {
        userId,
        memberCount: () => memberCount,
        displayName: () => this.deps.rooms.displayName(roomId, userId),
        senderPowerLevel: () => (senderLevel ??= userPowerLevel(powerLevels(), pdu.sender)),
        notificationPowerLevel: (key) => powerLevels().notifications.get(key) ?? 50,
      };
      const verdict = evaluatePushRules(this.deps.rules.compiled(userId), pdu, ctx);
      if (!verdict.notify) continue;
      threadId ??= this.threadOf(pdu);
      actions.push({ userId, roomId, threadId, notify: true, highlight: verdict.highlight, actions: verdict.actions, ts });
      verdicts.push([userId, verdict]);
    }
    return { actions, verdicts };
  }

  /** UnreadCountsSource: `notification_count`/`highlight_count` cover the whole room (all threads);
   * `threads` has the per-thread part (main timeline excluded), so main = total − Σ threads. */
  counts(userId: string, roomId: string, upTo = Number.MAX_SAFE_INTEGER): Counts {
    const unthreaded = this.deps.readReceiptPosition(userId, roomId) ?? 0;
    let n = 0;
    let h = 0;
    let threads: Counts['threads'];
    for (const g of this.unreadSince(userId, roomId, unthreaded, upTo)) {
      let c = { notify: g.notify, highlight: g.highlight };
      const threaded = this.deps.readReceiptPosition(userId, roomId, g.threadId === '' ? 'main' : g.threadId);
      if (threaded !== null && threaded > unthreaded) c = this.deps.store.unreadInThread(userId, roomId, g.threadId, threaded, upTo);
      if (c.notify === 0) continue;
      n += c.notify;
      h += c.highlight;
      if (g.threadId !== '') (threads ??= {})[g.threadId] = { notification_count: c.notify, highlight_count: c.highlight };
    }
    return threads ? { notification_count: n, highlight_count: h, threads } : { notification_count: n, highlight_count: h };
  }

  /**
   * Unread notifications across the rooms the user is a member of (push gateway `counts.unread`):
   * rows for a room they left, or one an admin deleted without purging it, stay stored but count
   * no more.
   */
  totalUnread(userId: string): number {
    let total = 0;
    for (const roomId of this.deps.store.roomsWithNotifications(userId, 0)) {
      if (this.deps.rooms.isJoined(roomId, userId)) total += this.counts(userId, roomId).notification_count;
    }
    return total;
  }

  /** GET /notifications: newest first; `from` is a previous `next_token`. */
  notifications(userId: string, opts: { from?: string; limit: number; onlyHighlight: boolean }): NotificationsPage {
    const before = opts.from !== undefined && /^\d{1,15}$/.test(opts.from) ? Number(opts.from) : null;
    const out: NotificationsPage['notifications'] = [];
    const rows = this.deps.store.notifications(userId, { before, limit: opts.limit, onlyHighlight: opts.onlyHighlight });
    let last: number | null = null;
    const readUpTo = new Map<string, number>();
    const readPoint = (roomId: string, threadId: string): number => {
      const key = `${roomId}\u0000${threadId}`;
      let p = readUpTo.get(key);
      if (p === undefined) {
        const u = this.deps.readReceiptPosition(userId, roomId) ?? 0;
        const t = this.deps.readReceiptPosition(userId, roomId, threadId === '' ? 'main' : threadId) ?? 0;
        p = Math.max(u, t);
        readUpTo.set(key, p);
      }
      return p;
    };
    for (const row of rows) {
      last = row.position;
      const event = this.deps.eventForUser ? this.deps.eventForUser(userId, row.eventId) : undefined;
      if (!event) continue;
      out.push({ actions: row.actions, event, read: row.position <= readPoint(row.roomId, row.threadId), room_id: row.roomId, ts: row.ts });
    }
    const page: NotificationsPage = { notifications: out };
    if (rows.length === opts.limit && last !== null) page.next_token = String(last);
    return page;
  }

  /** Thread root of an event: its m.thread relation, else the thread of the event it relates to. */
  private threadOf(pdu: StoredPdu): string {
    let content: unknown = pdu.content;
    for (let hop = 0; hop < MAX_THREAD_HOPS; hop++) {
      const rel = relatesTo(content);
      if (!rel || typeof rel.event_id !== 'string') return '';
      if (rel.rel_type === 'm.thread') return rel.event_id;
      content = this.deps.rooms.eventContent?.(rel.event_id);
    }
    return '';
  }
}

/**
 * `readReceiptPosition` for PushCountsDeps from the receipts store (SyncDataStore.userReceipts)
 * and an event → stream position lookup: the later of `m.read` and `m.read.private` (spec
 * "Marking notifications as read"), unthreaded when threadId is undefined.
 */
export function readReceiptPositionFrom(src: {
  userReceipts(userId: string, roomId: string): readonly { receiptType: string; threadId: string | null; eventId: string }[];
  eventPosition(eventId: string): number | undefined;
}): PushCountsDeps['readReceiptPosition'] {
  return (userId, roomId, threadId) => {
    let best: number | null = null;
    for (const r of src.userReceipts(userId, roomId)) {
      if (r.receiptType !== 'm.read' && r.receiptType !== 'm.read.private') continue;
      if ((r.threadId ?? undefined) !== threadId) continue;
      const p = src.eventPosition(r.eventId);
      if (p !== undefined && (best === null || p > best)) best = p;
    }
    return best;
  };
}

/** A room's current state as the rooms service caches it (services/rooms/room-cache.ts RoomEntry). */
export interface RoomStateView {
  version: RoomVersion;
  /** stateMapKey(type, state_key) → event. */
  state: ReadonlyMap<string, StoredPdu>;
  joined: ReadonlySet<string>;
}

/** The `rooms` dependencies of PushCounts and Pushers from a current-state lookup. */
export function pushRoomViewFrom(current: (roomId: string) => RoomStateView | undefined): PushCountsDeps['rooms'] & {
  roomName(roomId: string): string | null;
  canonicalAlias(roomId: string): string | null;
} {
  const stateContent = (roomId: string, type: string, stateKey: string): Record<string, unknown> | undefined =>
    current(roomId)?.state.get(stateMapKey(type, stateKey))?.content as Record<string, unknown> | undefined;
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  return {
    joinedMembers: (roomId) => [...(current(roomId)?.joined ?? [])],
    isJoined: (roomId, userId) => current(roomId)?.joined.has(userId) ?? false,
    displayName: (roomId, userId) => str(stateContent(roomId, 'm.room.member', userId)?.displayname),
    powerLevels: (roomId) => {
      const room = current(roomId);
      if (!room) return readPowerLevels(DEFAULT_VERSION, undefined, undefined);
      return readPowerLevels(room.version, room.state.get(stateMapKey('m.room.create', '')), room.state.get(stateMapKey('m.room.power_levels', '')));
    },
    roomName: (roomId) => str(stateContent(roomId, 'm.room.name', '')?.name),
    canonicalAlias: (roomId) => str(stateContent(roomId, 'm.room.canonical_alias', '')?.alias),
  };
}
