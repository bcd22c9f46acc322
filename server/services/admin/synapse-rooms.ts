/**
 * Room administration behind Synapse's admin API (Synapse docs admin_api/rooms.md): the room
 * list and details, members and state, blocking, the v2 delete (shutdown: block, move local users
 * and aliases to a new room, make them leave and forget, then purge) with its status, and
 * make_room_admin. Everything a room does goes through the rooms services, as the users
 * themselves would do it; only the purge removes rows directly (AdminStore.purgeRoom).
 */
import { randomBytes } from 'node:crypto';
import { parseStateMapKey, stateMapKey } from '../../core/events/types.ts';
import { isValidRoomId, isValidUserId } from '../../core/ids.ts';
import { readPowerLevels, requiredPowerLevel, userPowerLevel } from '../../core/auth/power-levels.ts';
import { MatrixError, notFound } from '../../errors.ts';
import { errorText } from '../../error-text.ts';
import type { AdminStore, RoomDeletion, ShutdownRoomResult } from '../../storage/admin.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { RoomsServices } from '../rooms/rooms.ts';
import type { RoomEntry } from '../rooms/room-cache.ts';
import type { Bus } from '../bus.ts';
import type { ClientEvent } from '../rooms/reader.ts';

/** What a room deletion reports (the API never imports storage). */
export type { RoomDeletion } from '../../storage/admin.ts';

export interface SynapseRoomsDeps {
  rooms: RoomsServices;
  store: RoomsStore;
  admin: AdminStore;
  serverName: string;
  /** How many devices a local user has (joined_local_devices). */
  deviceCount: (userId: string) => number;
  now?: () => number;
  log?: (message: string, fields: Record<string, unknown>) => void;
  /** Gets `roomHistoryPurged` once a room is purged. */
  bus: Pick<Bus, 'publish'>;
}

/** A room as the list and details APIs describe it (Synapse field names). */
export interface RoomSummary {
  room_id: string;
  name: string | null;
  canonical_alias: string | null;
  joined_members: number;
  joined_local_members: number;
  version: string;
  creator: string;
  encryption: string | null;
  federatable: boolean;
  public: boolean;
  join_rules: string | null;
  guest_access: string | null;
  history_visibility: string | null;
  state_events: number;
  room_type: string | null;
}

export interface RoomDetails extends RoomSummary {
  topic: string | null;
  avatar: string | null;
  joined_local_devices: number;
  forgotten: boolean;
}

export const ROOM_ORDERS = [
  'name',
  'alphabetical',
  'size',
  'canonical_alias',
  'joined_members',
  'joined_local_members',
  'version',
  'creator',
  'encryption',
  'federatable',
  'public',
  'join_rules',
  'guest_access',
  'history_visibility',
  'state_events',
] as const;
export type RoomOrder = (typeof ROOM_ORDERS)[number];

export interface ListRoomsOptions {
  from: number;
  limit: number;
  orderBy: RoomOrder;
  dir: 'f' | 'b';
  searchTerm?: string;
  publicRooms?: boolean;
  emptyRooms?: boolean;
}

export interface DeleteRoomRequest {
  newRoomUserId?: string;
  roomName?: string;
  message?: string;
  block: boolean;
  purge: boolean;
  forcePurge: boolean;
}

/** Orders where "forwards" means largest first (Synapse's list). */
const DESCENDING_FORWARDS: ReadonlySet<RoomOrder> = new Set(['size', 'joined_members', 'joined_local_members', 'version', 'state_events']);

