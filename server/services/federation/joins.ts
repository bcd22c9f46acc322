/**
 * The joining side of membership over federation (spec: server-server "Joining Rooms",
 * "Leaving Rooms (Rejecting Invites)", "Inviting to a room", "Knocking upon a room"; joins-v2.yaml,
 * leaving-v2.yaml, invites-v2.yaml, knocks.yaml, query.yaml /query/directory). Implements the
 * rooms service's RemoteMembershipHandler.
 *
 * Joining a room this server is not in:
 *  1. Candidate resident servers: the `via` list, the alias's servers (/query/directory), the
 *     room id's server (v1–11), the server of whoever invited the user.
 *  2. make_join on each until one answers with a template in a room version we support.
 *  3. Fill in the template (our profile, the reason), hash, sign and derive the id (core build).
 *  4. send_join v2; a restricted join comes back co-signed by the resident server.
 *  5. Check every returned event as the receiver does (IncomingPdus.verifyRoomEvents): format,
 *     signatures, content hash (redacted copy on mismatch), room; then the auth rules against its
 *     own auth events, oldest first; rejected events are dropped from the state. The join itself
 *     must pass auth against the returned state.
 *  6. Persist in one write: the state and auth chain as outliers, the join as the first timeline
 *     event with the returned state before it, then announce it (bus, sync).
 */
