/**
 * Receiving a PDU from another server (spec: server-server "Checks performed on receipt of a
 * PDU", "Rejection", "Soft failure", "Retrieving events"; rooms/vN "State resolution"). The
 * checks, in the spec's order:
 *
 *  1. Format: a valid PDU for the room's version (core/events/format.ts), else dropped.
 *  2. Signatures: every required server's signature verifies with keys from the key fetcher
 *     (core/events/build.ts verifyEventSignatures), else dropped.
 *  3. Content hash: on mismatch the event is redacted and processed in redacted form.
 *  4. Auth events: every auth event known (fetched with /event_auth when not), and the event
 *     passes the auth rules against them, else stored as rejected.
 *  5. State before the event: the prev events' states resolved (core/state/resolve.ts); missing
 *     prev events are fetched with /get_missing_events, and when a gap remains the state at each
 *     unknown prev event comes from /state_ids (+ /event or /state). The event must pass the auth
 *     rules against that state, else stored as rejected.
 *  6. Current state: the event must pass the auth rules against the room's current state (resolved
 *     with the state before it), else it is soft-failed: stored, in the DAG, but neither shown to
 *     clients nor a forward extremity.
 *  7. Accepted: stored in the timeline with its state before, new forward extremities and the
 *     room's new current state (resolved across the extremities), then announced like a local
 *     event (bus `eventPersisted`, sync notifier).
 *
 * Network fetches (steps 4–5) run before the room lock is taken; the checks and the write run
 * under it, so local sends and remote events never interleave within a room. Events fetched for
 * their own sake (auth chains, state) go through steps 1–4 and are stored as outliers; backfilled
 * history (../backfill.ts) goes through 1–5 with the same methods, never 6–7.
 */
import type { RoomVersion } from '../../../core/room-versions.ts';
import { checkPduFormat } from '../../../core/events/format.ts';
import { checkReceivedEvent, isEventSignedBy, requiredSignatureServers } from '../../../core/events/build.ts';
import { createEventIdFromRoomId, eventIdOf, roomIdFromCreateEventId } from '../../../core/events/event-id.ts';
import { redactEvent } from '../../../core/events/redaction.ts';
import { referencedEventIds, stateMapKey, type StoredPdu } from '../../../core/events/types.ts';
import { checkEventAuth, checkEventAuthAgainstAuthEvents, type AuthOptions } from '../../../core/auth/rules.ts';
import { readPowerLevels, userPowerLevel } from '../../../core/auth/power-levels.ts';
import { resolveState, type EventLookup } from '../../../core/state/resolve.ts';
import type { KeyLookup } from '../../../core/crypto/signing.ts';
import { userIdServerName } from '../../../core/ids.ts';
import { isJsonObject } from '../../../core/auth/power-levels.ts';
import type { AsideEvent, DagEventRecord, PersistEventBatch, RoomsStore } from '../../../storage/rooms.ts';
import { relationOf, type EventSender } from '../../rooms/send-event.ts';
import {
  fetchEvent,
  fetchMissingPrevEvents,
  fetchStateEvents,
  topologicalOrder,
  type RemoteRooms,
} from './missing-events.ts';

/** Server keys for event signatures (part A's key fetcher; the same shape request auth uses). */
export interface EventKeySource {
  keysFor(serverNames: readonly string[], minimumValidUntilTs: number): Promise<KeyLookup>;
}

