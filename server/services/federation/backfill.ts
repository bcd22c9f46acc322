/**
 * Client-driven backfill (spec: server-server "Backfilling and retrieving missing events",
 * backfill.yaml; client-server message_pagination.yaml). When a local user paginates /messages
 * back past the oldest event held here of a room joined over federation, one round fetches older
 * history from a resident server:
 *
 *  1. Backward extremities: prev events of the room's oldest timeline events that are unknown or
 *     only outliers (none: the timeline starts at the create event, nothing to fetch).
 *  2. GET /backfill from the servers of joined members (most members first, servers the room's
 *     m.room.server_acl denies skipped) until one answers, all within one deadline; a server down
 *     or slow only means the page stays as it is.
 *  3. Checks 1–4 on every event as the receiver makes them (IncomingPdus.verifyRoomEvents, one
 *     key fetch for the batch, then storeVerifiedOutliers: stored as outliers, or as rejected),
 *     unknown auth events fetched with /event_auth.
 *  4. Oldest first, check 5 (IncomingPdus.checkAuthAndStateBefore): prev events within the batch
 *     give their state from memory, others from /state_ids (a bounded number). There is no
 *     soft-fail check: history is not measured against the present (Synapse's backfilled events).
 *  5. One write (RoomsStore.persistBackfill): accepted events at negative positions in that order,
 *     before the room's timeline; rejected ones aside; redactions as the live path applies them
 *     (the receiver's rule, IncomingPdus' redactionAllowed): a backfilled redaction applies to its
 *     target held or in the batch, a backfilled event takes a redaction held already (a newer
 *     page, or a live one that named an event we lacked), and a redaction of an event still
 *     missing is recorded for when it comes. Nothing is announced: history reaches neither sync,
 *     push nor other servers; only the search index is told (`indexHistory`). History visibility
 *     applies when clients read it.
 */
