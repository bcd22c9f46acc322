/**
 * Room creation (spec: client-server create_room.yaml). Events in the spec's order:
 *  1. m.room.create (creation_content + room_version; `creator` before v11; v12 room id derived
 *     from it, and trusted_private_chat invitees added to additional_creators)
 *  2. the creator's join
 *  3. m.room.power_levels (defaults, then power_level_content_override; v12: creators are not
 *     listed in users and m.room.tombstone needs more than state_default)
 *  4. m.room.canonical_alias if room_alias_name
 *  5. the preset's join_rules, history_visibility, guest_access (unless initial_state sets them)
 *  6. initial_state, in order
 *  7. name and topic
 *  8. invites (is_direct on each)
 * All under the new room's lock; auth rejections are 400 M_INVALID_ROOM_STATE. Invitees of other
 * servers are invited afterwards through the membership service (federation /invite: their
 * server must sign the invite, and is not in the room to receive it otherwise).
 */
import { getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import type { JsonObject, JsonValue } from '../../core/events/types.ts';
import { isValidRoomAlias, isValidUserId, userIdServerName } from '../../core/ids.ts';
import { MatrixError } from '../../errors.ts';
import type { RoomsDeps } from './deps.ts';
import { defaultRandomString, type EventSender, type SentEvent } from './send-event.ts';
import { memberContent, type MembershipService } from './membership.ts';

export type Preset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  room_version?: string;
  creation_content?: JsonObject;
  initial_state?: { type: string; state_key?: string; content: JsonObject }[];
  preset?: Preset;
  is_direct?: boolean;
  power_level_content_override?: JsonObject;
}

let createSeq = 0;

export class RoomCreator {
  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
    /** Invites users of other servers. */
    private readonly membership: Pick<MembershipService, 'invite'>,
  ) {}

  async createRoom(userId: string, req: CreateRoomRequest): Promise<{ roomId: string }> {
    const { deps } = this;
    const versionId = req.room_version ?? deps.defaultRoomVersion();
    const version = getRoomVersion(versionId);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${versionId} is not supported`);
    const invites = [...new Set(req.invite ?? [])];
    for (const u of invites) if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id: ${u}`);
    let alias: string | undefined;
    if (req.room_alias_name !== undefined) {
      alias = `#${req.room_alias_name}:${deps.serverName}`;
      if (req.room_alias_name.length === 0 || req.room_alias_name.includes(':') || !isValidRoomAlias(alias)) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room_alias_name');
      }
      if (deps.store.getAlias(alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
    }
    for (const s of req.initial_state ?? []) {
      if (s.type === 'm.room.create' || s.type === 'm.room.member') {
        throw new MatrixError(400, 'M_INVALID_PARAM', `initial_state may not contain ${s.type}`);
      }
    }
    const preset: Preset = req.preset ?? (req.visibility === 'public' ? 'public_chat' : 'private_chat');

    // 1. The create event.
    const createContent: JsonObject = { ...(req.creation_content ?? {}) };
    delete createContent.creator;
    createContent.room_version = version.id;
    if (!version.implicitRoomCreator) createContent.creator = userId;
    if (version.privilegedCreators && preset === 'trusted_private_chat') {
      const extra = Array.isArray(createContent.additional_creators) ? createContent.additional_creators : [];
      const merged = [...new Set([...extra.filter((u): u is string => typeof u === 'string'), ...invites])].filter((u) => u !== userId);
      if (merged.length > 0) createContent.additional_creators = merged;
    }
    const legacyRoomId = version.roomIdFromCreateEvent ? undefined : `!${(deps.randomString ?? defaultRandomString)(18)}:${deps.serverName}`;
    // A v12 room id is known only once the create event is built; nobody else can name it before.
    const lockKey = legacyRoomId ?? `create:${++createSeq}`;

    const remoteInvitees = invites.filter((u) => u !== userId && userIdServerName(u) !== deps.serverName);
    const created = await this.sender.lock.run(lockKey, async () => {
      const create = this.sender.createRoomLocked(version, userId, createContent, legacyRoomId);
      const roomId = create.roomId;
      // The alias is claimed before the canonical_alias event names it.
      if (alias && !(await deps.store.createAlias(alias, roomId, userId))) {
        throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
      }
      let last: SentEvent = create;
      const state = (type: string, content: JsonObject, stateKey = ''): void => {
        last = this.sender.sendLocked({ roomId, sender: userId, type, stateKey, content }, 'invalid_room_state');
      };
      // 2.
      state('m.room.member', memberContent('join', deps.getProfile(userId)), userId);
      // 3.
      state('m.room.power_levels', this.powerLevels(version, userId, preset, invites, req.power_level_content_override));
      // 4.
      if (alias) state('m.room.canonical_alias', { alias });
      // 5.
      const initialTypes = new Set((req.initial_state ?? []).map((s) => `${s.type}\u0000${s.state_key ?? ''}`));
      const presetState: [string, JsonObject][] = [
        ['m.room.join_rules', { join_rule: preset === 'public_chat' ? 'public' : 'invite' }],
        ['m.room.history_visibility', { history_visibility: 'shared' }],
        ['m.room.guest_access', { guest_access: preset === 'public_chat' ? 'forbidden' : 'can_join' }],
      ];
      for (const [type, content] of presetState) if (!initialTypes.has(`${type}\u0000`)) state(type, content);
      // 6.
      for (const s of req.initial_state ?? []) {
        const key = s.state_key ?? '';
        if (key === '' && ((s.type === 'm.room.name' && req.name !== undefined) || (s.type === 'm.room.topic' && req.topic !== undefined))) continue;
        state(s.type, s.content, key);
      }
      // 7.
      if (req.name !== undefined) state('m.room.name', { name: req.name });
      if (req.topic !== undefined) {
        state('m.room.topic', { topic: req.topic, 'm.topic': { 'm.text': [{ body: req.topic, mimetype: 'text/plain' }] } });
      }
      // 8.
      for (const invitee of invites) {
        if (invitee === userId || remoteInvitees.includes(invitee)) continue;
        const content = memberContent('invite', deps.getProfile(invitee));
        if (req.is_direct) content.is_direct = true;
        last = this.sender.sendLocked({ roomId, sender: userId, type: 'm.room.member', stateKey: invitee, content });
      }
      if (req.visibility === 'public') await deps.store.setPublic(roomId, true);
      await last.done;
      return { roomId };
    });
    // After the lock: the federation invite takes the room's lock itself.
    for (const invitee of remoteInvitees) await this.membership.invite(userId, created.roomId, invitee, undefined, req.is_direct === true);
    return created;
  }

  private powerLevels(version: RoomVersion, creator: string, preset: Preset, invites: string[], override: JsonObject | undefined): JsonObject {
    const users: Record<string, JsonValue> = {};
    if (!version.privilegedCreators) {
      users[creator] = 100;
      if (preset === 'trusted_private_chat') for (const u of invites) users[u] = 100;
    }
    const content: JsonObject = {
      users,
      users_default: 0,
      events: {
        'm.room.name': 50,
        'm.room.power_levels': 100,
        'm.room.history_visibility': 100,
        'm.room.canonical_alias': 50,
        'm.room.avatar': 50,
        // v12: must be above state_default (create_room.yaml step 3).
        'm.room.tombstone': version.privilegedCreators ? 150 : 100,
        'm.room.server_acl': 100,
        'm.room.encryption': 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset === 'public_chat' ? 50 : 0,
      notifications: { room: 50 },
    };
    return { ...content, ...(override ?? {}) };
  }
}