export interface ReceiverDeps {
  store: RoomsStore;
  sender: EventSender;
  keys: EventKeySource;
  /** Absent: gaps cannot be filled, and events behind them are dropped (retried by the sender). */
  remote?: RemoteRooms;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface ReceiveOptions {
  /** false: events fetched by /get_missing_events fall back to /state_ids for their own gaps. */
  fetchMissing?: boolean;
  /** Takes the write's durability instead of waiting for it here, so a transaction's PDUs share
   * fsyncs (group commit); the caller must wait for them before answering. */
  deferDurable?: (durable: Promise<void>) => void;
}

export type PduOutcome =
  | { status: 'accepted'; eventId: string; position: number }
  | { status: 'known'; eventId: string }
  | { status: 'soft_failed'; eventId: string; reason: string }
  | { status: 'rejected'; eventId: string; reason: string }
  /** Not stored: failed format or signature checks, unknown room, or state that could not be had. */
  | { status: 'dropped'; eventId?: string; reason: string };

/** A PDU that passed checks 1–3 (redacted if its content hash did not match), with the keys
 * that verified it (the auth rules check join_authorised_via_users_server signatures with them). */
export interface VerifiedPdu {
  pdu: StoredPdu;
  keys: KeyLookup;
}

export class IncomingPdus {
  constructor(private readonly deps: ReceiverDeps) {}

  /** Runs checks 1–7 on a PDU sent by `origin`; resolves once its outcome is durable (unless deferred). */
  async receive(origin: string, raw: unknown, opts: ReceiveOptions = {}): Promise<PduOutcome> {
    const roomId = isJsonObject(raw) && typeof raw.room_id === 'string' ? raw.room_id : undefined;
    const version = roomId === undefined ? undefined : this.deps.sender.cache.version(roomId);
    if (roomId === undefined || version === undefined || !this.deps.sender.cache.get(roomId)) {
      return { status: 'dropped', reason: 'unknown room' };
    }
    // 1–3
    const verified = await this.verify(version, raw);
    if (!verified.ok) return { status: 'dropped', eventId: verified.eventId, reason: verified.reason };
    return this.receiveVerified(origin, version, verified, opts);
  }

  /** Checks 4–7 on a PDU that passed 1–3 (the resident side verifies and co-signs first). */
  async receiveVerified(origin: string, version: RoomVersion, verified: VerifiedPdu, opts: ReceiveOptions = {}): Promise<PduOutcome> {
    const { pdu } = verified;
    const roomId = pdu.room_id!;
    const settled = settledOutcome(this.deps.store.getDagEvent(pdu.event_id));
    if (settled) return settled;
    // Network work for 4–5, outside the lock.
    let fetchedStates: Map<string, Map<string, string>>;
    try {
      await this.fetchMissingAuthEvents(origin, version, pdu);
      if (opts.fetchMissing !== false) await this.fetchMissingPrevEvents(origin, pdu);
      fetchedStates = await this.fetchPrevStates(origin, version, pdu);
    } catch (e) {
      return { status: 'dropped', eventId: pdu.event_id, reason: `could not fetch what the event depends on: ${(e as Error).message}` };
    }
    const { outcome, durable } = await this.deps.sender.lock.run(roomId, async () => this.processLocked(version, verified, fetchedStates));
    // Durable (and, when accepted, announced) before the sender hears the answer.
    if (durable && opts.deferDurable) opts.deferDurable(durable);
    else await durable;
    return outcome;
  }

  /** Checks 1–3: format, signatures, content hash (redact on mismatch). */
  async verify(version: RoomVersion, raw: unknown): Promise<({ ok: true } & VerifiedPdu) | { ok: false; reason: string; eventId?: string }> {
    const format = checkPduFormat(version, raw);
    if (!format.ok) return { ok: false, reason: `invalid PDU: ${format.reason}` };
    const candidate = raw as StoredPdu;
    let keys: KeyLookup;
    try {
      keys = await this.deps.keys.keysFor(requiredSignatureServers(version, candidate), candidate.origin_server_ts);
    } catch (e) {
      return { ok: false, reason: `could not fetch signing keys: ${(e as Error).message}` };
    }
    return this.verifyWithKeys(version, candidate, keys);
  }

