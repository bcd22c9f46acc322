/**
 * Room upgrades (spec: client-server room_upgrades.yaml; module room_upgrades.md "Server
 * behaviour"), in the module's order:
 *  1. the user must be allowed to send m.room.tombstone in the old room;
 *  2. a new room whose create event has `predecessor`, the new version and the old `type`
 *     (v12: the upgrader plus the requested additional_creators are creators);
 *  3. transferable state copied (power levels converted for the new version: integer values,
 *     and v12 creators removed from `users`);
 *  4. local aliases moved, canonical alias copied;
 *  5. m.room.tombstone in the old room;
 *  6. the old room's events_default and invite raised to max(50, users_default + 1).
 * The directory listing follows the room.
 */
import { getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import { stateMapKey, type JsonObject, type JsonValue, type StoredPdu } from '../../core/events/types.ts';
import {
  POWER_LEVEL_PROPS,
  isJsonObject,
  parsePowerLevelValue,
  readPowerLevels,
  requiredPowerLevel,
  userPowerLevel,
} from '../../core/auth/power-levels.ts';
import { isValidUserId } from '../../core/ids.ts';
import { MatrixError, forbidden } from '../../errors.ts';
import type { RoomsDeps } from './deps.ts';
import { memberContent } from './membership.ts';
import { defaultRandomString, type EventSender, type SentEvent } from './send-event.ts';

const TRANSFERABLE = [
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
];

export class UpgradeService {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
  ) {}

  async upgrade(userId: string, oldRoomId: string, newVersionId: string, additionalCreators: string[] = []): Promise<string> {
    const newVersion = getRoomVersion(newVersionId);
    if (!newVersion) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${newVersionId} is not supported`);
    for (const u of additionalCreators) if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id ${u}`);
    const old = this.sender.cache.get(oldRoomId);
    if (!old) throw forbidden('You are not in this room, or it does not exist');
    const oldState = (type: string): StoredPdu | undefined => old.state.get(stateMapKey(type, ''));
    // 1.
    const oldPl = readPowerLevels(old.version, oldState('m.room.create'), oldState('m.room.power_levels'));
    if (!old.joined.has(userId) || userPowerLevel(oldPl, userId) < requiredPowerLevel(oldPl, 'm.room.tombstone', '')) {
      throw forbidden('You may not upgrade this room');
    }

    // 2.
    const oldCreate = oldState('m.room.create')!;
    const lastEvent = old.extremities[0]!.event_id;
    const createContent: JsonObject = { room_version: newVersion.id, predecessor: { room_id: oldRoomId, event_id: lastEvent } };
    if (typeof oldCreate.content.type === 'string') createContent.type = oldCreate.content.type;
    if (oldCreate.content['m.federate'] === false) createContent['m.federate'] = false;
    if (!newVersion.implicitRoomCreator) createContent.creator = userId;
    const creators = new Set([userId]);
    if (newVersion.privilegedCreators) {
      const extra = [...new Set(additionalCreators)].filter((u) => u !== userId);
      if (extra.length > 0) createContent.additional_creators = extra;
      for (const u of extra) creators.add(u);
    }
    const legacyId = newVersion.roomIdFromCreateEvent ? undefined : `!${(this.deps.randomString ?? defaultRandomString)(18)}:${this.deps.serverName}`;

    const newRoomId = await this.sender.lock.run(legacyId ?? `upgrade:${oldRoomId}`, async () => {
      const create = this.sender.createRoomLocked(newVersion, userId, createContent, legacyId);
      const roomId = create.roomId;
      let last: SentEvent = create;
      const state = (type: string, content: JsonObject, stateKey = ''): void => {
        last = this.sender.sendLocked({ roomId, sender: userId, type, stateKey, content }, 'invalid_room_state');
      };
      state('m.room.member', memberContent('join', this.deps.getProfile(userId)), userId);
      // 3. Power levels first (with the upgrader able to send everything), then the rest.
      const finalPl = convertPowerLevels(old.version, newVersion, oldState('m.room.power_levels')?.content, creators, oldPl.creators);
      const users = isJsonObject(finalPl.users) ? finalPl.users : {};
      const needsBoost = !newVersion.privilegedCreators && (parsePowerLevelValue(newVersion, users[userId]) ?? 0) < 100;
      state('m.room.power_levels', needsBoost ? { ...finalPl, users: { ...users, [userId]: 100 } } : finalPl);
      for (const type of TRANSFERABLE) {
        const e = oldState(type);
        if (e) state(type, e.content);
      }
      const canonical = oldState('m.room.canonical_alias');
      if (canonical) state('m.room.canonical_alias', canonical.content);
      if (needsBoost) state('m.room.power_levels', finalPl);
      await last.done;
      return roomId;
    });

    // 4. Local aliases move to the new room.
    for (const alias of this.deps.store.aliasesOfRoom(oldRoomId)) {
      await this.deps.store.deleteAlias(alias);
      await this.deps.store.createAlias(alias, newRoomId, userId);
    }
    const wasPublic = this.deps.store.getRoom(oldRoomId)?.isPublic === true;
    if (wasPublic) {
      await this.deps.store.setPublic(oldRoomId, false);
      await this.deps.store.setPublic(newRoomId, true);
    }
    // 5.
    await this.sender.send({
      roomId: oldRoomId,
      sender: userId,
      type: 'm.room.tombstone',
      stateKey: '',
      content: { body: 'This room has been replaced', replacement_room: newRoomId },
    });
    // 6. Best effort: the upgrader may lack the power to change power levels.
    const plEvent = this.sender.cache.get(oldRoomId)?.state.get(stateMapKey('m.room.power_levels', ''));
    if (plEvent) {
      const usersDefault = parsePowerLevelValue(old.version, plEvent.content.users_default) ?? 0;
      const level = Math.max(50, usersDefault + 1);
      await this.sender
        .send({
          roomId: oldRoomId,
          sender: userId,
          type: 'm.room.power_levels',
          stateKey: '',
          content: { ...plEvent.content, events_default: level, invite: level },
        })
        .catch(() => undefined);
    }
    return newRoomId;
  }
}

