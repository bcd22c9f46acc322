/**
 * The published room directory (spec: client-server list_public_rooms.yaml and directory.yaml
 * /directory/list/room/{roomId}). Rooms are published per room; each entry is built from
 * current state (PublishedRoomsChunk). `since` tokens are offsets (`o<n>`); the list is small
 * on a family server, so filtering happens in memory.
 */
import { stateMapKey } from '../../core/events/types.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { AliasService } from './aliases.ts';
import type { RoomsDeps } from './deps.ts';
import type { EventSender } from './send-event.ts';

export interface PublicRoomsChunkEntry {
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
}

export class DirectoryService {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    private readonly aliases: AliasService,
  ) {}

  visibility(roomId: string): 'public' | 'private' {
    const room = this.deps.store.getRoom(roomId);
    if (!room) throw notFound('Unknown room');
    return room.isPublic ? 'public' : 'private';
  }

  async setVisibility(userId: string, roomId: string, visibility: 'public' | 'private'): Promise<void> {
    if (!this.deps.store.getRoom(roomId)) throw notFound('Unknown room');
    if (!this.aliases.canSetCanonical(roomId, userId)) throw forbidden('You may not change the directory visibility of this room');
    await this.deps.store.setPublic(roomId, visibility === 'public');
  }

  entry(roomId: string): PublicRoomsChunkEntry | undefined {
    const e = this.sender.cache.get(roomId);
    if (!e) return undefined;
    const c = (type: string): Record<string, unknown> | undefined => e.state.get(stateMapKey(type, ''))?.content;
    const out: PublicRoomsChunkEntry = {
      room_id: roomId,
      num_joined_members: e.joined.size,
      world_readable: c('m.room.history_visibility')?.history_visibility === 'world_readable',
      guest_can_join: c('m.room.guest_access')?.guest_access === 'can_join',
    };
    const name = c('m.room.name')?.name;
    if (typeof name === 'string' && name) out.name = name;
    const topic = c('m.room.topic')?.topic;
    if (typeof topic === 'string' && topic) out.topic = topic;
    const avatar = c('m.room.avatar')?.url;
    if (typeof avatar === 'string' && avatar) out.avatar_url = avatar;
    const alias = c('m.room.canonical_alias')?.alias;
    if (typeof alias === 'string' && alias) out.canonical_alias = alias;
    const jr = c('m.room.join_rules')?.join_rule;
    if (typeof jr === 'string') out.join_rule = jr;
    const type = c('m.room.create')?.type;
    if (typeof type === 'string') out.room_type = type;
    return out;
  }

  publicRooms(q: { limit?: number; since?: string; server?: string; searchTerm?: string; roomTypes?: (string | null)[] }): {
    chunk: PublicRoomsChunkEntry[];
    next_batch?: string;
    prev_batch?: string;
    total_room_count_estimate: number;
  } {
    if (q.server !== undefined && q.server !== this.deps.serverName) {
      // TODO(issue federation-directory): query the remote server's directory.
      throw new MatrixError(502, 'M_UNKNOWN', `Cannot reach the directory of ${q.server}`);
    }
    let offset = 0;
    if (q.since !== undefined) {
      const m = /^o(\d{1,9})$/.exec(q.since);
      if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
      offset = Number(m[1]);
    }
    const term = q.searchTerm?.toLowerCase();
    let rooms = this.deps.store
      .publicRoomIds()
      .map((id) => this.entry(id))
      .filter((e): e is PublicRoomsChunkEntry => e !== undefined);
    if (term) {
      rooms = rooms.filter((r) => [r.name, r.topic, r.canonical_alias, r.room_id].some((s) => s?.toLowerCase().includes(term)));
    }
    if (q.roomTypes && q.roomTypes.length > 0) {
      rooms = rooms.filter((r) => q.roomTypes!.includes(r.room_type ?? null));
    }
    // Biggest rooms first, as Synapse lists them.
    rooms.sort((a, b) => b.num_joined_members - a.num_joined_members || a.room_id.localeCompare(b.room_id));
    const limit = q.limit ?? rooms.length;
    const page = rooms.slice(offset, offset + limit);
    const out: { chunk: PublicRoomsChunkEntry[]; next_batch?: string; prev_batch?: string; total_room_count_estimate: number } = {
      chunk: page,
      total_room_count_estimate: rooms.length,
    };
    if (offset + limit < rooms.length) out.next_batch = `o${offset + limit}`;
    if (offset > 0) out.prev_batch = `o${Math.max(0, offset - limit)}`;
    return out;
  }
}