  /**
   * Checks 1–3 on a batch of events of one room with one key fetch (auth chains, state, a
   * send_join answer); those failing, or of another room, are left out. Also returns the keys
   * (the auth rules check join_authorised_via_users_server signatures with them).
   */
  async verifyRoomEvents(version: RoomVersion, roomId: string, raws: readonly unknown[]): Promise<{ pdus: StoredPdu[]; keys: KeyLookup }> {
    const candidates = raws.filter((r) => checkPduFormat(version, r).ok) as StoredPdu[];
    if (candidates.length === 0) return { pdus: [], keys: {} };
    const servers = new Set<string>();
    let minTs = Infinity;
    for (const c of candidates) {
      for (const s of requiredSignatureServers(version, c)) servers.add(s);
      minTs = Math.min(minTs, c.origin_server_ts);
    }
    const keys = await this.deps.keys.keysFor([...servers], minTs);
    const pdus: StoredPdu[] = [];
    for (const c of candidates) {
      const v = this.verifyWithKeys(version, c, keys);
      if (v.ok && isOfRoom(version, roomId, v.pdu)) pdus.push(v.pdu);
    }
    return { pdus, keys };
  }

  private verifyWithKeys(version: RoomVersion, candidate: StoredPdu, keys: KeyLookup): ({ ok: true } & VerifiedPdu) | { ok: false; reason: string; eventId?: string } {
    const { unsigned: _u, ...signedPart } = candidate;
    const checked = checkReceivedEvent(version, signedPart, keys);
    // The id is the reference hash of the event as sent (v3+), whichever form we keep.
    const eventId = eventIdOf(version, signedPart);
    if (!checked.ok) return { ok: false, reason: `bad signature: ${checked.reason}`, eventId };
    if (eventId === undefined) return { ok: false, reason: 'event has no id' };
    const pdu = { ...(checked.event as StoredPdu), event_id: eventId };
    return { ok: true, pdu, keys };
  }

  /**
   * Stores events fetched for their own sake (auth chains, state) as outliers after checks 1–4;
   * those failing auth are stored as rejected, those failing 1–3 or lacking auth events are left
   * out. Returns the ids now known.
   */
  async storeOutliers(roomId: string, version: RoomVersion, raws: readonly unknown[]): Promise<Set<string>> {
    const { pdus, keys } = await this.verifyRoomEvents(version, roomId, raws);
    return this.storeVerifiedOutliers(roomId, version, pdus, keys);
  }

  /** storeOutliers for events verifyRoomEvents already passed (checks 1–3), with its keys. */
  async storeVerifiedOutliers(roomId: string, version: RoomVersion, verified: readonly StoredPdu[], keys: KeyLookup): Promise<Set<string>> {
    if (verified.length === 0) return new Set();
    const known = new Set<string>();
    const batch = new Map<string, AsideEvent>();
    const wanted = verified.flatMap((p) => [p.event_id, ...referencedEventIds(p.auth_events)]);
    if (version.roomIdFromCreateEvent) wanted.push(createEventIdFromRoomId(roomId));
    const stored = this.deps.store.getDagEvents(wanted);
    const lookup = (id: string): { pdu: StoredPdu; rejected: boolean } | undefined => {
      const b = batch.get(id);
      if (b) return { pdu: b.pdu, rejected: b.kind === 'rejected' };
      const s = stored.get(id);
      return s ? { pdu: authForm(version, s), rejected: s.kind === 'rejected' } : undefined;
    };
    for (const pdu of topologicalOrder(verified)) {
      if (stored.has(pdu.event_id) || batch.has(pdu.event_id)) {
        known.add(pdu.event_id);
        continue;
      }
      const authById = new Map<string, StoredPdu>();
      let complete = true;
      for (const id of referencedEventIds(pdu.auth_events)) {
        const a = lookup(id);
        if (a) authById.set(id, a.pdu);
        else complete = false;
      }
      if (!complete) continue;
      const verdict = checkEventAuthAgainstAuthEvents(version, pdu, authById, this.createEventOf(version, roomId, lookup), {
        isRejected: (id) => lookup(id)?.rejected ?? false,
        isSignedBy: (e, s) => isEventSignedBy(version, e, s, keys),
      });
      batch.set(pdu.event_id, verdict.allowed ? { pdu, kind: 'outlier' } : { pdu, kind: 'rejected', reason: verdict.reason });
      known.add(pdu.event_id);
    }
    if (batch.size > 0) await this.deps.store.persistAside(roomId, [...batch.values()]).durable;
    return known;
  }