import type { Ed25519SigningKey } from '../../core/crypto/ed25519.ts';
import type { KeyLookup } from '../../core/crypto/signing.ts';
import { buildEvent, checkReceivedEvent, type ProtoEvent } from '../../core/events/build.ts';
import { computeEventId, eventIdOf } from '../../core/events/event-id.ts';
import { wireForm } from '../../core/events/hashes.ts';
import { stateMapKey, type JsonObject, type Pdu, type StoredPdu } from '../../core/events/types.ts';
import { selectAuthEventIds } from '../../core/auth/auth-events.ts';
import { isJsonObject } from '../../core/auth/power-levels.ts';
import { checkEventAuth, checkEventAuthAgainstAuthEvents } from '../../core/auth/rules.ts';
import { isValidRoomAlias, parseRoomAlias, roomIdServerName, userIdServerName } from '../../core/ids.ts';
import { getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import { MatrixError, forbidden, notFound } from '../../errors.ts';
import type { AsideEvent, RoomsStore } from '../../storage/rooms.ts';
import type { Bus } from '../bus.ts';
import type { Notifier } from '../sync/notifier.ts';
import { memberContent, type RemoteMembershipHandler } from '../rooms/membership.ts';
import type { Profile } from '../rooms/deps.ts';
import type { EventSender } from '../rooms/send-event.ts';
import { strippedStateOf } from '../rooms/rooms-reader.ts';
import { fedPath, FederationError, type FederationMethod, type FederationRequestOptions } from './client.ts';
import { asArray } from './receiver/missing-events.ts';
import type { IncomingPdus } from './receiver/incoming-pdu.ts';

/** The federation client as joins use it (FederationClient fits). */
export interface FederationRequester {
  request<T = unknown>(destination: string, method: FederationMethod, path: string, opts?: FederationRequestOptions): Promise<T>;
}

export interface JoinsDeps {
  serverName: string;
  signingKey: Ed25519SigningKey;
  client: FederationRequester;
  keys: { keysFor(serverNames: Iterable<string>, minimumValidUntilTs: number): Promise<KeyLookup> };
  store: RoomsStore;
  sender: EventSender;
  /** The receiver's checks 1–3, for the events a send_join answer carries. */
  pdus: Pick<IncomingPdus, 'verifyRoomEvents'>;
  bus: Bus;
  notifier: Notifier;
  getProfile(userId: string): Profile;
  supportedVersions(): string[];
  randomString(length: number): string;
  now?: () => number;
}

interface Template {
  event: Record<string, unknown>;
  room_version?: string;
}

export class FederationJoins implements RemoteMembershipHandler {
  private readonly now: () => number;

  constructor(private readonly deps: JoinsDeps) {
    this.now = deps.now ?? Date.now;
  }

  // ---- join ------------------------------------------------------------------------------------

  async join(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[]): Promise<{ roomId: string }> {
    const { roomId, servers } = await this.target(userId, roomIdOrAlias, via);
    const { destination, version, template } = await this.makeMembership('make_join', roomId, userId, servers);
    const content: JsonObject = { ...memberContent('join', this.deps.getProfile(userId), reason) };
    const authorised = (template.content as JsonObject | undefined)?.join_authorised_via_users_server;
    if (typeof authorised === 'string') content.join_authorised_via_users_server = authorised;
    let join = this.fillTemplate(version, template, userId, content, 'join');
    const res = await this.deps.client.request<{ state?: unknown; auth_chain?: unknown; event?: unknown }>(
      destination,
      'PUT',
      fedPath`/_matrix/federation/v2/send_join/${roomId}/${join.event_id}`,
      { body: wireForm(version, join), query: { omit_members: 'false' } },
    );
    // Step 4: the resident's co-signed copy of a restricted join (only its signatures may differ).
    if (isJsonObject(res.event) && isJsonObject(res.event.signatures)) {
      join = { ...join, signatures: { ...(res.event.signatures as Pdu['signatures']), ...join.signatures } };
    }
    await this.persistJoin(version, roomId, join, asArray(res.state), asArray(res.auth_chain));
    return { roomId };
  }

  private async persistJoin(version: RoomVersion, roomId: string, join: StoredPdu, rawState: unknown[], rawAuth: unknown[]): Promise<void> {
    const { pdus } = await this.deps.pdus.verifyRoomEvents(version, roomId, [...rawState, ...rawAuth]);
    const events = new Map(pdus.map((p) => [p.event_id, p]));
    const stateIds = new Set(rawState.map((e) => this.eventIdOf(version, e)).filter((id): id is string => id !== undefined));
    const accepted = this.authCheck(version, events);
    const stateBefore = new Map<string, string>();
    const stateEvents = new Map<string, StoredPdu>();
    for (const id of stateIds) {
      const e = accepted.get(id);
      if (!e || typeof e.state_key !== 'string') continue;
      stateBefore.set(stateMapKey(e.type, e.state_key), id);
      stateEvents.set(stateMapKey(e.type, e.state_key), e);
    }
    const create = stateEvents.get(stateMapKey('m.room.create', ''));
    if (!create) throw new MatrixError(502, 'M_UNKNOWN', 'The resident server sent a room state without m.room.create');
    const verdict = checkEventAuth(version, join, stateEvents);
    if (!verdict.allowed) throw forbidden(`The join does not pass the room's auth rules: ${verdict.reason}`);

    const { store, sender } = this.deps;
    const aside: AsideEvent[] = [...accepted.values()].map((pdu) => ({ pdu, kind: 'outlier' }));
    const currentState = new Map(stateBefore).set(stateMapKey('m.room.member', join.state_key!), join.event_id);
    const written = await sender.lock.run(roomId, async () => {
      const known = store.getRoom(roomId) !== undefined;
      const w = store.persistEvent({
        roomId,
        pdu: join,
        newRoom: known ? undefined : { roomVersion: version.id, creator: create.sender, createdTs: create.origin_server_ts },
        stateGroupBefore: known ? store.currentStateGroup(roomId) : null,
        stateBefore,
        currentState,
        forwardExtremities: [join.event_id],
        aside,
      });
      sender.cache.invalidate(roomId);
      return w;
    });
    await written.durable;
    this.announce(join, written.result.position, version, [join.state_key!]);
  }

  // ---- knock -----------------------------------------------------------------------------------

  async knock(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[]): Promise<{ roomId: string }> {
    const { roomId, servers } = await this.target(userId, roomIdOrAlias, via);
    const { destination, version, template } = await this.makeMembership('make_knock', roomId, userId, servers);
    const knock = this.fillTemplate(version, template, userId, memberContent('knock', this.deps.getProfile(userId), reason), 'knock');
    const res = await this.deps.client.request<{ knock_room_state?: unknown }>(
      destination,
      'PUT',
      fedPath`/_matrix/federation/v1/send_knock/${roomId}/${knock.event_id}`,
      { body: wireForm(version, knock) },
    );
    await this.recordRemoteMembership(version, roomId, knock, 'knock', asArray(res.knock_room_state).filter(isJsonObject));
    return { roomId };
  }

  // ---- leave (reject an invite, rescind a knock) ---------------------------------------------

  async leave(userId: string, roomId: string, reason: string | undefined): Promise<void> {
    const remote = this.deps.store.remoteMembership(roomId, userId);
    if (!remote) throw notFound('Unknown room');
    const inviteEvent = this.deps.store.getDagEvent(remote.eventId)?.pdu;
    const servers = [userIdServerName(inviteEvent?.sender ?? ''), roomIdServerName(roomId)].filter((s): s is string => s !== undefined);
    const { destination, version, template } = await this.makeMembership('make_leave', roomId, userId, servers);
    const leave = this.fillTemplate(version, template, userId, memberContent('leave', {}, reason), 'leave');
    await this.deps.client.request(destination, 'PUT', fedPath`/_matrix/federation/v2/send_leave/${roomId}/${leave.event_id}`, {
      body: wireForm(version, leave),
    });
    await this.recordRemoteMembership(version, roomId, leave, 'leave', []);
  }

  // ---- invite a remote user into a room we are in ---------------------------------------------

  async invite(userId: string, roomId: string, target: string, content: JsonObject): Promise<void> {
    const destination = userIdServerName(target)!;
    const { sender } = this.deps;
    await sender.lock.run(roomId, async () => {
      const entry = sender.cache.get(roomId);
      if (!entry) throw notFound('Unknown room');
      const { version } = entry;
      const proto: ProtoEvent = {
        type: 'm.room.member',
        state_key: target,
        content,
        sender: userId,
        room_id: roomId,
        prev_events: entry.extremities.map((e) => e.event_id),
        auth_events: selectAuthEventIds(version, { type: 'm.room.member', sender: userId, content, state_key: target }, entry.state),
        depth: entry.extremities.reduce((m, e) => Math.max(m, e.depth), 0) + 1,
        origin_server_ts: this.now(),
      };
      const invite = this.build(version, proto);
      const verdict = checkEventAuth(version, invite, entry.state);
      if (!verdict.allowed) throw forbidden(`${verdict.reason} (auth rule ${verdict.rule})`);
      const res = await this.deps.client.request<{ event?: unknown }>(destination, 'PUT', fedPath`/_matrix/federation/v2/invite/${roomId}/${invite.event_id}`, {
        body: { event: wireForm(version, invite), room_version: version.id, invite_room_state: strippedStateOf(entry.state) },
      });
      // The invitee's server must have signed the very event we built.
      const signed = isJsonObject(res.event) ? { ...(res.event as unknown as Pdu), event_id: invite.event_id } : undefined;
      const keys = await this.deps.keys.keysFor([destination, this.deps.serverName], this.now());
      if (!signed || this.eventIdOf(version, signed) !== invite.event_id) throw forbidden(`${destination} returned a different invite event`);
      const check = checkReceivedEvent(version, signed, keys);
      if (!check.ok || !check.contentHashValid || !isJsonObject(signed.signatures) || !signed.signatures[destination]) {
        throw forbidden(`${destination} did not sign the invite`);
      }
      const sent = sender.persistRemoteLocked(entry, { roomId, pdu: signed as StoredPdu, stateGroupBefore: entry.stateGroup, forwardExtremities: [invite.event_id] }, [
        signed as StoredPdu,
      ]);
      return sent.done;
    });
  }

  // ---- shared steps ----------------------------------------------------------------------------

  /** Step 1: the room id and the servers to ask. */
  private async target(userId: string, roomIdOrAlias: string, via: readonly string[]): Promise<{ roomId: string; servers: string[] }> {
    const servers = [...via];
    let roomId = roomIdOrAlias;
    if (roomIdOrAlias.startsWith('#')) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room alias');
      const aliasServer = parseRoomAlias(roomIdOrAlias)!.serverName;
      let res: { room_id?: unknown; servers?: unknown };
      try {
        res = await this.deps.client.request(aliasServer, 'GET', '/_matrix/federation/v1/query/directory', { query: { room_alias: roomIdOrAlias } });
      } catch (e) {
        if (e instanceof FederationError && e.remote?.status === 404) throw notFound('Room alias not found');
        throw e;
      }
      if (typeof res.room_id !== 'string') throw new MatrixError(502, 'M_UNKNOWN', `${aliasServer} answered the alias query without a room id`);
      roomId = res.room_id;
      servers.push(...asArray(res.servers).filter((s): s is string => typeof s === 'string'), aliasServer);
    }
    const invite = this.deps.store.remoteMembership(roomId, userId);
    const inviter = invite ? this.deps.store.getDagEvent(invite.eventId)?.pdu.sender : undefined;
    for (const s of [inviter ? userIdServerName(inviter) : undefined, roomIdServerName(roomId)]) if (s) servers.push(s);
    const unique = [...new Set(servers)].filter((s) => s !== this.deps.serverName);
    if (unique.length === 0) throw notFound('No server to join the room through (give server_name/via)');
    return { roomId, servers: unique };
  }

  /** Step 2: the first resident server that gives us a template. */
  private async makeMembership(
    kind: 'make_join' | 'make_leave' | 'make_knock',
    roomId: string,
    userId: string,
    servers: readonly string[],
  ): Promise<{ destination: string; version: RoomVersion; template: Record<string, unknown> }> {
    const failures: string[] = [];
    let lastRemote: FederationError | undefined;
    for (const destination of servers) {
      try {
        const path = `/_matrix/federation/v1/${kind}` + fedPath`/${roomId}/${userId}`;
        const res = await this.deps.client.request<Template>(destination, 'GET', path, {
          query: kind === 'make_leave' ? undefined : { ver: this.deps.supportedVersions() },
        });
        const version = getRoomVersion(res.room_version ?? '1');
        if (!version || !this.deps.supportedVersions().includes(version.id)) {
          throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${res.room_version} is not supported`);
        }
        if (!isJsonObject(res.event)) throw new FederationError(destination, 'bad_response', `${kind}: no event template`);
        return { destination, version, template: res.event };
      } catch (e) {
        if (e instanceof MatrixError && e.errcode === 'M_UNSUPPORTED_ROOM_VERSION') throw e;
        if (e instanceof FederationError && e.remote) lastRemote = e;
        failures.push(`${destination}: ${(e as Error).message}`);
      }
    }
    // A resident's refusal (403: not invited, banned) is the answer the client needs.
    if (lastRemote?.remote?.status === 403) throw forbidden(lastRemote.remote.error ?? 'The resident server refused');
    if (lastRemote?.remote?.status === 404) throw notFound('The room is not known to the servers asked');
    throw new MatrixError(502, 'M_UNKNOWN', `No server could help with ${kind}: ${failures.join('; ').slice(0, 500)}`);
  }

  /** Step 3: a template from the resident becomes our signed event. */
  private fillTemplate(version: RoomVersion, t: Record<string, unknown>, userId: string, content: JsonObject, membership: string): StoredPdu {
    if (t.type !== 'm.room.member' || t.state_key !== userId || t.sender !== userId || typeof t.room_id !== 'string') {
      throw new MatrixError(502, 'M_UNKNOWN', 'The resident server sent an unusable event template');
    }
    if (!Array.isArray(t.prev_events) || !Array.isArray(t.auth_events) || typeof t.depth !== 'number') {
      throw new MatrixError(502, 'M_UNKNOWN', 'The event template lacks prev_events, auth_events or depth');
    }
    content.membership = membership;
    return this.build(version, {
      type: 'm.room.member',
      state_key: userId,
      sender: userId,
      room_id: t.room_id,
      content,
      prev_events: t.prev_events as ProtoEvent['prev_events'],
      auth_events: t.auth_events as ProtoEvent['auth_events'],
      depth: t.depth,
      origin_server_ts: this.now(),
    });
  }

  private build(version: RoomVersion, proto: ProtoEvent): StoredPdu {
    return buildEvent(version, proto, {
      serverName: this.deps.serverName,
      signingKey: this.deps.signingKey,
      eventIdLocalpart: version.eventIdFormat === 'v1' ? this.deps.randomString(18) : undefined,
    });
  }

  private eventIdOf(version: RoomVersion, e: unknown): string | undefined {
    if (!isJsonObject(e)) return undefined;
    try {
      return eventIdOf(version, e) ?? computeEventId(version, e);
    } catch {
      return undefined;
    }
  }

  /** Step 5, after the receiver's checks: the auth rules against each event's own auth events, oldest first. */
  private authCheck(version: RoomVersion, events: Map<string, StoredPdu>): Map<string, StoredPdu> {
    const create = [...events.values()].find((e) => e.type === 'm.room.create' && e.state_key === '');
    const accepted = new Map<string, StoredPdu>();
    const rejected = new Set<string>();
    const sorted = [...events.values()].sort((a, b) => a.depth - b.depth || (a.event_id < b.event_id ? -1 : 1));
    for (const e of sorted) {
      const verdict = checkEventAuthAgainstAuthEvents(version, e, events, create, { isRejected: (id) => rejected.has(id) || !events.has(id) });
      if (verdict.allowed) accepted.set(e.event_id, e);
      else rejected.add(e.event_id);
    }
    return accepted;
  }

  /** A knock or leave in a room we are not in: stored aside with the membership for sync. */
  private async recordRemoteMembership(version: RoomVersion, roomId: string, pdu: StoredPdu, membership: 'knock' | 'leave', strippedState: Record<string, unknown>[]): Promise<void> {
    const w = this.deps.store.persistRemoteMembership({ roomId, userId: pdu.state_key!, eventId: pdu.event_id, roomVersion: version.id, strippedState, pdu, membership });
    await w.durable;
    this.deps.notifier.notify(w.result.position, [pdu.state_key!]);
  }

  private announce(pdu: StoredPdu, position: number, version: RoomVersion, users: string[]): void {
    this.deps.bus.publish('eventPersisted', { pdu, streamPosition: position, roomVersion: version.id });
    this.deps.notifier.notify(position, users);
  }
}
