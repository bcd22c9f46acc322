/**
 * Building, checking, storing and announcing local events (ARCHITECTURE "The path of one
 * request", steps 3–5; spec: server-server "Room event format", "Auth events selection",
 * "Signing events"; client-server room_send.yaml and redaction.yaml for the client side).
 *
 *  1. Under the room lock, take current state and forward extremities from the room cache.
 *  2. Build the PDU: prev_events = forward extremities, depth = max(depth) + 1, auth_events by
 *     the selection algorithm, content hash, signature over the redacted form, event id per
 *     room version (core/events/build.ts).
 *  3. Check format and size (core/events/format.ts) and the auth rules against current state
 *     (core/auth/rules.ts). Rejected → 403 M_FORBIDDEN; nothing is stored.
 *  4. Persist in one ordered write (storage: event, state delta, extremities, stream position,
 *     txn id, relation, redaction); update the cache; release the lock. The next event may build
 *     on this one before it is durable, because the journal is ordered.
 *  5. Once durable: publish `eventPersisted` on the bus, then wake sync for the joined members
 *     and the membership target.
 * Remote events accepted by the federation receiver (services/federation/receiver/) share steps
 * 4–5 through `persistRemoteLocked`, under the same room lock.
 */
import { randomBytes } from 'node:crypto';
import { buildEvent, type ProtoEvent } from '../../core/events/build.ts';
import { referenceHashBase64 } from '../../core/events/hashes.ts';
import { checkPduFormat, MAX_PDU_BYTES } from '../../core/events/format.ts';
import { selectAuthEventIds } from '../../core/auth/auth-events.ts';
import { checkEventAuth } from '../../core/auth/rules.ts';
import { CanonicalJsonError } from '../../core/json/canonical.ts';
import { roomIdFromCreateEventId } from '../../core/events/event-id.ts';
import type { RoomVersion } from '../../core/room-versions.ts';
import type { JsonObject, StoredPdu } from '../../core/events/types.ts';
import { MatrixError, forbidden } from '../../errors.ts';
import type { PersistEventBatch } from '../../storage/rooms.ts';
import type { NewPushAction } from '../../storage/push.ts';
import type { RoomsDeps } from './deps.ts';
import { RoomCache, type RoomEntry } from './room-cache.ts';
import { RoomLock } from './room-lock.ts';

export interface EventInput {
  roomId: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: JsonObject;
  /** For m.room.redaction: the target (already checked by the caller). */
  redacts?: string;
  /** Apply the redaction to its target (the caller checked the sender may redact it). */
  applyRedaction?: boolean;
  /** Client transaction (user, device, txnId): makes the send idempotent. */
  txn?: { deviceId: string; txnId: string };
}

/** Evaluates push rules for an event about to be stored (services/push/counts.ts PushCounts). */
export interface PushEvaluator {
  prepare(pdu: StoredPdu): { actions: NewPushAction[]; durable(): void } | undefined;
}

export interface SentEvent {
  eventId: string;
  position: number;
  pdu: StoredPdu;
  /** Resolves once the event is durable and announced. */
  done: Promise<void>;
}

/** Auth rejections inside createRoom are the client's invalid initial state (create_room.yaml 400). */
export type RejectionStyle = 'forbidden' | 'invalid_room_state';

export function defaultRandomString(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .replace(/[-_]/g, 'x')
    .slice(0, length);
}

export class EventSender {
  readonly lock = new RoomLock();
  readonly cache: RoomCache;
  private readonly now: () => number;
  private readonly random: (n: number) => string;
  private pushEvaluator: PushEvaluator | undefined;

  constructor(private readonly deps: RoomsDeps) {
    this.cache = new RoomCache(deps.store);
    this.now = deps.now ?? Date.now;
    this.random = deps.randomString ?? defaultRandomString;
  }

  /** Push rules are evaluated by the push service, which is built after the rooms services. */
  setPushEvaluator(evaluator: PushEvaluator): void {
    this.pushEvaluator = evaluator;
  }

  /** Sends one event: takes the room lock, builds, checks, stores; resolves once announced. */
  async send(input: EventInput): Promise<SentEvent> {
    // A repeated transaction id is answered inside the lock (sendLocked), where it is decisive.
    const sent = await this.lock.run(input.roomId, () => this.sendLocked(input));
    await sent.done;
    return sent;
  }

