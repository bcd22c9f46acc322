/**
 * The space hierarchy (spec: client-server space_hierarchy.yaml, modules/spaces.md "Discovering
 * rooms within spaces"; server-server space_hierarchy.yaml). The client walk follows Synapse's:
 *  1. The root must be accessible to the requester, else 403 M_FORBIDDEN (also when unknown).
 *  2. Depth first: pop the last queued room; skip it if already processed (loops, and rooms that
 *     appear twice); summarise it if the requester may see it (accessible(), below).
 *     A room this server is not in is asked for over federation (hierarchy-remote.ts) from the
 *     servers in its m.space.child `via` (for the root: the server in its room id, if any), once
 *     per request; a summary the parent's answer already gave is used instead for non-spaces and
 *     at max_depth. The user must be able to see the remote room too (remoteAccessible()). A
 *     remote failure only leaves that room out.
 *  3. A space's children are its m.space.child state events with a non-empty `via` (only
 *     `suggested: true` ones with suggested_only), in the spec's order ("Ordering of children
 *     within a space"). They are queued in reverse, so the first child is walked next, unless the
 *     room is at max_depth. children_state is empty for rooms that are not spaces.
 *  4. Stop at `limit` rooms; what remains queued is kept in a pagination session (in memory,
 *     five minutes, bound to the user, root, suggested_only and max_depth) named by next_batch.
 * The federation answer (forServer) is the room and its direct children this server is in, as
 * far as the requesting server may see them (the same accessible(), with a server as viewer).
 */