  private createEventOf(version: RoomVersion, roomId: string, lookup: (id: string) => { pdu: StoredPdu } | undefined): StoredPdu | undefined {
    return version.roomIdFromCreateEvent ? lookup(createEventIdFromRoomId(roomId))?.pdu : undefined;
  }

  // ---- network: filling gaps before the lock ----------------------------------------------------

  /** Step 4's prerequisite: unknown auth events come from the origin's /event_auth. */
  async fetchMissingAuthEvents(origin: string, version: RoomVersion, pdu: StoredPdu): Promise<void> {
    const ids = referencedEventIds(pdu.auth_events);
    if (version.roomIdFromCreateEvent) ids.push(createEventIdFromRoomId(pdu.room_id!));
    const known = this.deps.store.getDagEvents(ids);
    if (ids.every((id) => known.has(id)) || !this.deps.remote) return;
    const res = await this.deps.remote.eventAuth(origin, pdu.room_id!, pdu.event_id);
    await this.storeOutliers(pdu.room_id!, version, Array.isArray(res?.auth_chain) ? res.auth_chain : []);
  }

  /** Step 5's first resort: /get_missing_events between our extremities and the event. */
  private async fetchMissingPrevEvents(origin: string, pdu: StoredPdu): Promise<void> {
    const prevIds = referencedEventIds(pdu.prev_events);
    const known = this.deps.store.getDagEvents(prevIds);
    if (prevIds.every((id) => known.has(id)) || !this.deps.remote) return;
    const entry = this.deps.sender.cache.get(pdu.room_id!);
    if (!entry) return;
    const minDepth = entry.extremities.reduce((m, e) => Math.min(m, e.depth), Infinity);
    const missing = await fetchMissingPrevEvents(
      this.deps.remote,
      origin,
      pdu.room_id!,
      { eventId: pdu.event_id, depth: pdu.depth },
      entry.extremities.map((e) => e.event_id),
      Number.isFinite(minDepth) ? minDepth : 0,
    );
    for (const raw of missing) {
      const outcome = await this.receive(origin, raw, { fetchMissing: false });
      if (outcome.status === 'dropped') this.deps.log?.('info', 'missing event dropped', { reason: outcome.reason });
    }
  }

  /**
   * Step 5's last resort: for each prev event still unknown (or known only as an outlier), the
   * state at it from /state_ids, with unknown events fetched and stored as outliers. Returns
   * the state after each such prev event.
   */
  private async fetchPrevStates(origin: string, version: RoomVersion, pdu: StoredPdu): Promise<Map<string, Map<string, string>>> {
    const prevIds = referencedEventIds(pdu.prev_events);
    const known = this.deps.store.getDagEvents(prevIds);
    const gaps = prevIds.filter((id) => { const k = known.get(id); return !k || k.stateGroup === null; });
    return this.fetchStatesAfter(origin, version, pdu.room_id!, gaps);
  }

