/**
 * Membership changes by local users (spec: client-server joining.yaml, inviting.yaml,
 * leaving.yaml, kicking.yaml, banning.yaml, knocking.yaml): each is one m.room.member event
 * checked by the auth rules. Restricted rooms (v8+): a local joined member able to invite is
 * named in join_authorised_via_users_server when the joiner is in an allowed room.
 * Rooms this server is not in (and remote invitees) go through the federation hook
 * (`useFederation`: services/federation/joins.ts); without it they are 404.
 * On `userDeactivated` the user leaves every room.
 */
import type { JsonObject } from '../../core/events/types.ts';
import { stateMapKey } from '../../core/events/types.ts';
import { hasUserOn, isValidRoomAlias, isValidRoomId, isValidUserId, parseRoomAlias, userIdServerName } from '../../core/ids.ts';
import { readPowerLevels, userPowerLevel } from '../../core/auth/power-levels.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { Bus } from '../bus.ts';
import type { Profile, RoomsDeps } from './deps.ts';
import type { EventSender, SentEvent } from './send-event.ts';

export function memberContent(membership: string, profile: Profile = {}, reason?: string): JsonObject {
  const c: JsonObject = { membership };
  if (typeof profile.displayname === 'string') c.displayname = profile.displayname;
  if (typeof profile.avatar_url === 'string') c.avatar_url = profile.avatar_url;
  if (reason !== undefined) c.reason = reason;
  return c;
}

/** Membership changes that need another server (make_join/send_join, /invite, make_leave...). */
export interface RemoteMembershipHandler {
  /** Joins or knocks on a room this server is not in; `via`: servers to try first. */
  join(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[]): Promise<{ roomId: string }>;
  knock(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[]): Promise<{ roomId: string }>;
  /** Leaves (rejects an invite to, rescinds a knock on) a room this server is not in. */
  leave(userId: string, roomId: string, reason: string | undefined): Promise<void>;
  /** Invites a remote user into a room this server is in (their server signs it first). */
  invite(userId: string, roomId: string, target: string, content: JsonObject): Promise<void>;
}

export class MembershipService {
  private remote: RemoteMembershipHandler | undefined;
  /** Rooms an admin blocked or purged (wired by the admin API part): local users may not join,
   * be invited or knock (Synapse admin API "Block Room"). */
  isRoomBlocked: (roomId: string) => boolean = () => false;

  constructor(
    private readonly deps: RoomsDeps,
    private readonly sender: EventSender,
  ) {}

  /** Wired by the federation part. */
  useFederation(handler: RemoteMembershipHandler): void {
    this.remote = handler;
  }

  /** A join or knock the federation hook handles: a remote alias, or a room where no local user
   * is joined (we are not resident, so our copy of its state may be stale or missing). */
  private needsRemote(roomIdOrAlias: string): boolean {
    if (!this.remote) return false;
    if (roomIdOrAlias.startsWith('#')) {
      const server = parseRoomAlias(roomIdOrAlias)?.serverName;
      return server !== undefined && server !== this.deps.serverName;
    }
    const entry = this.sender.cache.get(roomIdOrAlias);
    if (!entry) return isValidRoomId(roomIdOrAlias);
    return !hasUserOn(this.deps.serverName, entry.joined) && entry.joined.size > 0;
  }

