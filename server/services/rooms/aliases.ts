/**
 * Room aliases (spec: client-server directory.yaml: PUT/GET/DELETE /directory/room/{roomAlias};
 * rooms.yaml-adjacent GET /rooms/{roomId}/aliases). Aliases of this server only; resolving a
 * remote alias needs federation queries (not yet: 404). Deleting: the alias's creator, a server
 * admin, or a member allowed to send m.room.canonical_alias; a canonical alias naming it is updated.
 */
import { readPowerLevels, requiredPowerLevel, userPowerLevel } from '../../core/auth/power-levels.ts';
import { stateMapKey, type JsonObject } from '../../core/events/types.ts';
import { parseRoomAlias } from '../../core/ids.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { RoomsDeps } from './deps.ts';
import type { Viewer } from './reader.ts';
import type { EventSender } from './send-event.ts';

export class AliasService {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
  ) {}

  private local(alias: string): void {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room alias');
    if (parsed.serverName !== this.deps.serverName) throw new MatrixError(400, 'M_INVALID_PARAM', 'Room alias must be on this server');
  }

  async create(userId: string, alias: string, roomId: string): Promise<void> {
    this.local(alias);
    if (!this.sender.cache.get(roomId)) throw notFound('Unknown room');
    if (!(await this.deps.store.createAlias(alias, roomId, userId))) throw new MatrixError(409, 'M_UNKNOWN', 'Room alias already exists');
  }

  resolve(alias: string): { room_id: string; servers: string[] } {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room alias');
    const found = parsed.serverName === this.deps.serverName ? this.deps.store.getAlias(alias) : undefined;
    if (!found) throw notFound(`Room alias ${alias} not found`);
    return { room_id: found.roomId, servers: [this.deps.serverName] };
  }

  async delete(viewer: Viewer & { isAdmin?: boolean }, alias: string): Promise<void> {
    this.local(alias);
    const found = this.deps.store.getAlias(alias);
    if (!found) throw notFound(`Room alias ${alias} not found`);
    if (found.creator !== viewer.userId && !viewer.isAdmin && !this.canSetCanonical(found.roomId, viewer.userId)) {
      throw forbidden('You may not delete this alias');
    }
    await this.deps.store.deleteAlias(alias);
    // Keep m.room.canonical_alias truthful (Synapse does the same); failure is not the client's.
    const entry = this.sender.cache.get(found.roomId);
    const canonical = entry?.state.get(stateMapKey('m.room.canonical_alias', ''));
    if (canonical) {
      const c = canonical.content;
      const alt = Array.isArray(c.alt_aliases) ? c.alt_aliases.filter((a) => a !== alias) : undefined;
      if (c.alias === alias || (Array.isArray(c.alt_aliases) && alt!.length !== c.alt_aliases.length)) {
        const content: JsonObject = { ...c };
        if (c.alias === alias) delete content.alias;
        if (alt) content.alt_aliases = alt;
        await this.sender
          .send({ roomId: found.roomId, sender: viewer.userId, type: 'm.room.canonical_alias', stateKey: '', content })
          .catch(() => undefined);
      }
    }
  }

  /** Whether the user is joined and may send m.room.canonical_alias (directory and alias edits). */
  canSetCanonical(roomId: string, userId: string): boolean {
    const entry = this.sender.cache.get(roomId);
    if (!entry || !entry.joined.has(userId)) return false;
    const pl = readPowerLevels(entry.version, entry.state.get(stateMapKey('m.room.create', '')), entry.state.get(stateMapKey('m.room.power_levels', '')));
    return userPowerLevel(pl, userId) >= requiredPowerLevel(pl, 'm.room.canonical_alias', '');
  }

  roomAliases(viewer: Viewer, roomId: string): string[] {
    const entry = this.sender.cache.get(roomId);
    if (!entry) throw forbidden('You are not in this room, or it does not exist');
    const hv = entry.state.get(stateMapKey('m.room.history_visibility', ''))?.content.history_visibility;
    if (!entry.joined.has(viewer.userId) && hv !== 'world_readable') throw forbidden('You are not in this room');
    return this.deps.store.aliasesOfRoom(roomId);
  }
}