  /** The state after each of `gaps` (events whose state is not stored here) from the origin's
   * /state_ids, unknown events fetched and stored as outliers (the gap events themselves too). */
  async fetchStatesAfter(origin: string, version: RoomVersion, roomId: string, gaps: readonly string[]): Promise<Map<string, Map<string, string>>> {
    const out = new Map<string, Map<string, string>>();
    if (gaps.length === 0) return out;
    const remote = this.deps.remote;
    if (!remote) throw new Error('prev events are missing and no remote is configured');
    for (const prevId of gaps) {
      const ids = await remote.stateIds(origin, roomId, prevId);
      const pduIds = Array.isArray(ids?.pdu_ids) ? ids.pdu_ids.filter((x): x is string => typeof x === 'string') : [];
      const authIds = Array.isArray(ids?.auth_chain_ids) ? ids.auth_chain_ids.filter((x): x is string => typeof x === 'string') : [];
      const have = this.deps.store.getDagEvents([...pduIds, ...authIds, prevId]);
      const unknown = [...pduIds, ...authIds].filter((id) => !have.has(id));
      const fetched = await fetchStateEvents(remote, origin, roomId, prevId, unknown);
      if (!have.has(prevId)) fetched.push(...(await fetchEvent(remote, origin, prevId)));
      await this.storeOutliers(roomId, version, fetched);
      const now = this.deps.store.getDagEvents([...pduIds, prevId]);
      const state = new Map<string, string>();
      for (const id of pduIds) {
        const rec = now.get(id);
        if (!rec || rec.kind === 'rejected' || typeof rec.pdu.state_key !== 'string') continue;
        state.set(stateMapKey(rec.pdu.type, rec.pdu.state_key), id);
      }
      // /state_ids gives the state before the event; the state after it includes the event.
      const prev = now.get(prevId);
      if (!prev) throw new Error(`prev event ${prevId} could not be fetched`);
      if (typeof prev.pdu.state_key === 'string' && prev.kind !== 'rejected') state.set(stateMapKey(prev.pdu.type, prev.pdu.state_key), prevId);
      out.set(prevId, state);
    }
    return out;
  }

  // ---- under the room lock: checks 4–7 and the write --------------------------------------------

  private processLocked(
    version: RoomVersion,
    verified: VerifiedPdu,
    fetchedStates: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ): { outcome: PduOutcome; durable?: Promise<void> } {
    const { pdu } = verified;
    const { store, sender } = this.deps;
    const roomId = pdu.room_id!;
    const eventId = pdu.event_id;
    const entry = sender.cache.get(roomId);
    if (!entry) return { outcome: { status: 'dropped', eventId, reason: 'unknown room' } };
    const stored = store.getDagEvent(eventId);
    const settled = settledOutcome(stored);
    if (settled) return { outcome: settled };
    const checked = this.checkAuthAndStateBefore(version, roomId, verified, fetchedStates, entry);
    if (!checked.ok) {
      if (checked.dropped) return { outcome: { status: 'dropped', eventId, reason: checked.reason } };
      return this.reject(roomId, pdu, checked.reason, checked.stateBefore, entry.stateGroup);
    }
    const { stateBefore, stateBeforeEvents, singleGroup, lookup, authOptions } = checked;
    const prevIds = [...new Set(referencedEventIds(pdu.prev_events))];

    // 6. Current state, else soft-fail.
    const extremityIds = entry.extremities.map((e) => e.event_id);
    const onTip = prevIds.length === extremityIds.length && extremityIds.every((id) => prevIds.includes(id));
    if (!onTip) {
      const currentIds = new Map([...entry.state].map(([k, e]) => [k, e.event_id] as const));
      const current = resolveState(version, [currentIds, stateBefore], lookup, undefined, { authOptions });
      const verdict = checkEventAuth(version, pdu, eventsOf(current, lookup), authOptions);
      if (!verdict.allowed) {
        const reason = `current state: ${verdict.reason}`;
        const aside: AsideEvent = { pdu, kind: 'soft_failed', reason, stateGroupBefore: singleGroup ?? entry.stateGroup };
        if (singleGroup === undefined) aside.stateBefore = stateBefore;
        const written = store.persistAside(roomId, [aside]);
        this.deps.log?.('info', 'soft-failed a remote event', { eventId, reason });
        return { outcome: { status: 'soft_failed', eventId, reason }, durable: written.durable };
      }
    }

    // 7. Accept: timeline, extremities, current state.
    const extremities = [...entry.extremities.filter((e) => !prevIds.includes(e.event_id)), pdu];
    const batch: PersistEventBatch = { roomId, pdu, stateGroupBefore: singleGroup ?? entry.stateGroup, forwardExtremities: extremities.map((e) => e.event_id) };
    if (stored?.kind === 'outlier') batch.replacesOutlier = true;
    const linear = extremities.length === 1 && singleGroup !== undefined && singleGroup === entry.stateGroup;
    if (!linear) {
      if (singleGroup === undefined) batch.stateBefore = stateBefore;
      else batch.stateBefore = store.stateGroupIds(singleGroup);
      batch.currentState = this.currentStateAfter(version, pdu, stateBefore, extremities, lookup, authOptions);
    }
    const relation = relationOf(pdu.content);
    if (relation) batch.relation = relation;
    const redacts = this.redactionToApply(version, pdu, stateBeforeEvents);
    if (redacts !== undefined) batch.redacts = redacts;
    else if (pdu.type === 'm.room.redaction') {
      // Its target may come later by backfill, which then decides whether this applies.
      const target = redactionTarget(version, pdu);
      if (target !== undefined && !store.getEvent(target)) batch.redactsUnheld = target;
    }
    const heldRedaction = this.heldRedactionOf(version, roomId, pdu);
    if (heldRedaction !== undefined) batch.redactedBy = heldRedaction;
    const sent = sender.persistRemoteLocked(entry, batch, extremities);
    return { outcome: { status: 'accepted', eventId, position: sent.position }, durable: sent.done };
  }