  /** Room id for `/join/{roomIdOrAlias}` and knock: local aliases only for now. */
  resolveRoom(roomIdOrAlias: string): string {
    if (roomIdOrAlias.startsWith('#')) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room alias');
      const found = this.deps.store.getAlias(roomIdOrAlias);
      if (!found) throw notFound('Room alias not found');
      return found.roomId;
    }
    if (!isValidRoomId(roomIdOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room id or alias');
    return roomIdOrAlias;
  }

  private requireRoom(roomId: string): void {
    if (!this.sender.cache.get(roomId)) throw notFound('Unknown room');
  }

  private refuseBlocked(roomId: string): void {
    if (this.isRoomBlocked(roomId)) throw forbidden('This room has been blocked on this server');
  }

  private send(roomId: string, sender: string, target: string, content: JsonObject): Promise<SentEvent> {
    return this.sender.send({ roomId, sender, type: 'm.room.member', stateKey: target, content });
  }

  /** The known, unblocked room a join or knock is for; undefined when the federation hook
   * handles it (needsRemote). */
  private localRoomFor(roomIdOrAlias: string): string | undefined {
    this.refuseBlocked(roomIdOrAlias);
    if (this.needsRemote(roomIdOrAlias)) return undefined;
    const roomId = this.resolveRoom(roomIdOrAlias);
    this.refuseBlocked(roomId);
    this.requireRoom(roomId);
    return roomId;
  }

  async join(userId: string, roomIdOrAlias: string, reason?: string, via: readonly string[] = []): Promise<{ roomId: string }> {
    const roomId = this.localRoomFor(roomIdOrAlias);
    if (roomId === undefined) return this.remote!.join(userId, roomIdOrAlias, reason, via);
    const current = this.deps.store.member(roomId, userId);
    if (current?.membership === 'join') return { roomId };
    const content = memberContent('join', this.deps.getProfile(userId), reason);
    const authoriser = this.restrictedAuthoriser(roomId, userId, current?.membership);
    if (authoriser) content.join_authorised_via_users_server = authoriser;
    await this.send(roomId, userId, userId, content);
    return { roomId };
  }

  /** v8+ restricted/knock_restricted rooms: a local joined user with invite power, when the
   * joiner is joined to one of the allowed rooms (spec: "Restricted rooms"). */
  private restrictedAuthoriser(roomId: string, userId: string, membership: string | undefined): string | undefined {
    const entry = this.sender.cache.get(roomId)!;
    if (!entry.version.restrictedJoinRule || membership === 'invite') return undefined;
    const jr = entry.state.get(stateMapKey('m.room.join_rules', ''))?.content;
    if (jr?.join_rule !== 'restricted' && jr?.join_rule !== 'knock_restricted') return undefined;
    const allow = Array.isArray(jr.allow) ? jr.allow : [];
    const allowed = allow.some((a) => {
      if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
      return a.type === 'm.room_membership' && typeof a.room_id === 'string' && this.deps.store.member(a.room_id, userId)?.membership === 'join';
    });
    if (!allowed) return undefined;
    const pl = readPowerLevels(entry.version, entry.state.get(stateMapKey('m.room.create', '')), entry.state.get(stateMapKey('m.room.power_levels', '')));
    const suffix = `:${this.deps.serverName}`;
    for (const u of entry.joined) {
      if (u.endsWith(suffix) && userPowerLevel(pl, u) >= pl.levels.invite) return u;
    }
    return undefined;
  }

  async invite(userId: string, roomId: string, target: string, reason?: string, isDirect = false): Promise<void> {
    if (!isValidUserId(target)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    this.refuseBlocked(roomId);
    this.requireRoom(roomId);
    const current = this.deps.store.member(roomId, target);
    if (current?.membership === 'join') throw forbidden(`${target} is already in the room`);
    if (current?.membership === 'ban') throw forbidden(`${target} is banned from the room`);
    if (current?.membership === 'invite') {
      // Re-inviting is a no-op when the inviter may invite (Synapse behaves the same).
      if (this.deps.store.member(roomId, userId)?.membership !== 'join') throw forbidden('You are not in this room');
      return;
    }
    const content = memberContent('invite', this.deps.getProfile(target), reason);
    if (isDirect) content.is_direct = true;
    if (this.remote && userIdServerName(target) !== this.deps.serverName) return this.remote.invite(userId, roomId, target, content);
    await this.send(roomId, userId, target, content);
  }

  async leave(userId: string, roomId: string, reason?: string): Promise<void> {
    if (!this.sender.cache.get(roomId)) {
      if (this.remote) return this.remote.leave(userId, roomId, reason);
      throw notFound('Unknown room');
    }
    const current = this.deps.store.member(roomId, userId);
    if (!current) throw forbidden('You are not in this room');
    if (current.membership === 'leave') return;
    await this.send(roomId, userId, userId, memberContent('leave', {}, reason));
  }

  async forget(userId: string, roomId: string): Promise<void> {
    const current = this.deps.store.member(roomId, userId);
    if (!current) throw notFound('You have never been in this room');
    if (current.membership !== 'leave' && current.membership !== 'ban') {
      throw new MatrixError(400, 'M_UNKNOWN', 'You must leave the room before forgetting it');
    }
    await this.deps.store.forget(roomId, userId);
  }

  async kick(userId: string, roomId: string, target: string, reason?: string): Promise<void> {
    if (!isValidUserId(target)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    this.requireRoom(roomId);
    const current = this.deps.store.member(roomId, target)?.membership;
    if (current !== 'join' && current !== 'invite' && current !== 'knock') throw forbidden(`${target} is not in the room`);
    await this.send(roomId, userId, target, memberContent('leave', {}, reason));
  }

  async ban(userId: string, roomId: string, target: string, reason?: string): Promise<void> {
    if (!isValidUserId(target)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    this.requireRoom(roomId);
    await this.send(roomId, userId, target, memberContent('ban', {}, reason));
  }

  async unban(userId: string, roomId: string, target: string, reason?: string): Promise<void> {
    if (!isValidUserId(target)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    this.requireRoom(roomId);
    if (this.deps.store.member(roomId, target)?.membership !== 'ban') throw forbidden(`${target} is not banned`);
    await this.send(roomId, userId, target, memberContent('leave', {}, reason));
  }

  async knock(userId: string, roomIdOrAlias: string, reason?: string, via: readonly string[] = []): Promise<{ roomId: string }> {
    const roomId = this.localRoomFor(roomIdOrAlias);
    if (roomId === undefined) return this.remote!.knock(userId, roomIdOrAlias, reason, via);
    const current = this.deps.store.member(roomId, userId)?.membership;
    if (current === 'join') throw forbidden('You are already in the room');
    if (current === 'ban') throw forbidden('You are banned from the room');
    if (current === 'invite') throw forbidden('You are invited to the room already');
    await this.send(roomId, userId, userId, memberContent('knock', this.deps.getProfile(userId), reason));
    return { roomId };
  }

  /** A deactivated user leaves every room (rejecting invites, withdrawing knocks). */
  subscribe(bus: Bus): void {
    bus.on('userDeactivated', ({ userId }) => {
      for (const m of this.deps.store.roomsOfUser(userId)) {
        if (m.membership === 'join' || m.membership === 'invite' || m.membership === 'knock') {
          this.send(m.roomId, userId, userId, memberContent('leave')).catch(() => undefined);
        }
      }
    });
  }
}
