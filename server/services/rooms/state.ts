/**
 * Reading and setting room state (spec: client-server room_state.yaml; rooms.yaml for
 * /state, /state/{type}/{key}, /members, /joined_members). Who may read: a joined member (current
 * state), a former member (the state when they left), anyone in a world_readable room.
 */
import { stateMapKey, parseStateMapKey, type JsonObject } from '../../core/events/types.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { EventRecord } from '../../storage/rooms.ts';
import type { ClientEventFormatter } from './client-event.ts';
import type { RoomsDeps } from './deps.ts';
import type { ClientEvent, Viewer } from './reader.ts';
import type { EventSender } from './send-event.ts';
import { VisibilityChecker } from './visibility.ts';

/** How far a user can see into a room: everything now, or up to the position they left at. */
export type RoomAccess = { upTo: 'current' } | { upTo: number };

/** Access rule shared by state, members, messages and context. Unknown rooms are 403 too, so
 * a room's existence is not revealed (as the specs' 403 responses describe). */
export function roomAccess(deps: RoomsDeps, sender: EventSender, roomId: string, userId: string): RoomAccess {
  const entry = sender.cache.get(roomId);
  if (!entry) throw forbidden('You are not in this room, or it does not exist');
  const member = deps.store.member(roomId, userId);
  if (member?.membership === 'join') return { upTo: 'current' };
  const hv = entry.state.get(stateMapKey('m.room.history_visibility', ''))?.content.history_visibility;
  if (hv === 'world_readable') return { upTo: 'current' };
  if (member && (member.membership === 'leave' || member.membership === 'ban')) {
    // Only someone who had been in the room keeps a view of it.
    const history = deps.store.membershipHistory(roomId, userId);
    if (history.some((h) => h.membership === 'join')) return { upTo: member.position };
  }
  throw forbidden('You are not in this room');
}

export class StateService {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    private readonly formatter: ClientEventFormatter,
  ) {}

  /** (stateMapKey → event id) visible to the viewer. */
  private stateIds(viewer: Viewer, roomId: string, at?: number): Map<string, string> | ReadonlyMap<string, string> {
    const access = roomAccess(this.deps, this.sender, roomId, viewer.userId);
    let upTo = access.upTo === 'current' ? Infinity : access.upTo;
    if (at !== undefined) upTo = Math.min(upTo, at);
    if (upTo === Infinity) {
      const entry = this.sender.cache.get(roomId)!;
      return new Map([...entry.state].map(([k, e]) => [k, e.event_id]));
    }
    const group = this.deps.store.stateGroupAt(roomId, upTo);
    return group === null ? new Map() : this.deps.store.stateGroupIds(group);
  }

  private records(ids: Iterable<string>): EventRecord[] {
    const map = this.deps.store.getEvents([...ids], { outliers: true });
    return [...map.values()].sort((a, b) => a.position - b.position);
  }

  getState(viewer: Viewer, roomId: string): ClientEvent[] {
    return this.formatter.format(this.records(this.stateIds(viewer, roomId).values()), viewer, false);
  }

  getStateEvent(viewer: Viewer, roomId: string, type: string, stateKey: string): ClientEvent {
    const id = this.stateIds(viewer, roomId).get(stateMapKey(type, stateKey));
    const rec = id ? this.deps.store.getEvents([id], { outliers: true }).get(id) : undefined;
    if (!rec) throw notFound('Event not found');
    return this.formatter.formatOne(rec, viewer, false);
  }

  async putState(viewer: Viewer, roomId: string, type: string, stateKey: string, content: JsonObject): Promise<string> {
    const entry = this.sender.cache.get(roomId);
    if (!entry) throw forbidden('You are not in this room, or it does not exist');
    if (type === 'm.room.create') throw forbidden('The create event cannot be replaced');
    // Same sender, same content: return the existing event instead of a duplicate (Synapse does too).
    const existing = entry.state.get(stateMapKey(type, stateKey));
    if (existing && existing.sender === viewer.userId && sameJson(existing.content, content) && type !== 'm.room.member') {
      return existing.event_id;
    }
    if (type === 'm.room.canonical_alias') this.checkCanonicalAlias(roomId, content);
    const sent = await this.sender.send({ roomId, sender: viewer.userId, type, stateKey, content });
    return sent.eventId;
  }

  /** canonical_alias may only name local aliases that point at this room (spec: m.room.canonical_alias, 400 M_BAD_ALIAS). */
  private checkCanonicalAlias(roomId: string, content: JsonObject): void {
    const aliases: unknown[] = [];
    if (content.alias !== undefined && content.alias !== null) aliases.push(content.alias);
    if (Array.isArray(content.alt_aliases)) aliases.push(...content.alt_aliases);
    else if (content.alt_aliases !== undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'alt_aliases must be an array');
    for (const a of aliases) {
      if (typeof a !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Aliases must be strings');
      if (!a.endsWith(`:${this.deps.serverName}`)) continue;
      if (this.deps.store.getAlias(a)?.roomId !== roomId) throw new MatrixError(400, 'M_BAD_ALIAS', `${a} does not point to this room`);
    }
  }

  members(viewer: Viewer, roomId: string, opts: { at?: number; membership?: string; notMembership?: string }): ClientEvent[] {
    const ids: string[] = [];
    for (const [key, id] of this.stateIds(viewer, roomId, opts.at)) {
      if (parseStateMapKey(key)[0] === 'm.room.member') ids.push(id);
    }
    const recs = this.records(ids).filter((r) => {
      const m = r.pdu.content.membership;
      if (opts.membership !== undefined && m !== opts.membership) return false;
      if (opts.notMembership !== undefined && m === opts.notMembership) return false;
      return true;
    });
    return this.formatter.format(recs, viewer, false);
  }

  joinedMembers(viewer: Viewer, roomId: string): Record<string, { display_name?: string; avatar_url?: string }> {
    const entry = this.sender.cache.get(roomId);
    if (!entry || this.deps.store.member(roomId, viewer.userId)?.membership !== 'join') throw forbidden('You are not in this room');
    const out: Record<string, { display_name?: string; avatar_url?: string }> = {};
    for (const u of entry.joined) {
      const c = entry.state.get(stateMapKey('m.room.member', u))?.content ?? {};
      const m: { display_name?: string; avatar_url?: string } = {};
      if (typeof c.displayname === 'string') m.display_name = c.displayname;
      if (typeof c.avatar_url === 'string') m.avatar_url = c.avatar_url;
      out[u] = m;
    }
    return out;
  }

  joinedRooms(userId: string): string[] {
    return this.deps.store
      .roomsOfUser(userId)
      .filter((m) => m.membership === 'join')
      .map((m) => m.roomId);
  }

  /** A visibility checker for the viewer (messages, context, relations). */
  visibility(roomId: string, userId: string): VisibilityChecker {
    return new VisibilityChecker(this.deps.store, roomId, userId);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}