  /**
   * Checks 4–5, shared by live PDUs and backfilled history: the event against its auth events,
   * then against the state before it (its prev events' states, resolved; `fetchedStates` stands
   * for prev events whose state is not stored). `tip`: the room's current state group and its
   * events, reused when the event sits on it.
   */
  checkAuthAndStateBefore(
    version: RoomVersion,
    roomId: string,
    verified: VerifiedPdu,
    fetchedStates: ReadonlyMap<string, ReadonlyMap<string, string>>,
    tip?: { stateGroup: number; state: ReadonlyMap<string, StoredPdu> },
  ):
    | { ok: true; stateBefore: Map<string, string>; stateBeforeEvents: ReadonlyMap<string, StoredPdu>; singleGroup?: number; lookup: EventLookup; authOptions: AuthOptions }
    | { ok: false; dropped?: true; reason: string; stateBefore?: Map<string, string> } {
    const { pdu, keys } = verified;
    const { store } = this.deps;
    const records = new Map<string, DagEventRecord | undefined>();
    const dag = (id: string): DagEventRecord | undefined => {
      if (!records.has(id)) records.set(id, store.getDagEvent(id));
      return records.get(id);
    };
    const lookup: EventLookup = {
      getEvent: (id) => {
        const r = dag(id);
        return r ? authForm(version, r) : undefined;
      },
      isRejected: (id) => dag(id)?.kind === 'rejected',
    };
    const authOptions: AuthOptions = { isSignedBy: (e, s) => isEventSignedBy(version, e, s, keys) };

    // 4. Auth events.
    const authById = new Map<string, StoredPdu>();
    for (const id of referencedEventIds(pdu.auth_events)) {
      const a = lookup.getEvent(id);
      if (a) authById.set(id, a);
    }
    const createEvent = version.roomIdFromCreateEvent ? lookup.getEvent(createEventIdFromRoomId(roomId)) : undefined;
    const authVerdict = checkEventAuthAgainstAuthEvents(version, pdu, authById, createEvent, {
      ...authOptions,
      isRejected: (id) => lookup.isRejected!(id),
    });
    if (!authVerdict.allowed) return { ok: false, reason: `auth events: ${authVerdict.reason}` };

    // 5. State before the event: the prev events' states, resolved.
    const prevIds = [...new Set(referencedEventIds(pdu.prev_events))];
    const stateSets: ReadonlyMap<string, string>[] = [];
    let singleGroup: number | undefined;
    for (const id of prevIds) {
      const fetched = fetchedStates.get(id);
      if (fetched) {
        stateSets.push(fetched);
        continue;
      }
      const rec = dag(id);
      if (!rec || rec.stateGroup === null) return { ok: false, dropped: true, reason: `no state for prev event ${id}` };
      const after = store.stateGroupIds(rec.stateGroup);
      stateSets.push(after);
      if (prevIds.length === 1 && rec.kind !== 'rejected') singleGroup = rec.stateGroup;
    }
    const stateBefore = resolveState(version, stateSets, lookup, undefined, { authOptions });
    // On the tip the state before is the current state, which the room cache holds as events.
    const stateBeforeEvents = tip && singleGroup !== undefined && singleGroup === tip.stateGroup ? tip.state : eventsOf(stateBefore, lookup);
    const beforeVerdict = checkEventAuth(version, pdu, stateBeforeEvents, authOptions);
    if (!beforeVerdict.allowed) return { ok: false, reason: `state before: ${beforeVerdict.reason}`, stateBefore };
    return { ok: true, stateBefore, stateBeforeEvents, singleGroup, lookup, authOptions };
  }