const DEFAULT_ROOM_NAME = 'Content Violation Notification';
const DEFAULT_MESSAGE = 'Sharing illegal content on this server is not permitted and rooms in violation will be blocked.';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class SynapseRoomsAdmin {
  private readonly now: () => number;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: SynapseRoomsDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Deletions a restart interrupted cannot be resumed; they are reported as failed. */
  async init(): Promise<void> {
    await this.d.admin.failUnfinishedRoomDeletions('The server restarted before the deletion finished');
  }

  /** Waits for deletions under way (shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  list(o: ListRoomsOptions): { rooms: RoomSummary[]; total: number } {
    let rooms = this.d.admin
      .roomIds()
      .map((id) => this.summary(id))
      .filter((r): r is RoomSummary => r !== undefined);
    if (o.searchTerm !== undefined && o.searchTerm !== '') {
      const term = o.searchTerm.toLowerCase();
      rooms = rooms.filter(
        (r) =>
          (r.name ?? '').toLowerCase().includes(term) ||
          (r.canonical_alias ?? '').slice(1).split(':')[0]!.toLowerCase().includes(term) ||
          r.room_id.includes(o.searchTerm!),
      );
    }
    if (o.publicRooms !== undefined) rooms = rooms.filter((r) => r.public === o.publicRooms);
    if (o.emptyRooms !== undefined) rooms = rooms.filter((r) => (r.joined_members === 0) === o.emptyRooms);
    const key = sortKey(o.orderBy);
    const sign = (DESCENDING_FORWARDS.has(o.orderBy) ? -1 : 1) * (o.dir === 'b' ? -1 : 1);
    rooms.sort((a, b) => {
      const c = compare(key(a), key(b));
      return c !== 0 ? sign * c : a.room_id < b.room_id ? -1 : a.room_id > b.room_id ? 1 : 0;
    });
    return { rooms: rooms.slice(o.from, o.from + o.limit), total: rooms.length };
  }

  details(roomId: string): RoomDetails {
    const entry = this.entry(roomId);
    const summary = this.summary(roomId, entry)!;
    let devices = 0;
    for (const u of entry.joined) if (this.isLocal(u)) devices += this.d.deviceCount(u);
    const locals = this.d.store.members(roomId).filter((m) => this.isLocal(m.userId));
    return {
      ...summary,
      topic: str(entry.state.get(stateMapKey('m.room.topic', ''))?.content.topic),
      avatar: str(entry.state.get(stateMapKey('m.room.avatar', ''))?.content.url),
      joined_local_devices: devices,
      forgotten: locals.every((m) => m.forgotten),
    };
  }

  members(roomId: string): string[] {
    return [...this.entry(roomId).joined].sort();
  }

  state(roomId: string, type?: string): ClientEvent[] {
    this.entry(roomId);
    const ids = [...this.d.store.currentStateIds(roomId).entries()]
      .filter(([key]) => type === undefined || parseStateMapKey(key)[0] === type)
      .map(([, id]) => id);
    const recs = [...this.d.store.getEvents(ids).values()].sort((a, b) => a.position - b.position);
    return this.d.rooms.formatter.format(recs, undefined, false);
  }

  /** The mxc:// URIs the room's events carry (content.url, content.info.thumbnail_url, and the
   * encrypted-file forms), split by origin as Synapse's room media list is. */
  media(roomId: string): { local: string[]; remote: string[] } {
    this.entry(roomId);
    const found = new Set<string>();
    const add = (v: unknown): void => {
      if (typeof v === 'string' && v.startsWith('mxc://')) found.add(v);
    };
    const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
    let after: number | undefined;
    for (;;) {
      const batch = this.d.store.eventsBetween(roomId, { dir: 'f', after, limit: 500 });
      for (const rec of batch) {
        if (rec.redactedBy !== null) continue;
        const c = rec.pdu.content;
        const info = obj(c.info);
        add(c.url);
        add(info.thumbnail_url);
        add(obj(c.file).url);
        add(obj(info.thumbnail_file).url);
      }
      if (batch.length < 500) break;
      after = batch[batch.length - 1]!.position;
    }
    const local: string[] = [];
    const remote: string[] = [];
    for (const mxc of found) (mxc.startsWith(`mxc://${this.d.serverName}/`) ? local : remote).push(mxc);
    return { local, remote };
  }

  // ---- blocking ----

  blockStatus(roomId: string): { block: boolean; user_id?: string } {
    this.checkRoomId(roomId);
    const b = this.d.admin.roomBlock(roomId);
    return b ? { block: true, user_id: b.userId } : { block: false };
  }

  async setBlocked(requesterId: string, roomId: string, block: boolean): Promise<void> {
    this.checkRoomId(roomId);
    await this.d.admin.setRoomBlock(roomId, block ? requesterId : null, this.now());
  }

  /** Consulted by the membership service before local users join, are invited or knock. */
  isRoomClosed(roomId: string): boolean {
    return this.d.admin.isRoomClosed(roomId);
  }

  // ---- deletion (v2: answered at once, runs in the background) ----

  async startDelete(requesterId: string, roomId: string, req: DeleteRoomRequest): Promise<string> {
    this.checkRoomId(roomId);
    if (!this.d.store.getRoom(roomId)) throw notFound(`Unknown room id ${roomId}`);
    if (req.newRoomUserId !== undefined) {
      if (!isValidUserId(req.newRoomUserId) || !this.isLocal(req.newRoomUserId)) {
        throw new MatrixError(400, 'M_UNKNOWN', `User must be our own: ${req.newRoomUserId}`);
      }
    }
    if (this.d.admin.roomDeletionsOf(roomId).some((t) => t.status === 'scheduled' || t.status === 'active')) {
      throw new MatrixError(400, 'M_UNKNOWN', `Purge already in progress for ${roomId}`);
    }
    const task: RoomDeletion = {
      deleteId: randomBytes(12).toString('base64url'),
      roomId,
      status: 'scheduled',
      error: null,
      shutdownRoom: { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null },
      createdTs: this.now(),
    };
    await this.d.admin.putRoomDeletion(task);
    const run = this.runDelete(requesterId, task, req).finally(() => this.running.delete(task.deleteId));
    this.running.set(task.deleteId, run);
    return task.deleteId;
  }

  deleteStatus(deleteId: string): RoomDeletion {
    const t = this.d.admin.roomDeletion(deleteId);
    if (!t) throw notFound(`delete id '${deleteId}' not found`);
    return t;
  }

  deleteStatusesOf(roomId: string): RoomDeletion[] {
    this.checkRoomId(roomId);
    const list = this.d.admin.roomDeletionsOf(roomId);
    if (list.length === 0) throw notFound(`No delete task for room_id '${roomId}' found`);
    return list;
  }

  /** Synapse's RoomShutdownHandler then purge, recording progress in the task row. */
  private async runDelete(requesterId: string, task: RoomDeletion, req: DeleteRoomRequest): Promise<void> {
    const { roomId } = task;
    const { rooms, store, admin } = this.d;
    try {
      task.status = 'active';
      await admin.putRoomDeletion(task);
      // 1. Block first, so nobody rejoins while the room is being emptied.
      if (req.block) await admin.setRoomBlock(roomId, requesterId, this.now());
      // 2. The replacement room, with its notice, where everyone gets power level -10.
      const result: ShutdownRoomResult = task.shutdownRoom;
      if (req.newRoomUserId !== undefined) {
        const created = await rooms.creator.createRoom(req.newRoomUserId, {
          preset: 'public_chat',
          name: req.roomName ?? DEFAULT_ROOM_NAME,
          power_level_content_override: { users_default: -10 },
        });
        result.new_room_id = created.roomId;
        await rooms.sender.send({
          roomId: created.roomId,
          sender: req.newRoomUserId,
          type: 'm.room.message',
          content: { msgtype: 'm.text', body: req.message ?? DEFAULT_MESSAGE },
        });
      }
      // 3. Local users leave (and forget) the room; with a new room they join that one.
      for (const m of store.members(roomId)) {
        if (!this.isLocal(m.userId) || (m.membership !== 'join' && m.membership !== 'invite' && m.membership !== 'knock')) continue;
        try {
          await rooms.membership.leave(m.userId, roomId);
          await rooms.membership.forget(m.userId, roomId);
          if (result.new_room_id !== null) await rooms.membership.join(m.userId, result.new_room_id);
          result.kicked_users.push(m.userId);
        } catch (e) {
          this.d.log?.('room deletion could not remove a user', { roomId, userId: m.userId, error: String(e) });
          result.failed_to_kick_users.push(m.userId);
        }
      }
      // 4. Aliases follow the users to the new room, or go; the room leaves the directory.
      for (const alias of store.aliasesOfRoom(roomId)) {
        const creator = store.getAlias(alias)?.creator ?? requesterId;
        await store.deleteAlias(alias);
        if (result.new_room_id !== null) await store.createAlias(alias, result.new_room_id, creator);
        result.local_aliases.push(alias);
      }
      if (store.getRoom(roomId)?.isPublic) await store.setPublic(roomId, false);
      await admin.putRoomDeletion(task);
      // 5. Purge, unless local users are still in the room and the admin did not force it.
      if (req.purge) {
        const stillJoined = [...(rooms.sender.cache.get(roomId)?.joined ?? [])].filter((u) => this.isLocal(u));
        if (stillJoined.length > 0 && !req.forcePurge) throw new Error(`Local users are still joined to the room: ${stillJoined.join(', ')}`);
        await admin.purgeRoom(roomId, this.now());
        this.d.bus.publish('roomHistoryPurged', { roomId });
      }
      task.status = 'complete';
    } catch (e) {
      task.status = 'failed';
      task.error = errorText(e);
      this.d.log?.('room deletion failed', { roomId, error: task.error });
    }
    await admin.putRoomDeletion(task);
  }

  // ---- make_room_admin ----

  /** Gives `userId` the power of the most powerful local member, inviting them into a room that
   * is not public (Synapse's MakeRoomAdminRestServlet). */
  async makeRoomAdmin(roomIdOrAlias: string, userId: string): Promise<void> {
    if (!isValidUserId(userId) || !this.isLocal(userId)) throw new MatrixError(400, 'M_UNKNOWN', 'Only local users can be admins of this homeserver');
    const roomId = this.d.rooms.membership.resolveRoom(roomIdOrAlias);
    const entry = this.entry(roomId);
    const pl = readPowerLevels(entry.version, entry.state.get(stateMapKey('m.room.create', '')), entry.state.get(stateMapKey('m.room.power_levels', '')));
    let adminUser: string | undefined;
    let best = -Infinity;
    for (const u of entry.joined) {
      if (!this.isLocal(u)) continue;
      const level = userPowerLevel(pl, u);
      if (level > best) [adminUser, best] = [u, level];
    }
    if (adminUser === undefined || best < requiredPowerLevel(pl, 'm.room.power_levels', '')) throw new MatrixError(400, 'M_UNKNOWN', 'No local admin user in room');
    if (userPowerLevel(pl, userId) < best && !(pl.privilegedCreators && pl.creators.has(userId))) {
      // Infinite (room v12 creator) power cannot be granted: grant the highest listed level instead.
      const level = Number.isFinite(best) ? best : Math.max(100, ...pl.users.values());
      const content = { ...(entry.state.get(stateMapKey('m.room.power_levels', ''))?.content ?? {}) };
      content.users = { ...((content.users as Record<string, number> | undefined) ?? {}), [userId]: level };
      await this.d.rooms.sender.send({ roomId, sender: adminUser, type: 'm.room.power_levels', stateKey: '', content });
    }
    const membership = this.d.store.member(roomId, userId)?.membership;
    if (membership === 'join' || membership === 'invite') return;
    if (entry.state.get(stateMapKey('m.room.join_rules', ''))?.content.join_rule === 'public') return;
    await this.d.rooms.membership.invite(adminUser, roomId, userId);
  }

  // ---- internals ----

  private summary(roomId: string, entry = this.d.rooms.sender.cache.get(roomId)): RoomSummary | undefined {
    const room = this.d.store.getRoom(roomId);
    if (!entry || !room) return undefined;
    const content = (type: string): Record<string, unknown> => entry.state.get(stateMapKey(type, ''))?.content ?? {};
    const create = entry.state.get(stateMapKey('m.room.create', ''));
    return {
      room_id: roomId,
      name: str(content('m.room.name').name),
      canonical_alias: str(content('m.room.canonical_alias').alias),
      joined_members: entry.joined.size,
      joined_local_members: [...entry.joined].filter((u) => this.isLocal(u)).length,
      version: entry.version.id,
      creator: room.creator,
      encryption: str(content('m.room.encryption').algorithm),
      federatable: create?.content['m.federate'] !== false,
      public: room.isPublic,
      join_rules: str(content('m.room.join_rules').join_rule),
      guest_access: str(content('m.room.guest_access').guest_access),
      history_visibility: str(content('m.room.history_visibility').history_visibility),
      state_events: entry.state.size,
      room_type: str(create?.content.type),
    };
  }

  private entry(roomId: string): RoomEntry {
    const entry = isValidRoomId(roomId) ? this.d.rooms.sender.cache.get(roomId) : undefined;
    if (!entry || !this.d.store.getRoom(roomId)) throw notFound('Room not found');
    return entry;
  }

  private checkRoomId(roomId: string): void {
    if (!isValidRoomId(roomId)) throw new MatrixError(400, 'M_INVALID_PARAM', `${roomId} is not a legal room ID`);
  }

  private isLocal(userId: string): boolean {
    return userId.endsWith(`:${this.d.serverName}`);
  }
}

type SortValue = string | number | boolean | null;

function sortKey(order: RoomOrder): (r: RoomSummary) => SortValue {
  switch (order) {
    case 'name':
    case 'alphabetical':
      return (r) => r.name;
    case 'size':
    case 'joined_members':
      return (r) => r.joined_members;
    case 'version':
      return (r) => Number(r.version) || r.version;
    default:
      return (r) => r[order];
  }
}

/** Nulls last; numbers numerically; the rest as strings. */
function compare(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