import { referencedEventIds, stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import type { RoomVersion } from '../../core/room-versions.ts';
import type { AppliedRedaction, AsideEvent, BackfilledEvent, RoomsStore } from '../../storage/rooms.ts';
import { relationOf, type EventSender } from '../rooms/send-event.ts';
import type { BackfillOutcome } from '../rooms/timeline.ts';
import { redactionAllowed, redactionAuthState, redactionTarget, type IncomingPdus, type VerifiedPdu } from './receiver/incoming-pdu.ts';
import { topologicalOrder } from './receiver/missing-events.ts';
import { MAX_BACKFILL } from './receiver/history.ts';
import { isJsonObject } from '../../core/auth/power-levels.ts';
import { roomAllowsServer } from './receiver/server-acl.ts';
import { residentServers } from './room-servers.ts';

/** Longest a /messages request waits for a backfill round (Synapse bounds it similarly). */
const BACKFILL_TIMEOUT_MS = 5_000;
/** Fewest events asked for per round (most: MAX_BACKFILL, the cap of one /backfill answer). */
const MIN_BACKFILL = 20;
/** Oldest timeline events whose prev events are looked at for backward extremities. */
const OLDEST_SCANNED = 10;
/** /state_ids and /event_auth requests one round may make for events at its edges. */
const MAX_GAP_FETCHES = 5;

export interface BackfillDeps {
  serverName: string;
  store: RoomsStore;
  sender: EventSender;
  pdus: IncomingPdus;
  /** GET /_matrix/federation/v1/backfill/{roomId}?v&limit on `destination`. */
  fetch(destination: string, roomId: string, from: readonly string[], limit: number, timeoutMs: number): Promise<{ pdus?: unknown }>;
  now?: () => number;
  timeoutMs?: number;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  /** Durable backfilled events, for the search index (never sync, push or federation). */
  indexHistory?: (pdus: readonly StoredPdu[]) => void;
}

export class FederationBackfill {
  private readonly now: () => number;
  private readonly inflight = new Map<string, Promise<BackfillOutcome>>();

  constructor(private readonly deps: BackfillDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** One backfill round for the room (shared by concurrent callers); resolves within the
   * timeout to its outcome (timeline.ts BackfillOutcome), never rejects. */
  backfill(roomId: string, limit: number): Promise<BackfillOutcome> {
    let round = this.inflight.get(roomId);
    if (!round) {
      round = this.round(roomId, limit)
        .catch((e: unknown): BackfillOutcome => {
          this.deps.log?.('warn', 'backfill failed', { roomId, error: String(e) });
          return 'pending';
        })
        .finally(() => this.inflight.delete(roomId));
      this.inflight.set(roomId, round);
    }
    const timeoutMs = this.deps.timeoutMs ?? BACKFILL_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    // A round still running at the timeout goes on (it found backward extremities, or it would
    // have ended at once); what it stores serves the next page.
    const timeout = new Promise<BackfillOutcome>((resolve) => (timer = setTimeout(() => resolve('pending'), timeoutMs)));
    return Promise.race([round, timeout]).finally(() => clearTimeout(timer));
  }

  /** Step 1: prev events of the oldest timeline events that we lack, or hold only as outliers. */
  private backwardExtremities(roomId: string): string[] {
    const oldest = this.deps.store.eventsBetween(roomId, { dir: 'f', limit: OLDEST_SCANNED });
    if (oldest.length === 0 || oldest[0]!.pdu.type === 'm.room.create') return [];
    const prevs = [...new Set(oldest.flatMap((e) => referencedEventIds(e.pdu.prev_events)))];
    const known = this.deps.store.getDagEvents(prevs);
    return prevs.filter((id) => {
      const k = known.get(id);
      return !k || k.kind === 'outlier';
    });
  }

  /** Extremities are read once, here: a round that finds some but stores nothing is 'pending'. */
  private async round(roomId: string, limit: number): Promise<BackfillOutcome> {
    const entry = this.deps.sender.cache.get(roomId);
    if (!entry) return 'complete';
    const from = this.backwardExtremities(roomId);
    if (from.length === 0) return 'complete';
    // Step 2.
    const deadline = this.now() + (this.deps.timeoutMs ?? BACKFILL_TIMEOUT_MS);
    const want = Math.min(MAX_BACKFILL, Math.max(MIN_BACKFILL, limit * 2));
    for (const server of residentServers(this.deps.serverName, entry.joined).slice(1 /* ours */).filter((s) => roomAllowsServer(entry.state, s))) {
      const remaining = deadline - this.now();
      if (remaining <= 0) break;
      let raws: unknown[];
      try {
        const res = await this.deps.fetch(server, roomId, from, want, remaining);
        raws = Array.isArray(res?.pdus) ? res.pdus.filter(isJsonObject).slice(0, MAX_BACKFILL) : [];
      } catch (e) {
        this.deps.log?.('info', 'backfill request failed', { roomId, server, error: String(e) });
        continue;
      }
      if ((await this.ingest(server, entry.version, roomId, raws)) > 0) return 'backfilled';
      this.deps.log?.('info', 'backfill got nothing usable', { roomId, server, received: raws.length });
    }
    return 'pending';
  }

  /** Steps 3–5 on what `origin` sent; returns how many events joined the timeline. */
  private async ingest(origin: string, version: RoomVersion, roomId: string, raws: readonly unknown[]): Promise<number> {
    const { pdus, store } = this.deps;
    // Step 3: checks 1–3 on the whole batch with one key fetch, then 4 as outliers are stored.
    const batch = await pdus.verifyRoomEvents(version, roomId, raws);
    const verified = new Map<string, VerifiedPdu>(batch.pdus.map((pdu) => [pdu.event_id, { pdu, keys: batch.keys }]));
    const fresh = (): VerifiedPdu[] => {
      const known = store.getDagEvents([...verified.keys()]);
      return [...verified.values()].filter((v) => known.get(v.pdu.event_id)?.kind !== 'timeline');
    };
    const known = await pdus.storeVerifiedOutliers(roomId, version, batch.pdus, batch.keys);
    let gapFetches = 0;
    for (const v of fresh()) {
      if (known.has(v.pdu.event_id) || gapFetches >= MAX_GAP_FETCHES) continue;
      gapFetches++;
      try {
        await pdus.fetchMissingAuthEvents(origin, version, v.pdu);
        await pdus.storeVerifiedOutliers(roomId, version, [v.pdu], v.keys);
      } catch (e) {
        this.deps.log?.('info', 'backfill: auth events unavailable', { eventId: v.pdu.event_id, error: String(e) });
      }
    }

    // Step 4, oldest first.
    const candidates = fresh();
    const stored = store.getDagEvents(candidates.map((v) => v.pdu.event_id));
    const statesAfter = new Map<string, Map<string, string>>();
    const accepted: BackfilledEvent[] = [];
    const rejected: AsideEvent[] = [];
    for (const pdu of topologicalOrder(candidates.map((c) => c.pdu))) {
      const v = verified.get(pdu.event_id)!;
      if (stored.get(pdu.event_id)?.kind !== 'outlier') continue; // rejected, soft-failed, or lacking auth events
      const prevIds = [...new Set(referencedEventIds(pdu.prev_events))];
      const prevRecs = store.getDagEvents(prevIds);
      const states = new Map<string, ReadonlyMap<string, string>>();
      const gaps: string[] = [];
      for (const id of prevIds) {
        const inBatch = statesAfter.get(id);
        if (inBatch) states.set(id, inBatch);
        else if ((prevRecs.get(id)?.stateGroup ?? null) === null) gaps.push(id);
      }
      if (gaps.length > 0) {
        if (gapFetches + gaps.length > MAX_GAP_FETCHES) continue;
        gapFetches += gaps.length;
        try {
          for (const [id, s] of await pdus.fetchStatesAfter(origin, version, roomId, gaps)) states.set(id, s);
        } catch (e) {
          this.deps.log?.('info', 'backfill: state unavailable', { eventId: pdu.event_id, error: String(e) });
          continue;
        }
      }
      const checked = pdus.checkAuthAndStateBefore(version, roomId, v, states);
      if (!checked.ok) {
        if (checked.dropped) continue;
        rejected.push({ pdu, kind: 'rejected', reason: checked.reason, stateGroupBefore: null, ...(checked.stateBefore ? { stateBefore: checked.stateBefore } : {}) });
        if (checked.stateBefore) statesAfter.set(pdu.event_id, checked.stateBefore);
        continue;
      }
      const after = new Map(checked.stateBefore);
      if (typeof pdu.state_key === 'string') after.set(stateMapKey(pdu.type, pdu.state_key), pdu.event_id);
      statesAfter.set(pdu.event_id, after);
      const relation = relationOf(pdu.content);
      accepted.push({ pdu, stateBefore: checked.stateBefore, ...(relation ? { relation } : {}) });
    }

    // Step 5.
    if (accepted.length === 0 && rejected.length === 0) return 0;
    const redactions = this.redactions(version, roomId, accepted);
    await store.persistBackfill(roomId, accepted, rejected, redactions).durable;
    // A redacted state event may still be the room's current state.
    for (const r of redactions) this.deps.sender.cache.redacted(roomId, r.targetPdu);
    this.deps.indexHistory?.(accepted.map((e) => e.pdu));
    this.deps.log?.('info', 'backfilled history', { roomId, origin, events: accepted.length, rejected: rejected.length, redactions: redactions.length });
    return accepted.length;
  }

  /** Step 5's redactions: each accepted redaction names its target (`redacts`, kept even when
   * the target is missing); pairs of a redaction and a target held or in the batch, in either
   * direction, apply when the receiver's rule allows them against the redaction's state before. */
  private redactions(version: RoomVersion, roomId: string, accepted: BackfilledEvent[]): (AppliedRedaction & { targetPdu: StoredPdu })[] {
    const { store } = this.deps;
    const batch = new Map(accepted.map((e) => [e.pdu.event_id, e]));
    const pairs: { redaction: StoredPdu; stateBefore: ReadonlyMap<string, string>; target: string }[] = [];
    for (const e of accepted) {
      const target = e.pdu.type === 'm.room.redaction' ? redactionTarget(version, e.pdu) : undefined;
      if (target === undefined) continue;
      e.redacts = target;
      pairs.push({ redaction: e.pdu, stateBefore: e.stateBefore, target });
    }
    const held = store.redactionsTargeting([...batch.keys()]);
    const heldRecs = store.getEvents([...held.values()].flat());
    for (const [target, ids] of held) {
      for (const id of ids) {
        const rec = heldRecs.get(id);
        // A redaction is no state event: the state after it is the state before it.
        if (rec && !batch.has(id)) pairs.push({ redaction: rec.pdu, stateBefore: store.stateGroupIds(rec.stateGroup), target });
      }
    }
    const out: (AppliedRedaction & { targetPdu: StoredPdu })[] = [];
    for (const { redaction, stateBefore, target } of pairs) {
      const targetPdu = batch.get(target)?.pdu ?? store.getEvent(target)?.pdu;
      if (!targetPdu || targetPdu.room_id !== roomId || redaction.room_id !== roomId) continue;
      const state = redactionAuthState(stateBefore, (id) => batch.get(id)?.pdu ?? store.getDagEvent(id)?.pdu);
      if (redactionAllowed(version, redaction, targetPdu, state)) out.push({ redactionId: redaction.event_id, target, targetPdu });
    }
    return out;
  }
}