import { randomBytes } from 'node:crypto';
import { redactEvent } from '../../core/events/redaction.ts';
import { stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import { hasUserOn, roomIdServerName, userIdServerName } from '../../core/ids.ts';
import { getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import { fetchRemoteHierarchy, type RemoteHierarchy, type RemoteHierarchySource } from './hierarchy-remote.ts';

export interface ChildStateEvent {
  type: 'm.space.child';
  state_key: string;
  content: Record<string, unknown>;
  sender: string;
  origin_server_ts: number;
}

/** room_summary.yaml plus children_state (SpaceHierarchyRoomsChunk). */
export interface HierarchyRoom {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  avatar_url?: string;
  canonical_alias?: string;
  join_rule?: string;
  room_type?: string;
  allowed_room_ids?: string[];
  encryption?: string;
  /** Always set for our rooms; remote servers may leave it out. */
  room_version?: string;
  children_state: ChildStateEvent[];
}

/** The federation answer (server-server space_hierarchy.yaml, 200). */
export interface FederationHierarchy {
  room: HierarchyRoom;
  children: HierarchyRoom[];
  inaccessible_children: string[];
}

/** Who looks: a local user (client API) or another server (federation API). */
type Viewer = { user: string } | { server: string };

export interface HierarchyRequest {
  suggestedOnly: boolean;
  /** Absent: DEFAULT_MAX_DEPTH. */
  maxDepth?: number;
  /** Absent: DEFAULT_LIMIT. */
  limit?: number;
  from?: string;
}

export interface HierarchyPage {
  rooms: HierarchyRoom[];
  next_batch?: string;
}

export interface HierarchyDeps {
  rooms: RoomsStore;
  now?: () => number;
  newToken?: () => string;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
export const DEFAULT_MAX_DEPTH = 50;
export const MAX_MAX_DEPTH = 50;
const SESSION_TTL_MS = 5 * 60 * 1000;
const MAX_SESSIONS = 1000;
/** Time one client /hierarchy request may spend asking other servers about rooms we are not in. */
const REMOTE_BUDGET_MS = 10_000;
/** Synapse's MAX_ROOMS_PER_SPACE: children summarised in one federation answer. */
const MAX_CHILDREN_PER_ANSWER = 50;

interface QueueEntry {
  roomId: string;
  depth: number;
  /** Servers to ask if this server is not in the room. */
  via: readonly string[];
  /** The room's summary from its parent's federation answer. */
  remote?: HierarchyRoom;
}

interface Session {
  userId: string;
  roomId: string;
  suggestedOnly: boolean;
  maxDepth: number;
  queue: QueueEntry[];
  processed: Set<string>;
  expires: number;
}

/** A valid `order` of m.space.child: at most 50 characters, each in \x20–\x7E. */
function validOrder(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 50 && /^[\x20-\x7E]*$/.test(v);
}

/** Spec "Ordering of children within a space". */
export function compareChildren(a: ChildStateEvent, b: ChildStateEvent): number {
  const ao = validOrder(a.content.order) ? a.content.order : undefined;
  const bo = validOrder(b.content.order) ? b.content.order : undefined;
  if (ao !== undefined && bo === undefined) return -1;
  if (ao === undefined && bo !== undefined) return 1;
  if (ao !== undefined && bo !== undefined && ao !== bo) return ao < bo ? -1 : 1;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
  return a.state_key < b.state_key ? -1 : a.state_key > b.state_key ? 1 : 0;
}

function hasValidVia(content: Record<string, unknown>): boolean {
  const via = content.via;
  return Array.isArray(via) && via.length > 0 && via.every((s) => typeof s === 'string' && s.length > 0);
}

/** Step 3: the children worth walking, in the spec's order. */
function selectChildren(candidates: ChildStateEvent[], suggestedOnly: boolean): ChildStateEvent[] {
  return candidates.filter((c) => hasValidVia(c.content) && (!suggestedOnly || c.content.suggested === true)).sort(compareChildren);
}

/** A summary another server gave, with only the children this walk follows. */
function remoteSummary(room: HierarchyRoom, suggestedOnly: boolean): HierarchyRoom {
  return { ...room, children_state: selectChildren(room.children_state, suggestedOnly) };
}

/** Current state of a local room, redacted events in their redacted form, and its members by
 * membership (gathered while the state loads, so checks need not scan it again). */
interface LocalRoom {
  roomId: string;
  version: RoomVersion;
  versionId: string;
  state: Map<string, StoredPdu>;
  joined: Set<string>;
  invited: Set<string>;
}

export class SpaceHierarchy {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private readonly newToken: () => string;

  private remote?: RemoteHierarchySource;

  constructor(private readonly deps: HierarchyDeps) {
    this.now = deps.now ?? Date.now;
    this.newToken = deps.newToken ?? (() => randomBytes(18).toString('base64url'));
  }

  /** Lets the client walk ask other servers about rooms this server is not in. */
  useFederation(source: RemoteHierarchySource): void {
    this.remote = source;
  }

  async getHierarchy(userId: string, rootId: string, req: HierarchyRequest): Promise<HierarchyPage> {
    const maxDepth = Math.min(req.maxDepth ?? DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH);
    const limit = Math.min(req.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const viewer = { user: userId };
    // Federation answers of this request, by room id (a room can be reached twice), all asked
    // within one time budget: past it, rooms this server is not in are left out of the page.
    const answers = new Map<string, Promise<RemoteHierarchy | undefined>>();
    const deadline = Date.now() + REMOTE_BUDGET_MS;
    const ask = (roomId: string, via: readonly string[]): Promise<RemoteHierarchy | undefined> => {
      let answer = answers.get(roomId);
      if (!answer) {
        answer = this.remote ? fetchRemoteHierarchy(this.remote, roomId, via, req.suggestedOnly, deadline) : Promise.resolve(undefined);
        answers.set(roomId, answer);
      }
      return answer;
    };
    // Step 1.
    const rootVia = [roomIdServerName(rootId)].filter((s): s is string => s !== undefined);
    const root = this.loadRoom(rootId);
    const rootVisible = root
      ? this.accessible(root, viewer)
      : this.remoteAccessible((await ask(rootId, rootVia))?.room, userId);
    if (!rootVisible) throw forbidden('You are not allowed to view this room.');

    let queue: QueueEntry[];
    let processed: Set<string>;
    if (req.from !== undefined) {
      this.expireSessions();
      const s = this.sessions.get(req.from);
      if (!s || s.userId !== userId || s.roomId !== rootId) throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
      if (s.suggestedOnly !== req.suggestedOnly || s.maxDepth !== maxDepth) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'suggested_only and max_depth cannot change on paginated requests');
      }
      queue = [...s.queue];
      processed = new Set(s.processed);
    } else {
      queue = [{ roomId: rootId, depth: 0, via: rootVia }];
      processed = new Set();
    }

    // Steps 2–3.
    const rooms: HierarchyRoom[] = [];
    while (queue.length > 0 && rooms.length < limit) {
      const entry = queue.pop()!;
      if (processed.has(entry.roomId)) continue;
      processed.add(entry.roomId);
      let summary: HierarchyRoom | undefined;
      let answer: RemoteHierarchy | undefined;
      const room = entry.roomId === rootId ? root : this.loadRoom(entry.roomId);
      if (room) {
        if (this.accessible(room, viewer)) summary = this.summarise(room, req.suggestedOnly);
      } else if (entry.remote && (entry.remote.room_type !== 'm.space' || entry.depth >= maxDepth)) {
        summary = remoteSummary(entry.remote, req.suggestedOnly);
      } else {
        answer = await ask(entry.roomId, entry.via);
        if (answer) summary = remoteSummary(answer.room, req.suggestedOnly);
      }
      if (!summary || (!room && !this.remoteAccessible(summary, userId))) continue;
      rooms.push(summary);
      if (entry.depth < maxDepth) {
        for (let i = summary.children_state.length - 1; i >= 0; i--) {
          const child = summary.children_state[i]!;
          if (answer?.inaccessible.has(child.state_key)) continue;
          queue.push({ roomId: child.state_key, depth: entry.depth + 1, via: child.content.via as string[], remote: answer?.children.get(child.state_key) });
        }
      }
    }

    // Step 4.
    while (queue.length > 0 && processed.has(queue[queue.length - 1]!.roomId)) queue.pop();
    const page: HierarchyPage = { rooms };
    if (queue.length > 0) {
      const token = this.newToken();
      this.expireSessions();
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
      this.sessions.set(token, {
        userId,
        roomId: rootId,
        suggestedOnly: req.suggestedOnly,
        maxDepth,
        queue,
        processed,
        expires: this.now() + SESSION_TTL_MS,
      });
      page.next_batch = token;
    }
    return page;
  }

  /** The federation answer for `origin` (server-server space_hierarchy.yaml); 404 when unknown or not visible to it. */
  forServer(origin: string, roomId: string, suggestedOnly: boolean): FederationHierarchy {
    const viewer = { server: origin };
    const root = this.loadRoom(roomId);
    if (!root || !this.accessible(root, viewer)) throw notFound('Room not found.');
    const room = this.summarise(root, suggestedOnly);
    const children: HierarchyRoom[] = [];
    const inaccessible: string[] = [];
    for (const child of room.children_state.slice(0, MAX_CHILDREN_PER_ANSWER)) {
      // Rooms this server is not in are left out: the requester asks their own via servers.
      const c = this.loadRoom(child.state_key);
      if (!c) continue;
      if (this.accessible(c, viewer)) children.push(this.summarise(c, suggestedOnly));
      else inaccessible.push(child.state_key);
    }
    return { room, children, inaccessible_children: inaccessible };
  }

  private expireSessions(): void {
    const now = this.now();
    for (const [token, s] of this.sessions) if (s.expires <= now) this.sessions.delete(token);
  }

  /**
   * A room this server knows. With federation, only rooms one of our users is joined to: the
   * state of a room everyone here left is stale, so it is asked for like an unknown room.
   */
  private loadRoom(roomId: string): LocalRoom | undefined {
    const { rooms } = this.deps;
    const record = rooms.getRoom(roomId);
    const version = record ? getRoomVersion(record.roomVersion) : undefined;
    if (!record || !version) return undefined;
    const ids = rooms.currentStateIds(roomId);
    if (ids.size === 0) return undefined;
    // Outliers too: the state a federated join brought in is stored outside the timeline.
    const records = rooms.getEvents([...ids.values()], { outliers: true });
    const state = new Map<string, StoredPdu>();
    const joined = new Set<string>();
    const invited = new Set<string>();
    for (const [key, id] of ids) {
      const rec = records.get(id);
      if (!rec) continue;
      const pdu = rec.redactedBy !== null ? (redactEvent(version, rec.pdu) as unknown as StoredPdu) : rec.pdu;
      state.set(key, pdu);
      if (pdu.type !== 'm.room.member' || typeof pdu.state_key !== 'string') continue;
      if (pdu.content.membership === 'join') joined.add(pdu.state_key);
      else if (pdu.content.membership === 'invite') invited.add(pdu.state_key);
    }
    if (this.remote && !hasUserOn(this.remote.serverName, joined)) return undefined;
    return { roomId, version, versionId: record.roomVersion, state, joined, invited };
  }

  private content(room: LocalRoom, type: string, stateKey = ''): Record<string, unknown> | undefined {
    return room.state.get(stateMapKey(type, stateKey))?.content as Record<string, unknown> | undefined;
  }

  /**
   * The rooms the spec says /hierarchy returns (space_hierarchy.yaml, `rooms`). A server sees
   * what any of its users could: rooms one of them is joined or invited to, or may join.
   */
  private accessible(room: LocalRoom, viewer: Viewer): boolean {
    const member = 'user' in viewer ? (users: Set<string>) => users.has(viewer.user) : (users: Set<string>) => hasUserOn(viewer.server, users);
    if (member(room.joined) || member(room.invited)) return true;
    const joinRule = this.content(room, 'm.room.join_rules')?.join_rule;
    if (joinRule === 'public') return true;
    if (joinRule === 'knock' && room.version.knockJoinRule) return true;
    if (joinRule === 'knock_restricted' && room.version.knockRestrictedJoinRule) return true;
    if (this.content(room, 'm.room.history_visibility')?.history_visibility === 'world_readable') return true;
    const restricted =
      (joinRule === 'restricted' && room.version.restrictedJoinRule) || (joinRule === 'knock_restricted' && room.version.knockRestrictedJoinRule);
    if (restricted) return this.allowedRoomIds(room).some((id) => this.joinedTo(id, viewer));
    return false;
  }

  private joinedTo(roomId: string, viewer: Viewer): boolean {
    if ('user' in viewer) return this.deps.rooms.member(roomId, viewer.user)?.membership === 'join';
    return this.deps.rooms.members(roomId).some((m) => m.membership === 'join' && userIdServerName(m.userId) === viewer.server);
  }

  /**
   * Whether a user may see a room summary a remote server gave (Synapse's
   * _is_remote_room_accessible): open to anyone, or joinable through one of the user's rooms, or
   * the user's own membership here (a pending invite) says so.
   */
  private remoteAccessible(summary: HierarchyRoom | undefined, userId: string): boolean {
    if (!summary) return false;
    const rule = summary.join_rule;
    if (rule === 'public' || rule === 'knock' || rule === 'knock_restricted' || summary.world_readable) return true;
    if (summary.allowed_room_ids?.some((id) => this.joinedTo(id, { user: userId }))) return true;
    const membership = this.deps.rooms.member(summary.room_id, userId)?.membership;
    return membership === 'join' || membership === 'invite';
  }

  private allowedRoomIds(room: LocalRoom): string[] {
    const allow = this.content(room, 'm.room.join_rules')?.allow;
    if (!Array.isArray(allow)) return [];
    const out: string[] = [];
    for (const a of allow) {
      if (a && typeof a === 'object' && (a as Record<string, unknown>).type === 'm.room_membership') {
        const id = (a as Record<string, unknown>).room_id;
        if (typeof id === 'string') out.push(id);
      }
    }
    return out;
  }

  private summarise(room: LocalRoom, suggestedOnly: boolean): HierarchyRoom {
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
    const create = this.content(room, 'm.room.create');
    const joinRules = this.content(room, 'm.room.join_rules');
    const out: HierarchyRoom = {
      room_id: room.roomId,
      num_joined_members: room.joined.size,
      world_readable: this.content(room, 'm.room.history_visibility')?.history_visibility === 'world_readable',
      guest_can_join: this.content(room, 'm.room.guest_access')?.guest_access === 'can_join',
      room_version: room.versionId,
      children_state: [],
    };
    const name = str(this.content(room, 'm.room.name')?.name);
    if (name !== undefined) out.name = name;
    const topic = str(this.content(room, 'm.room.topic')?.topic);
    if (topic !== undefined) out.topic = topic;
    const avatar = str(this.content(room, 'm.room.avatar')?.url);
    if (avatar !== undefined) out.avatar_url = avatar;
    const alias = str(this.content(room, 'm.room.canonical_alias')?.alias);
    if (alias !== undefined) out.canonical_alias = alias;
    const joinRule = str(joinRules?.join_rule);
    if (joinRule !== undefined) out.join_rule = joinRule;
    const roomType = str(create?.type);
    if (roomType !== undefined) out.room_type = roomType;
    if (joinRule === 'restricted' || joinRule === 'knock_restricted') {
      const allowed = this.allowedRoomIds(room);
      if (allowed.length > 0) out.allowed_room_ids = allowed;
    }
    const encryption = str(this.content(room, 'm.room.encryption')?.algorithm);
    if (encryption !== undefined) out.encryption = encryption;

    if (roomType === 'm.space') {
      const children: ChildStateEvent[] = [];
      for (const pdu of room.state.values()) {
        if (pdu.type !== 'm.space.child' || typeof pdu.state_key !== 'string' || pdu.state_key === '') continue;
        const content = pdu.content as Record<string, unknown>;
        children.push({ type: 'm.space.child', state_key: pdu.state_key, content, sender: pdu.sender, origin_server_ts: pdu.origin_server_ts });
      }
      out.children_state = selectChildren(children, suggestedOnly);
    }
    return out;
  }
}
