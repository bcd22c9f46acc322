/**
 * The resident server's side of membership over federation (spec: server-server "Joining Rooms",
 * "Restricted rooms", "Leaving Rooms (Rejecting Invites)", "Knocking upon a room", "Inviting to a
 * room"; joins-v2.yaml, leaving-v2.yaml, knocks.yaml, invites-v2.yaml).
 *
 * make_join / make_leave / make_knock:
 *  1. The user belongs to the requesting server; the room is known, we are in it, its ACL lets
 *     the server in; the room version is one the server supports (`ver`; knocks need v7+).
 *  2. Restricted joins (v8+): unless the user is invited or joined, the user must be in one of
 *     the allowed rooms, and a local member able to invite is named in
 *     join_authorised_via_users_server (M_UNABLE_TO_AUTHORISE_JOIN if we cannot tell).
 *  3. The template (prev_events = our extremities, auth_events selected from current state)
 *     must pass the auth rules, else 403.
 * send_join / send_leave / send_knock:
 *  4. Checks 1–3 of a received PDU (format, signatures, hash), the event id matches the path,
 *     and the event is the expected membership of a user of the requesting server (400
 *     M_INVALID_PARAM otherwise, as joins-v2.yaml recommends).
 *  5. A restricted join naming one of our users gets our signature (before 4, which checks it).
 *  6. Checks 4–7 of a received PDU (incoming-pdu.ts): it must be accepted, else 403.
 *  7. Passed on to the other servers in the room (the sender's sendOnBehalfOf); the joiner gets
 *     the state before its join and the auth chain.
 * invite (v2):
 *  8. An invite for an existing local user from a server it names as sender's server, checked
 *     (1–3), co-signed with our key. When we are not in the room, it is stored with the stripped
 *     state the inviting server sent, so the invitee's sync shows it.
 */
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import type { RoomVersion } from '../../core/room-versions.ts';
import { getRoomVersion } from '../../core/room-versions.ts';
import { signEvent } from '../../core/events/build.ts';
import { federationWire, referenceHashBase64 } from '../../core/events/hashes.ts';
import { stateMapKey, type JsonObject, type StoredPdu } from '../../core/events/types.ts';
import { selectAuthEventIds } from '../../core/auth/auth-events.ts';
import { checkEventAuth } from '../../core/auth/rules.ts';
import { isJsonObject, readPowerLevels, userPowerLevel } from '../../core/auth/power-levels.ts';
import { hasUserOn, userIdServerName } from '../../core/ids.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { Notifier } from '../sync/notifier.ts';
import type { EventSender } from '../rooms/send-event.ts';
import type { RoomEntry } from '../rooms/room-cache.ts';
import type { StrippedStateEvent } from '../rooms/reader.ts';
import type { IncomingPdus } from './receiver/incoming-pdu.ts';
import type { FederationHistory } from './receiver/history.ts';
import { roomAllowsServer } from './receiver/server-acl.ts';
import { remoteServersOf } from './room-servers.ts';

export type ResidentMembership = 'join' | 'leave' | 'knock';

export interface ResidentDeps {
  store: RoomsStore;
  sender: EventSender;
  notifier: Notifier;
  serverName: string;
  signingKey: Ed25519SigningKey;
  pdus: IncomingPdus;
  history: FederationHistory;
  /** Whether a local user exists (invites for unknown users are refused). */
  userExists(userId: string): boolean;
  /** The stripped state a knocker gets (RoomsReader.strippedState). */
  strippedState(roomId: string, userId: string): StrippedStateEvent[];
  /** A membership event accepted through send_*: pass it on to the room's other servers. */
  onAccepted?(pdu: StoredPdu, position: number, origin: string): void;
  now: () => number;
}

export class ResidentMemberships {
  constructor(private readonly deps: ResidentDeps) {}