  /** The room's state across the new forward extremities (the event's own state if it is the only one). */
  private currentStateAfter(
    version: RoomVersion,
    pdu: StoredPdu,
    stateBefore: ReadonlyMap<string, string>,
    extremities: StoredPdu[],
    lookup: EventLookup,
    authOptions: AuthOptions,
  ): Map<string, string> {
    const after = new Map(stateBefore);
    if (typeof pdu.state_key === 'string') after.set(stateMapKey(pdu.type, pdu.state_key), pdu.event_id);
    const sets: ReadonlyMap<string, string>[] = [after];
    for (const e of extremities) {
      if (e.event_id === pdu.event_id) continue;
      const group = this.deps.store.getDagEvent(e.event_id)?.stateGroup;
      if (group !== null && group !== undefined) sets.push(this.deps.store.stateGroupIds(group));
    }
    if (sets.length === 1) return after;
    // The new event is not stored yet: resolution must see it.
    return resolveState(version, sets, { getEvent: (id) => (id === pdu.event_id ? pdu : lookup.getEvent(id)), isRejected: lookup.isRejected }, undefined, { authOptions });
  }

  /** A redaction applies when its target is known and in the room, and the sender may redact
   * it: same server as the target's sender, or the `redact` power level (rooms/v3+ "Handling
   * redactions"; v1–2 checked this in the auth rules already). */
  private redactionToApply(version: RoomVersion, pdu: StoredPdu, state: ReadonlyMap<string, StoredPdu>): string | undefined {
    if (pdu.type !== 'm.room.redaction') return undefined;
    const target = redactionTarget(version, pdu);
    if (target === undefined) return undefined;
    const rec = this.deps.store.getEvent(target);
    if (!rec || rec.roomId !== pdu.room_id) return undefined;
    return redactionAllowed(version, pdu, rec.pdu, state) ? target : undefined;
  }

  /** A redaction that arrived before `target` and waited for it (redactsUnheld), and that its
   * sender may apply, judged against the state before the redaction as when it arrived. */
  private heldRedactionOf(version: RoomVersion, roomId: string, target: StoredPdu): string | undefined {
    const { store } = this.deps;
    const ids = store.redactionsTargeting([target.event_id]).get(target.event_id) ?? [];
    if (ids.length === 0) return undefined;
    for (const [id, rec] of store.getEvents(ids)) {
      if (rec.roomId !== roomId) continue;
      // A redaction is no state event: the state after it is the state before it.
      const state = redactionAuthState(store.stateGroupIds(rec.stateGroup), (eventId) => store.getDagEvent(eventId)?.pdu);
      if (redactionAllowed(version, rec.pdu, target, state)) return id;
    }
    return undefined;
  }