/** Old power levels content made valid for the new version. */
function convertPowerLevels(
  from: RoomVersion,
  to: RoomVersion,
  content: JsonObject | undefined,
  creators: Set<string>,
  oldCreators: ReadonlySet<string>,
): JsonObject {
  const out: JsonObject = {};
  const src = content ?? {};
  for (const [k, v] of Object.entries(src)) out[k] = v;
  const num = (v: unknown): number | undefined => parsePowerLevelValue(from, v);
  for (const prop of POWER_LEVEL_PROPS) {
    if (src[prop] === undefined) continue;
    const n = num(src[prop]);
    if (n === undefined) delete out[prop];
    else out[prop] = n;
  }
  for (const mapKey of ['users', 'events', 'notifications'] as const) {
    const m = src[mapKey];
    if (!isJsonObject(m)) continue;
    const conv: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(m)) {
      const n = num(v);
      if (n === undefined) continue;
      if (mapKey === 'users' && to.privilegedCreators && creators.has(k)) continue;
      conv[k] = n;
    }
    out[mapKey] = conv;
  }
  if (from.privilegedCreators && !to.privilegedCreators) {
    // The old room's creators had infinite power; the new version lists them at 100.
    const users = isJsonObject(out.users) ? { ...out.users } : {};
    for (const c of oldCreators) users[c] = Math.max(typeof users[c] === 'number' ? (users[c] as number) : 0, 100);
    out.users = users;
  }
  if (to.privilegedCreators) {
    const events = isJsonObject(out.events) ? { ...out.events } : {};
    const stateDefault = typeof out.state_default === 'number' ? out.state_default : 50;
    const tomb = typeof events['m.room.tombstone'] === 'number' ? (events['m.room.tombstone'] as number) : stateDefault;
    if (tomb <= stateDefault) events['m.room.tombstone'] = Math.max(150, stateDefault + 1);
    out.events = events;
  }
  if (!content) {
    // No power levels in the old room: the creator had 100 (v1–11 default).
    if (!to.privilegedCreators) out.users = { [[...creators][0]!]: 100 };
  }
  return out;
}