  /** make_join / make_leave / make_knock: an unsigned template for the user to sign. */
  makeMembership(origin: string, roomId: string, userId: string, membership: ResidentMembership, supportedVersions?: readonly string[]): { event: JsonObject; room_version: string } {
    if (userIdServerName(userId) !== origin) throw forbidden('The user does not belong to the requesting server');
    const entry = this.residentEntry(origin, roomId);
    const version = entry.version;
    // 1. Without `ver` the joining server supports room version 1 only (joins-v2.yaml).
    if (membership !== 'leave') {
      const supported = supportedVersions && supportedVersions.length > 0 ? supportedVersions : ['1'];
      if (!supported.includes(version.id)) {
        throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `This room has version ${version.id}, which your server does not support`, { room_version: version.id });
      }
    }
    if (membership === 'knock' && !version.knockJoinRule) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${version.id} does not support knocking`, { room_version: version.id });
    }
    const content: JsonObject = { membership };
    // 2
    if (membership === 'join') {
      const authoriser = this.restrictedAuthoriser(entry, userId);
      if (authoriser) content.join_authorised_via_users_server = authoriser;
    }
    // 3
    const depth = entry.extremities.reduce((m, e) => Math.max(m, e.depth), 0) + 1;
    const authIds = selectAuthEventIds(version, { type: 'm.room.member', sender: userId, content, state_key: userId }, entry.state);
    const event: JsonObject = {
      type: 'm.room.member',
      content,
      room_id: roomId,
      sender: userId,
      state_key: userId,
      origin,
      origin_server_ts: this.deps.now(),
      depth,
      prev_events: this.refs(version, entry, entry.extremities.map((e) => e.event_id)),
      auth_events: this.refs(version, entry, authIds),
    };
    const probe = { ...event, event_id: '$template', hashes: { sha256: '' }, signatures: {} } as unknown as StoredPdu;
    const verdict = checkEventAuth(version, probe, entry.state, { isSignedBy: () => true });
    if (!verdict.allowed) throw forbidden(`You are not allowed to ${membership} this room: ${verdict.reason}`);
    return { event, room_version: version.id };
  }

  /** send_join / send_leave / send_knock (v2). */
  async sendMembership(origin: string, roomId: string, eventId: string, raw: unknown, membership: ResidentMembership): Promise<Record<string, unknown>> {
    const entry = this.residentEntry(origin, roomId);
    const version = entry.version;
    // 5 before 4: a restricted join must carry our signature too, so we sign what we were sent
    // and then check every required signature (the joiner's and ours) in one go.
    const candidate = isJsonObject(raw) ? raw : {};
    const via = isJsonObject(candidate.content) ? candidate.content.join_authorised_via_users_server : undefined;
    const coSign = membership === 'join' && version.restrictedJoinRule && typeof via === 'string' && userIdServerName(via) === this.deps.serverName;
    let toCheck: unknown = raw;
    if (coSign) {
      try {
        toCheck = signEvent(version, candidate as unknown as StoredPdu, this.deps.serverName, this.deps.signingKey);
      } catch {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid event');
      }
    }
    // 4
    const verified = await this.deps.pdus.verify(version, toCheck);
    if (!verified.ok) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid event: ${verified.reason}`);
    const pdu = verified.pdu;
    if (pdu.event_id !== eventId) throw new MatrixError(400, 'M_INVALID_PARAM', 'The event id does not match the path');
    if (pdu.room_id !== roomId || pdu.type !== 'm.room.member' || pdu.state_key !== pdu.sender || pdu.content.membership !== membership) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Not a ${membership} event for this room`);
    }
    if (userIdServerName(pdu.sender) !== origin) throw new MatrixError(400, 'M_INVALID_PARAM', 'The sender does not belong to the requesting server');
    // 6
    const outcome = await this.deps.pdus.receiveVerified(origin, version, verified);
    if (outcome.status !== 'accepted' && outcome.status !== 'known') {
      throw forbidden(`The ${membership} was not accepted: ${outcome.reason}`);
    }
    // 7
    if (outcome.status === 'accepted') this.deps.onAccepted?.(pdu, outcome.position, origin);
    if (membership === 'leave') return {};
    if (membership === 'knock') return { knock_room_state: this.deps.strippedState(roomId, pdu.sender) };
    const state = this.deps.history.stateBefore(roomId, eventId);
    const stateIds = [...state.values()];
    const authChain = this.deps.history.authChain([...stateIds, eventId]);
    const res: Record<string, unknown> = {
      origin: this.deps.serverName,
      state: this.deps.history.wireEvents(version, stateIds),
      auth_chain: this.deps.history.wireEvents(version, authChain),
      members_omitted: false,
      servers_in_room: [this.deps.serverName, ...remoteServersOf(this.deps.serverName, this.deps.sender.cache.get(roomId)?.joined ?? [])].sort(),
    };
    if (coSign) res.event = federationWire(version, pdu);
    return res;
  }

  /** PUT /invite v2 (step 8). */
  async invite(origin: string, roomId: string, eventId: string, body: { event: unknown; room_version: string; invite_room_state?: unknown[] }): Promise<{ event: Record<string, unknown> }> {
    const version = getRoomVersion(body.room_version);
    if (!version) throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${body.room_version} is not supported`, { room_version: body.room_version });
    const known = this.deps.sender.cache.get(roomId);
    if (known && known.version.id !== version.id) throw new MatrixError(400, 'M_BAD_JSON', 'Wrong room version for this room');
    if (known && !roomAllowsServer(known.state, origin)) throw forbidden('Server is banned from this room');
    const verified = await this.deps.pdus.verify(version, body.event);
    if (!verified.ok) throw new MatrixError(400, 'M_BAD_JSON', `Invalid event: ${verified.reason}`);
    const { pdu } = verified;
    if (pdu.event_id !== eventId || pdu.room_id !== roomId) throw new MatrixError(400, 'M_BAD_JSON', 'The event does not match the path');
    if (pdu.type !== 'm.room.member' || pdu.content.membership !== 'invite' || typeof pdu.state_key !== 'string') {
      throw new MatrixError(400, 'M_BAD_JSON', 'Not an invite event');
    }
    if (userIdServerName(pdu.sender) !== origin) throw forbidden('The inviter does not belong to the requesting server');
    const invitee = pdu.state_key;
    if (userIdServerName(invitee) !== this.deps.serverName || !this.deps.userExists(invitee)) throw notFound('No such user on this server');
    const current = this.deps.store.member(roomId, invitee)?.membership;
    if (current === 'join' || current === 'ban') throw forbidden(`The user's membership is ${current}`);
    const signed = signEvent(version, pdu, this.deps.serverName, this.deps.signingKey);
    const weAreIn = known !== undefined && hasUserOn(this.deps.serverName, known.joined);
    // In a room we are in, the invite arrives again as a PDU through /send and is stored then.
    if (!weAreIn) {
      const stripped = (Array.isArray(body.invite_room_state) ? body.invite_room_state : []).filter(isJsonObject);
      stripped.push({ type: pdu.type, state_key: invitee, sender: pdu.sender, content: pdu.content });
      const w = this.deps.store.persistRemoteMembership({ roomId, userId: invitee, eventId, roomVersion: version.id, strippedState: stripped, pdu: signed, membership: 'invite' });
      await w.durable;
      this.deps.notifier.notify(w.result.position, [invitee]);
    }
    return { event: federationWire(version, signed) };
  }

  /** A room we are in (one of our users joined) whose ACL lets `origin` in. */
  private residentEntry(origin: string, roomId: string): RoomEntry {
    const entry = this.deps.sender.cache.get(roomId);
    if (!entry || !hasUserOn(this.deps.serverName, entry.joined)) throw notFound('This server is not in the room');
    if (!roomAllowsServer(entry.state, origin)) throw forbidden('Server is banned from this room');
    return entry;
  }

  /** Step 2: the local user who authorises a restricted join, or undefined when none is needed. */
  private restrictedAuthoriser(entry: RoomEntry, userId: string): string | undefined {
    if (!entry.version.restrictedJoinRule) return undefined;
    const jr = entry.state.get(stateMapKey('m.room.join_rules', ''))?.content;
    if (jr?.join_rule !== 'restricted' && jr?.join_rule !== 'knock_restricted') return undefined;
    const membership = entry.state.get(stateMapKey('m.room.member', userId))?.content.membership;
    if (membership === 'join' || membership === 'invite') return undefined;
    const allowRooms = (Array.isArray(jr.allow) ? jr.allow : [])
      .filter((a) => isJsonObject(a) && a.type === 'm.room_membership' && typeof a.room_id === 'string')
      .map((a) => (a as { room_id: string }).room_id);
    const knownRooms = allowRooms.filter((r) => this.deps.sender.cache.get(r) !== undefined);
    if (knownRooms.length === 0) {
      throw new MatrixError(400, 'M_UNABLE_TO_AUTHORISE_JOIN', 'This server cannot tell whether the user may join');
    }
    if (!knownRooms.some((r) => this.deps.store.member(r, userId)?.membership === 'join')) {
      throw forbidden('You are not in any of the rooms this room allows to join');
    }
    const pl = readPowerLevels(entry.version, entry.state.get(stateMapKey('m.room.create', '')), entry.state.get(stateMapKey('m.room.power_levels', '')));
    for (const u of entry.joined) {
      if (userIdServerName(u) === this.deps.serverName && userPowerLevel(pl, u) >= pl.levels.invite) return u;
    }
    throw new MatrixError(400, 'M_UNABLE_TO_GRANT_JOIN', 'No user on this server can authorise the join');
  }

  /** prev/auth references in the room version's format (v1–2: [id, {sha256}]). */
  private refs(version: RoomVersion, entry: RoomEntry, ids: string[]): JsonObject[keyof JsonObject] {
    if (version.eventIdFormat !== 'v1') return ids;
    const recs = this.deps.store.getDagEvents(ids);
    return ids.map((id) => {
      const pdu = recs.get(id)?.pdu ?? entry.extremities.find((e) => e.event_id === id);
      return [id, { sha256: pdu ? referenceHashBase64(version, pdu) : '' }];
    });
  }
}