  private alreadySent(eventId: string): SentEvent {
    const rec = this.deps.store.getEvent(eventId);
    if (!rec) throw new Error(`transaction maps to missing event ${eventId}`);
    return { eventId, position: rec.position, pdu: rec.pdu, done: Promise.resolve() };
  }

  /** The body of `send` for a caller that already holds the room lock. Synchronous up to the
   * write, so the returned event is visible to the next builder at once. */
  sendLocked(input: EventInput, rejection: RejectionStyle = 'forbidden'): SentEvent {
    if (input.txn) {
      const existing = this.deps.store.txnEventId(input.sender, input.txn.deviceId, input.roomId, input.txn.txnId);
      if (existing) return this.alreadySent(existing);
    }
    const entry = this.cache.get(input.roomId);
    if (!entry) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const depth = entry.extremities.reduce((m, e) => Math.max(m, e.depth), 0) + 1;
    const proto: ProtoEvent = {
      type: input.type,
      content: input.content,
      sender: input.sender,
      room_id: input.roomId,
      prev_events: entry.extremities.map((e) => e.event_id),
      auth_events: selectAuthEventIds(
        entry.version,
        { type: input.type, sender: input.sender, content: input.content, state_key: input.stateKey },
        entry.state,
      ),
      depth,
      origin_server_ts: this.now(),
    };
    if (input.stateKey !== undefined) proto.state_key = input.stateKey;
    if (input.redacts !== undefined) proto.redacts = input.redacts;
    const pdu = this.build(entry.version, proto, entry);
    this.check(entry.version, pdu, entry.state, rejection);
    const batch: PersistEventBatch = {
      roomId: input.roomId,
      pdu,
      stateGroupBefore: entry.stateGroup,
      forwardExtremities: [pdu.event_id],
    };
    if (input.txn) batch.txn = { userId: input.sender, deviceId: input.txn.deviceId, txnId: input.txn.txnId };
    const relation = relationOf(pdu.content);
    if (relation) batch.relation = relation;
    let redactTarget: StoredPdu | undefined;
    if (input.redacts !== undefined && input.applyRedaction) {
      batch.redacts = input.redacts;
      redactTarget = this.deps.store.getEvent(input.redacts)?.pdu;
    }
    return this.persist(entry, batch, redactTarget);
  }

  /**
   * Creates a room's first event (m.room.create) and the room itself. For v12 the room id derives
   * from the event; earlier versions take `roomId` (a fresh `!random:server`).
   */
  createRoomLocked(version: RoomVersion, sender: string, content: JsonObject, roomId?: string): SentEvent & { roomId: string } {
    const proto: ProtoEvent = {
      type: 'm.room.create',
      state_key: '',
      content,
      sender,
      prev_events: [],
      auth_events: [],
      depth: 1,
      origin_server_ts: this.now(),
    };
    if (!version.roomIdFromCreateEvent) {
      if (!roomId) throw new Error('room versions before 12 need a room id');
      proto.room_id = roomId;
    }
    const pdu = this.build(version, proto);
    const id = version.roomIdFromCreateEvent ? roomIdFromCreateEventId(pdu.event_id) : roomId!;
    this.check(version, pdu, new Map(), 'invalid_room_state');
    const { store } = this.deps;
    const persisted = store.persistEvent({
      roomId: id,
      pdu,
      newRoom: { roomVersion: version.id, creator: sender, createdTs: pdu.origin_server_ts },
      stateGroupBefore: null,
      forwardExtremities: [pdu.event_id],
    });
    this.cache.invalidate(id);
    const done = persisted.durable.then(() => this.announce(pdu, persisted.result.position, version, [sender]));
    done.catch(() => undefined);
    return { roomId: id, eventId: pdu.event_id, position: persisted.result.position, pdu, done };
  }

  private build(version: RoomVersion, proto: ProtoEvent, entry?: RoomEntry): StoredPdu {
    try {
      return buildEvent(version, proto, {
        serverName: this.deps.serverName,
        signingKey: this.deps.signingKey,
        eventIdLocalpart: version.eventIdFormat === 'v1' ? this.random(18) : undefined,
        referenceHashes: version.eventIdFormat === 'v1' ? (id) => this.referenceHash(version, entry, id) : undefined,
      });
    } catch (e) {
      if (e instanceof CanonicalJsonError) throw new MatrixError(400, 'M_BAD_JSON', `Event is not valid canonical JSON: ${e.message}`);
      throw e;
    }
  }