  private reject(
    roomId: string,
    pdu: StoredPdu,
    reason: string,
    stateBefore?: ReadonlyMap<string, string>,
    base?: number,
  ): { outcome: PduOutcome; durable: Promise<void> } {
    const aside: AsideEvent = { pdu, kind: 'rejected', reason };
    if (stateBefore) {
      aside.stateBefore = stateBefore;
      aside.stateGroupBefore = base ?? null;
    }
    const written = this.deps.store.persistAside(roomId, [aside]);
    this.deps.log?.('info', 'rejected a remote event', { eventId: pdu.event_id, reason });
    return { outcome: { status: 'rejected', eventId: pdu.event_id, reason }, durable: written.durable };
  }
}

/** The event an m.room.redaction names (v11 moved `redacts` into content). */
export function redactionTarget(version: RoomVersion, pdu: StoredPdu): string | undefined {
  const target = version.redactsInContent ? pdu.content.redacts : pdu.redacts;
  return typeof target === 'string' ? target : undefined;
}

/** Whether `redaction` (its state before in `state`) may redact `target`, an event of the same
 * room: same server as the target's sender, or the `redact` power level (v3+ "Handling redactions"). */
export function redactionAllowed(version: RoomVersion, redaction: StoredPdu, target: StoredPdu, state: ReadonlyMap<string, StoredPdu>): boolean {
  if (userIdServerName(target.sender) === userIdServerName(redaction.sender)) return true;
  const pl = readPowerLevels(version, state.get(stateMapKey('m.room.create', '')), state.get(stateMapKey('m.room.power_levels', '')));
  return userPowerLevel(pl, redaction.sender) >= pl.levels.redact;
}

/** The events of a state (by id) that redactionAllowed reads: the create and power levels. */
export function redactionAuthState(stateBefore: ReadonlyMap<string, string>, lookup: (eventId: string) => StoredPdu | undefined): Map<string, StoredPdu> {
  const state = new Map<string, StoredPdu>();
  for (const key of [stateMapKey('m.room.create', ''), stateMapKey('m.room.power_levels', '')]) {
    const eventId = stateBefore.get(key);
    const event = eventId === undefined ? undefined : lookup(eventId);
    if (event) state.set(key, event);
  }
  return state;
}

/** Whether a verified event belongs to the room: by room_id, or for a v12 create event (which
 * has none) by its id, which the room id is derived from. */
function isOfRoom(version: RoomVersion, roomId: string, pdu: StoredPdu): boolean {
  if (version.roomIdFromCreateEvent && pdu.type === 'm.room.create') return roomIdFromCreateEventId(pdu.event_id) === roomId;
  return pdu.room_id === roomId;
}

/** The form auth and state resolution see: redacted once redacted. */
function authForm(version: RoomVersion, rec: DagEventRecord): StoredPdu {
  return rec.redactedBy ? ({ ...redactEvent(version, rec.pdu), event_id: rec.pdu.event_id } as StoredPdu) : rec.pdu;
}

/** State ids → events (ids the lookup cannot find are left out). */
function eventsOf(ids: ReadonlyMap<string, string>, lookup: EventLookup): Map<string, StoredPdu> {
  const out = new Map<string, StoredPdu>();
  for (const [k, id] of ids) {
    const e = lookup.getEvent(id);
    if (e) out.set(k, e);
  }
  return out;
}

/** The outcome of an event seen before: in the timeline, rejected or soft-failed (an outlier is
 * not settled: it may still join the timeline). */
function settledOutcome(rec: DagEventRecord | undefined): PduOutcome | undefined {
  if (!rec || rec.kind === 'outlier') return undefined;
  const eventId = rec.pdu.event_id;
  if (rec.kind === 'timeline') return { status: 'known', eventId };
  return { status: rec.kind, eventId, reason: 'seen before' };
}