  /** v1–2 events reference others as [id, {sha256: reference hash}]. */
  private referenceHash(version: RoomVersion, entry: RoomEntry | undefined, id: string): string | undefined {
    const local = entry?.extremities.find((e) => e.event_id === id) ?? [...(entry?.state.values() ?? [])].find((e) => e.event_id === id);
    const pdu = local ?? this.deps.store.getEvent(id)?.pdu;
    return pdu ? referenceHashBase64(version, pdu) : undefined;
  }

  private check(version: RoomVersion, pdu: StoredPdu, state: ReadonlyMap<string, StoredPdu>, rejection: RejectionStyle): void {
    const format = checkPduFormat(version, pdu);
    if (!format.ok) {
      if (format.reason.includes(`${MAX_PDU_BYTES} bytes`)) throw new MatrixError(413, 'M_TOO_LARGE', 'Event is too large');
      throw new MatrixError(400, 'M_BAD_JSON', `Invalid event: ${format.reason}`);
    }
    const verdict = checkEventAuth(version, pdu, state);
    if (!verdict.allowed) {
      const msg = `${verdict.reason} (auth rule ${verdict.rule})`;
      if (rejection === 'invalid_room_state') throw new MatrixError(400, 'M_INVALID_ROOM_STATE', msg);
      throw forbidden(msg);
    }
  }

  private persist(entry: RoomEntry, batch: PersistEventBatch, redactTarget: StoredPdu | undefined): SentEvent {
    return this.write(entry, batch, (stateGroup) => {
      this.cache.applied(entry, batch.pdu, stateGroup);
      if (redactTarget) this.cache.redacted(entry.roomId, redactTarget);
    });
  }

  /**
   * Stores a remote event the federation receiver accepted (caller holds the room lock), with its
   * new forward extremities; the batch carries its resolved state before and, on a fork, the
   * resolved current state. Announced like a local event once durable.
   */
  persistRemoteLocked(entry: RoomEntry, batch: PersistEventBatch, extremities: StoredPdu[]): SentEvent {
    return this.write(entry, batch, (_stateGroup, currentGroup) => {
      this.cache.appliedRemote(entry, batch.pdu, extremities, currentGroup, batch.currentState);
      if (batch.redacts !== undefined) {
        const target = this.deps.store.getEvent(batch.redacts)?.pdu;
        if (target) this.cache.redacted(entry.roomId, target);
      }
    });
  }

  private write(entry: RoomEntry, batch: PersistEventBatch, updateCache: (stateGroup: number, currentGroup: number) => void): SentEvent {
    const { pdu } = batch;
    // Users to wake: members joined before the event, plus the membership target.
    const concerned = new Set(entry.joined);
    // Push rules see the room as it is before the event; their results are stored with it.
    const push = this.pushEvaluator?.prepare(pdu);
    if (push) batch.pushActions = push.actions;
    let written;
    try {
      written = this.deps.store.persistEvent(batch);
    } catch (e) {
      this.cache.invalidate(entry.roomId);
      throw e;
    }
    updateCache(written.result.stateGroup, written.result.currentGroup);
    if (pdu.type === 'm.room.member' && typeof pdu.state_key === 'string') concerned.add(pdu.state_key);
    for (const u of entry.joined) concerned.add(u);
    const position = written.result.position;
    const done = written.durable.then(
      () => {
        this.announce(pdu, position, entry.version, concerned);
        push?.durable();
      },
      (e: unknown) => {
        this.cache.invalidate(entry.roomId);
        throw e;
      },
    );
    done.catch(() => undefined);
    return { eventId: pdu.event_id, position, pdu, done };
  }

  private announce(pdu: StoredPdu, position: number, version: RoomVersion, users: Iterable<string>): void {
    this.deps.bus.publish('eventPersisted', { pdu, streamPosition: position, roomVersion: version.id });
    this.deps.notifier.notify(position, users);
  }
}

/** `m.relates_to` with a string rel_type and event_id (spec: "Forming relationships between events"). */
export function relationOf(content: JsonObject): { relatesTo: string; relType: string } | undefined {
  const rel = content['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || Array.isArray(rel)) return undefined;
  const relType = rel.rel_type;
  const eventId = rel.event_id;
  if (typeof relType !== 'string' || typeof eventId !== 'string') return undefined;
  return { relatesTo: eventId, relType };
}
