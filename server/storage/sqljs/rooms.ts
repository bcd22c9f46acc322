/**
 * sql.js implementation of RoomsStore (storage/rooms.ts; tables in migrations/0004-rooms.sql and
 * 0013-federation-events.sql). persistEvent is one transaction: event row, state-group delta (a
 * full snapshot every SNAPSHOT_EVERY deltas), current state, memberships, forward extremities,
 * stream position, txn-id mapping, relation index and redaction. Local events take the fast path
 * (current state = state after the event); a remote event may bring a resolved state before it
 * and a resolved current state, whose difference from the previous current state is applied.
 * Parsed PDUs and flattened state groups are immutable, so they are cached in memory (bounded),
 * which keeps JSON parsing to once per event.
 */
import type { Database, SqlReader, SqlRow, SqlWriter } from '../storage.ts';
import { allocateStreamPosition } from '../stream.ts';
import { insertPushActions } from './push.ts';
import { parseStateMapKey, stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import type {
  AppliedRedaction,
  AsideEvent,
  AsideKind,
  BackfilledEvent,
  DagEventRecord,
  EventRecord,
  MemberRecord,
  MembershipChange,
  MembershipValue,
  OrderedWrite,
  PersistEventBatch,
  PersistedEvent,
  RelationRecord,
  RemoteMembership,
  RoomRecord,
  RoomsStore,
} from '../rooms.ts';

/** A state group chain longer than this gets a full snapshot instead of another delta. */
export const SNAPSHOT_EVERY = 100;

/** State events are read again by every auth check and state resolution of their room, for as
 * long as they are current; a message mostly while it is new (the syncs that deliver it, the
 * next event's prev_events). Each parsed PDU costs about 1.4 KB of heap. */
const STATE_EVENT_CACHE_SIZE = 20000;
const TIMELINE_EVENT_CACHE_SIZE = 500;
const GROUP_CACHE_SIZE = 256;

/** Map with least-recently-used eviction. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

/** Parsed PDUs by event id, state and timeline events bounded separately. */
class PduCache {
  private readonly state = new Lru<string, StoredPdu>(STATE_EVENT_CACHE_SIZE);
  private readonly timeline = new Lru<string, StoredPdu>(TIMELINE_EVENT_CACHE_SIZE);
  get(eventId: string): StoredPdu | undefined {
    return this.timeline.get(eventId) ?? this.state.get(eventId);
  }
  set(eventId: string, pdu: StoredPdu): void {
    (typeof pdu.state_key === 'string' ? this.state : this.timeline).set(eventId, pdu);
  }
}

/** An events_aside row as read. */
type AsideRow = Pick<DagEventRecord, 'pdu' | 'roomId' | 'stateGroup'> & { kind: AsideKind };

const EVENT_COLUMNS = 'event_id, room_id, stream_pos, state_group, replaces_state, redacted_by, json';
/** A resolved state differing from its base in more entries than this is stored as a snapshot. */
const MAX_DELTA_ENTRIES = 50;

export class SqlJsRoomsStore implements RoomsStore {
  private readonly pdus = new PduCache();
  /** Flattened groups. Writes may add groups they create; a failed write resets the cache, since
   * its group ids are rolled back and will be reused. */
  private groups = new Lru<number, ReadonlyMap<string, string>>(GROUP_CACHE_SIZE);

  constructor(private readonly db: Database) {}

  // ---- writes --------------------------------------------------------------------------------

  persistEvent(batch: PersistEventBatch): OrderedWrite<PersistedEvent> {
    let result: PersistedEvent | undefined;
    let error: unknown;
    let newGroupState: Map<string, string> | undefined;
    const durable = this.db.write((w) => {
      try {
        const r = this.applyEvent(w, batch);
        result = r.persisted;
        newGroupState = r.groupState;
      } catch (e) {
        error = e;
        throw e;
      }
    });
    if (result === undefined) this.abandon(durable, error ?? new Error('the event write was not applied'));
    // Committed in memory: the parsed PDU and the new group may be cached now.
    this.pdus.set(batch.pdu.event_id, withoutUnsigned(batch.pdu) as StoredPdu);
    if (newGroupState) this.groups.set(result.stateGroup, newGroupState);
    return { result, durable };
  }

  /** A write that was not applied: its group ids were rolled back and will be reused, so the
   * groups it cached are dropped; the caller gets `error`. */
  private abandon(durable: Promise<unknown>, error: unknown): never {
    this.groups = new Lru(GROUP_CACHE_SIZE);
    durable.catch(() => undefined);
    throw error;
  }

  private applyEvent(w: SqlWriter, batch: PersistEventBatch): { persisted: PersistedEvent; groupState?: Map<string, string> } {
    const { pdu, roomId } = batch;
    if (batch.newRoom) {
      w.run('INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES (?, ?, ?, 0, ?)', [
        roomId,
        batch.newRoom.roomVersion,
        batch.newRoom.creator,
        batch.newRoom.createdTs,
      ]);
    }
    if (batch.aside) this.applyAside(w, roomId, batch.aside);
    const position = allocateStreamPosition(w);
    // The previous current state, for the difference a resolved current state makes.
    const previousCurrent = batch.currentState ? this.currentGroupIn(w, roomId) : null;
    let before = batch.stateGroupBefore;
    if (batch.stateBefore) before = this.groupFromMap(w, roomId, before, batch.stateBefore);
    let stateGroup = before;
    let replacesState: string | null = null;
    let groupState: Map<string, string> | undefined;
    if (typeof pdu.state_key === 'string') {
      if (batch.stateBefore) {
        replacesState = batch.stateBefore.get(stateMapKey(pdu.type, pdu.state_key)) ?? null;
      } else {
        const prev = w.get('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', [roomId, pdu.type, pdu.state_key]);
        replacesState = prev ? String(prev.event_id) : null;
      }
      const g = this.newStateGroup(w, roomId, before, pdu.type, pdu.state_key, pdu.event_id);
      stateGroup = g.group;
      groupState = g.state;
      if (!batch.currentState) {
        setCurrentState(w, roomId, pdu.type, pdu.state_key, pdu.event_id);
        const membership = pdu.content.membership;
        if (pdu.type === 'm.room.member' && typeof membership === 'string') {
          this.setMembership(w, roomId, pdu.state_key, membership, pdu.event_id, position);
        }
      }
    }
    if (stateGroup === null) throw new Error('an event other than the create event needs the state group before it');
    let currentGroup = stateGroup;
    if (batch.currentState) {
      currentGroup = this.groupFromMap(w, roomId, stateGroup, batch.currentState);
      this.applyCurrentState(w, roomId, previousCurrent, batch.currentState, position, pdu);
    }
    if (batch.replacesOutlier) w.run('DELETE FROM events_aside WHERE event_id = ?', [pdu.event_id]);
    insertEvent(w, roomId, pdu, position, stateGroup, replacesState, currentGroup !== stateGroup ? currentGroup : null);
    w.run('DELETE FROM forward_extremities WHERE room_id = ?', [roomId]);
    for (const id of batch.forwardExtremities) {
      w.run('INSERT INTO forward_extremities (room_id, event_id) VALUES (?, ?)', [roomId, id]);
    }
    if (batch.txn) {
      w.run('INSERT INTO event_txns (user_id, device_id, room_id, txn_id, event_id) VALUES (?, ?, ?, ?, ?)', [
        batch.txn.userId,
        batch.txn.deviceId,
        roomId,
        batch.txn.txnId,
        pdu.event_id,
      ]);
    }
    if (batch.relation) {
      w.run(
        'INSERT INTO event_relations (event_id, room_id, relates_to, rel_type, type, sender, stream_pos) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [pdu.event_id, roomId, batch.relation.relatesTo, batch.relation.relType, pdu.type, pdu.sender, position],
      );
    }
    if (batch.pushActions) insertPushActions(w, batch.pushActions, position);
    if (batch.redacts !== undefined) {
      recordRedaction(w, pdu.event_id, batch.redacts);
      applyRedaction(w, pdu.event_id, batch.redacts);
    } else if (batch.redactsUnheld !== undefined) {
      recordRedaction(w, pdu.event_id, batch.redactsUnheld);
    }
    if (batch.redactedBy !== undefined) applyRedaction(w, batch.redactedBy, pdu.event_id);
    return { persisted: { position, stateGroup, replacesState, currentGroup }, groupState };
  }

  private setMembership(w: SqlWriter, roomId: string, userId: string, membership: string, eventId: string, position: number): void {
    w.run(
      'INSERT INTO room_members (room_id, user_id, membership, event_id, stream_pos, forgotten) VALUES (?, ?, ?, ?, ?, 0) ' +
        'ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id, ' +
        'stream_pos = excluded.stream_pos, forgotten = 0',
      [roomId, userId, membership, eventId, position],
    );
    w.run('INSERT INTO membership_history (user_id, room_id, stream_pos, membership, event_id) VALUES (?, ?, ?, ?, ?)', [
      userId,
      roomId,
      position,
      membership,
      eventId,
    ]);
  }

  private currentGroupIn(r: SqlReader, roomId: string): number | null {
    const row = r.get('SELECT COALESCE(current_group, state_group) AS g FROM events WHERE room_id = ? ORDER BY stream_pos DESC LIMIT 1', [roomId]);
    return row ? Number(row.g) : null;
  }

  /** Rewrites current_state and memberships where `next` differs from the previous current state. */
  private applyCurrentState(
    w: SqlWriter,
    roomId: string,
    previousGroup: number | null,
    next: ReadonlyMap<string, string>,
    position: number,
    batchPdu: StoredPdu,
  ): void {
    const previous = previousGroup === null ? new Map<string, string>() : this.loadGroup(w, previousGroup);
    for (const [key, id] of next) {
      if (previous.get(key) === id) continue;
      const [type, stateKey] = parseStateMapKey(key);
      setCurrentState(w, roomId, type, stateKey, id);
      if (type !== 'm.room.member') continue;
      const pdu = id === batchPdu.event_id ? batchPdu : this.pduIn(w, id);
      const membership = pdu?.content.membership;
      if (typeof membership === 'string') this.setMembership(w, roomId, stateKey, membership, id, position);
    }
    for (const key of previous.keys()) {
      if (next.has(key)) continue;
      const [type, stateKey] = parseStateMapKey(key);
      w.run('DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', [roomId, type, stateKey]);
    }
  }

  /** A stored event's PDU, in the timeline or aside. */
  private pduIn(r: SqlReader, eventId: string): StoredPdu | undefined {
    const cached = this.pdus.get(eventId);
    if (cached) return cached;
    const row = r.get('SELECT json FROM events WHERE event_id = ?', [eventId]) ?? r.get('SELECT json FROM events_aside WHERE event_id = ?', [eventId]);
    return row ? this.parsePdu(eventId, String(row.json)) : undefined;
  }

  /** Stored events kept aside (outliers, rejected, soft-failed) among `ids`. */
  private asideIn(r: SqlReader, ids: readonly string[]): AsideRow[] {
    const out: AsideRow[] = [];
    inChunks(r, ids, (m) => `SELECT event_id, room_id, kind, state_group, json FROM events_aside WHERE event_id IN (${m})`, (row) => {
      const id = String(row.event_id);
      out.push({
        pdu: this.pdus.get(id) ?? this.parsePdu(id, String(row.json)),
        roomId: String(row.room_id),
        kind: String(row.kind) as AsideKind,
        stateGroup: row.state_group === null ? null : Number(row.state_group),
      });
    });
    return out;
  }

  private parsePdu(eventId: string, json: string): StoredPdu {
    const pdu = JSON.parse(json) as StoredPdu;
    pdu.event_id = eventId;
    this.pdus.set(eventId, pdu);
    return pdu;
  }

  /**
   * A group holding exactly `state`: `base` itself when equal, a delta on `base` when they differ
   * in a few entries (and none was removed), otherwise a full snapshot.
   */
  private groupFromMap(w: SqlWriter, roomId: string, base: number | null, state: ReadonlyMap<string, string>): number {
    const baseState = base === null ? undefined : this.loadGroup(w, base);
    const changed: [string, string][] = [];
    let removed = false;
    if (baseState) {
      for (const [k, id] of state) if (baseState.get(k) !== id) changed.push([k, id]);
      for (const k of baseState.keys()) if (!state.has(k)) removed = true;
      if (!removed && changed.length === 0) return base!;
    }
    const idRow = w.get('SELECT COALESCE(MAX(group_id), 0) + 1 AS id FROM state_groups');
    const group = Number(idRow!.id);
    const chain = base === null ? null : w.get('SELECT chain_len FROM state_groups WHERE group_id = ?', [base]);
    const chainLen = chain ? Number(chain.chain_len) + 1 : 0;
    const asDelta = baseState !== undefined && !removed && changed.length <= MAX_DELTA_ENTRIES && chainLen < SNAPSHOT_EVERY;
    const entries = asDelta ? changed : [...state];
    w.run('INSERT INTO state_groups (group_id, room_id, prev_group, chain_len) VALUES (?, ?, ?, ?)', [group, roomId, asDelta ? base : null, asDelta ? chainLen : 0]);
    for (const [k, id] of entries) {
      const [type, stateKey] = parseStateMapKey(k);
      w.run('INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, ?, ?, ?)', [group, type, stateKey, id]);
    }
    this.groups.set(group, new Map(state));
    return group;
  }

  private applyAside(w: SqlWriter, roomId: string, events: readonly AsideEvent[]): void {
    for (const e of events) {
      const id = e.pdu.event_id;
      if (w.get('SELECT 1 AS x FROM events WHERE event_id = ?', [id])) continue;
      // An outlier may later be rejected or soft-failed when it arrives with its state; nothing else changes.
      const aside = w.get('SELECT kind FROM events_aside WHERE event_id = ?', [id]);
      if (aside && (aside.kind !== 'outlier' || e.kind === 'outlier')) continue;
      if (aside) w.run('DELETE FROM events_aside WHERE event_id = ?', [id]);
      let group: number | null = null;
      if (e.kind !== 'outlier') {
        let before = e.stateGroupBefore ?? null;
        if (e.stateBefore) before = this.groupFromMap(w, roomId, before, e.stateBefore);
        group = before;
        if (e.kind === 'soft_failed' && typeof e.pdu.state_key === 'string') {
          group = this.newStateGroup(w, roomId, before, e.pdu.type, e.pdu.state_key, id).group;
        }
      }
      w.run('INSERT INTO events_aside (event_id, room_id, kind, reason, state_group, depth, json) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        id,
        roomId,
        e.kind,
        e.reason ?? null,
        group,
        e.pdu.depth,
        JSON.stringify(withoutUnsigned(e.pdu)),
      ]);
    }
  }

  /** Adds a delta group on top of `prev`, or a full snapshot when the chain is long. */
  private newStateGroup(
    w: SqlWriter,
    roomId: string,
    prev: number | null,
    type: string,
    stateKey: string,
    eventId: string,
  ): { group: number; state?: Map<string, string> } {
    const idRow = w.get('SELECT COALESCE(MAX(group_id), 0) + 1 AS id FROM state_groups');
    const group = Number(idRow!.id);
    let chainLen = 0;
    if (prev !== null) {
      const p = w.get('SELECT chain_len FROM state_groups WHERE group_id = ?', [prev]);
      if (!p) throw new Error(`unknown state group ${prev}`);
      chainLen = Number(p.chain_len) + 1;
    }
    const prevCached = prev !== null ? this.groups.get(prev) : new Map<string, string>();
    if (prev === null || chainLen >= SNAPSHOT_EVERY) {
      const full = new Map(prev === null ? [] : this.loadGroup(w, prev));
      full.set(stateMapKey(type, stateKey), eventId);
      w.run('INSERT INTO state_groups (group_id, room_id, prev_group, chain_len) VALUES (?, ?, NULL, 0)', [group, roomId]);
      for (const [k, id] of full) {
        const i = k.indexOf('\u0000');
        w.run('INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, ?, ?, ?)', [group, k.slice(0, i), k.slice(i + 1), id]);
      }
      return { group, state: full };
    }
    w.run('INSERT INTO state_groups (group_id, room_id, prev_group, chain_len) VALUES (?, ?, ?, ?)', [group, roomId, prev, chainLen]);
    w.run('INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, ?, ?, ?)', [group, type, stateKey, eventId]);
    let state: Map<string, string> | undefined;
    if (prevCached) {
      state = new Map(prevCached);
      state.set(stateMapKey(type, stateKey), eventId);
    }
    return { group, state };
  }

  /** Flattens a group: walk prev_group links to the snapshot, then apply deltas oldest first. */
  private loadGroup(r: SqlReader, group: number): ReadonlyMap<string, string> {
    const cached = this.groups.get(group);
    if (cached) return cached;
    const chain: number[] = [];
    let base: ReadonlyMap<string, string> | undefined;
    let g: number | null = group;
    while (g !== null) {
      const c = this.groups.get(g);
      if (c) {
        base = c;
        break;
      }
      chain.push(g);
      const row = r.get('SELECT prev_group FROM state_groups WHERE group_id = ?', [g]);
      if (!row) throw new Error(`unknown state group ${g}`);
      g = row.prev_group === null ? null : Number(row.prev_group);
    }
    const state = new Map(base ?? []);
    for (let i = chain.length - 1; i >= 0; i--) {
      for (const e of r.all('SELECT type, state_key, event_id FROM state_group_entries WHERE group_id = ?', [chain[i]!])) {
        state.set(stateMapKey(String(e.type), String(e.state_key)), String(e.event_id));
      }
    }
    this.groups.set(group, state);
    return state;
  }

  // ---- events and state ----------------------------------------------------------------------

  getRoom(roomId: string): RoomRecord | undefined {
    const row = this.db.read((r) => r.get('SELECT room_id, room_version, creator, is_public, created_ts FROM rooms WHERE room_id = ?', [roomId]));
    if (!row) return undefined;
    return {
      roomId: String(row.room_id),
      roomVersion: String(row.room_version),
      creator: String(row.creator),
      isPublic: Number(row.is_public) === 1,
      createdTs: Number(row.created_ts),
    };
  }

  private toRecord(row: SqlRow): EventRecord {
    const id = String(row.event_id);
    const pdu = this.pdus.get(id) ?? this.parsePdu(id, String(row.json));
    return {
      pdu,
      roomId: String(row.room_id),
      position: Number(row.stream_pos),
      stateGroup: Number(row.state_group),
      replacesState: row.replaces_state === null ? null : String(row.replaces_state),
      redactedBy: row.redacted_by === null ? null : String(row.redacted_by),
    };
  }

  getEvent(eventId: string): EventRecord | undefined {
    const row = this.db.read((r) => r.get(`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = ?`, [eventId]));
    return row ? this.toRecord(row) : undefined;
  }

  getEvents(eventIds: readonly string[], opts: { outliers?: boolean } = {}): Map<string, EventRecord> {
    const out = new Map<string, EventRecord>();
    const unique = [...new Set(eventIds)];
    this.db.read((r) => {
      inChunks(r, unique, (m) => `SELECT ${EVENT_COLUMNS} FROM events WHERE event_id IN (${m})`, (row) => out.set(String(row.event_id), this.toRecord(row)));
      if (!opts.outliers || out.size === unique.length) return;
      const rest = unique.filter((id) => !out.has(id));
      for (const a of this.asideIn(r, rest)) {
        if (a.kind === 'rejected') continue;
        out.set(a.pdu.event_id, { pdu: a.pdu, roomId: a.roomId, position: 0, stateGroup: a.stateGroup ?? 0, replacesState: null, redactedBy: null });
      }
    });
    return out;
  }

  currentStateIds(roomId: string): Map<string, string> {
    const rows = this.db.read((r) => r.all('SELECT type, state_key, event_id FROM current_state WHERE room_id = ?', [roomId]));
    const out = new Map<string, string>();
    for (const row of rows) out.set(stateMapKey(String(row.type), String(row.state_key)), String(row.event_id));
    return out;
  }

  currentStateGroup(roomId: string): number | null {
    return this.db.read((r) => this.currentGroupIn(r, roomId));
  }

  forwardExtremities(roomId: string): string[] {
    return this.db.read((r) => r.all('SELECT event_id FROM forward_extremities WHERE room_id = ?', [roomId])).map((row) => String(row.event_id));
  }

  stateGroupIds(group: number): ReadonlyMap<string, string> {
    return this.db.read((r) => this.loadGroup(r, group));
  }

  stateGroupAt(roomId: string, position: number): number | null {
    const row = this.db.read((r) =>
      r.get('SELECT COALESCE(current_group, state_group) AS g FROM events WHERE room_id = ? AND stream_pos <= ? ORDER BY stream_pos DESC LIMIT 1', [roomId, position]),
    );
    return row ? Number(row.g) : null;
  }

  eventsBetween(roomId: string, opts: { dir: 'f' | 'b'; after?: number; atOrBefore?: number; limit: number }): EventRecord[] {
    const where = ['room_id = ?'];
    const params: (string | number)[] = [roomId];
    if (opts.after !== undefined) {
      where.push('stream_pos > ?');
      params.push(opts.after);
    }
    if (opts.atOrBefore !== undefined) {
      where.push('stream_pos <= ?');
      params.push(opts.atOrBefore);
    }
    params.push(opts.limit);
    const order = opts.dir === 'f' ? 'ASC' : 'DESC';
    const rows = this.db.read((r) =>
      r.all(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY stream_pos ${order} LIMIT ?`, params),
    );
    return rows.map((row) => this.toRecord(row));
  }

  latestPosition(roomId: string): number | null {
    const row = this.db.read((r) => r.get('SELECT MAX(stream_pos) AS p FROM events WHERE room_id = ?', [roomId]));
    return row && row.p !== null ? Number(row.p) : null;
  }

  eventNearTimestamp(roomId: string, ts: number, dir: 'f' | 'b'): EventRecord | undefined {
    const sql =
      dir === 'f'
        ? `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND origin_server_ts >= ? ORDER BY origin_server_ts ASC, stream_pos ASC LIMIT 1`
        : `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND origin_server_ts <= ? ORDER BY origin_server_ts DESC, stream_pos DESC LIMIT 1`;
    const row = this.db.read((r) => r.get(sql, [roomId, ts]));
    return row ? this.toRecord(row) : undefined;
  }

  stateEventsOfType(roomId: string, type: string): { position: number; eventId: string; stateKey: string; content: Record<string, unknown> }[] {
    const rows = this.db.read((r) =>
      r.all(`SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND type = ? AND state_key IS NOT NULL ORDER BY stream_pos ASC`, [roomId, type]),
    );
    return rows.map((row) => {
      const rec = this.toRecord(row);
      return { position: rec.position, eventId: rec.pdu.event_id, stateKey: rec.pdu.state_key ?? '', content: rec.pdu.content };
    });
  }

  // ---- federation: the DAG beyond the timeline ------------------------------------------------

  persistAside(roomId: string, events: readonly AsideEvent[]): OrderedWrite<void> {
    let applied = false;
    const durable = this.db.write((w) => {
      this.applyAside(w, roomId, events);
      applied = true;
    });
    if (!applied) this.abandon(durable, new Error('the aside write was not applied'));
    return { result: undefined, durable };
  }

  persistBackfill(roomId: string, events: readonly BackfilledEvent[], aside: readonly AsideEvent[], redactions: readonly AppliedRedaction[] = []): OrderedWrite<void> {
    let applied = false;
    const durable = this.db.write((w) => {
      this.applyAside(w, roomId, aside);
      // Positions are global and unique: the batch goes below the lowest one stored, and below 0
      // (backfilled history is negative), oldest lowest.
      const low = w.get('SELECT MIN(stream_pos) AS p FROM events');
      let position = Math.min(low?.p === null || low?.p === undefined ? 0 : Number(low.p), 0) - events.length;
      let prevGroup: number | null = null;
      for (const { pdu, stateBefore, relation, redacts } of events) {
        const id = pdu.event_id;
        if (w.get('SELECT 1 AS x FROM events WHERE event_id = ?', [id])) continue;
        const before: number = this.groupFromMap(w, roomId, prevGroup, stateBefore);
        let group: number = before;
        let replacesState: string | null = null;
        if (typeof pdu.state_key === 'string') {
          replacesState = stateBefore.get(stateMapKey(pdu.type, pdu.state_key)) ?? null;
          group = this.newStateGroup(w, roomId, before, pdu.type, pdu.state_key, id).group;
          const membership = pdu.content.membership;
          if (pdu.type === 'm.room.member' && typeof membership === 'string') {
            w.run('INSERT INTO membership_history (user_id, room_id, stream_pos, membership, event_id) VALUES (?, ?, ?, ?, ?)', [
              pdu.state_key, roomId, position, membership, id,
            ]);
          }
        }
        w.run('DELETE FROM events_aside WHERE event_id = ?', [id]);
        insertEvent(w, roomId, pdu, position, group, replacesState, null);
        if (relation) {
          w.run(
            'INSERT INTO event_relations (event_id, room_id, relates_to, rel_type, type, sender, stream_pos) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
            [id, roomId, relation.relatesTo, relation.relType, pdu.type, pdu.sender, position],
          );
        }
        if (redacts !== undefined) recordRedaction(w, id, redacts);
        prevGroup = group;
        position++;
      }
      for (const r of redactions) applyRedaction(w, r.redactionId, r.target);
      applied = true;
    });
    if (!applied) this.abandon(durable, new Error('the backfill write was not applied'));
    return { result: undefined, durable };
  }

  redactionsTargeting(eventIds: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const ids = [...new Set(eventIds)];
    this.db.read((r) =>
      inChunks(r, ids, (m) => `SELECT redaction_id, redacts FROM redactions WHERE redacts IN (${m}) ORDER BY redaction_id`, (row) => {
        const target = String(row.redacts);
        const list = out.get(target);
        if (list) list.push(String(row.redaction_id));
        else out.set(target, [String(row.redaction_id)]);
      }),
    );
    return out;
  }

  getDagEvent(eventId: string): DagEventRecord | undefined {
    return this.getDagEvents([eventId]).get(eventId);
  }

  getDagEvents(eventIds: readonly string[]): Map<string, DagEventRecord> {
    const out = new Map<string, DagEventRecord>();
    for (const [id, rec] of this.getEvents(eventIds)) {
      out.set(id, { pdu: rec.pdu, roomId: rec.roomId, kind: 'timeline', stateGroup: rec.stateGroup, replacesState: rec.replacesState, position: rec.position, redactedBy: rec.redactedBy });
    }
    const rest = [...new Set(eventIds)].filter((id) => !out.has(id));
    if (rest.length === 0) return out;
    for (const a of this.db.read((r) => this.asideIn(r, rest))) {
      out.set(a.pdu.event_id, { ...a, replacesState: null, position: null, redactedBy: null });
    }
    return out;
  }

  persistRemoteMembership(m: RemoteMembership & { pdu: StoredPdu; membership: MembershipValue }): OrderedWrite<{ position: number }> {
    let position: number | undefined;
    const durable = this.db.write((w) => {
      this.applyAside(w, m.roomId, [{ pdu: m.pdu, kind: 'outlier' }]);
      const p = allocateStreamPosition(w);
      this.setMembership(w, m.roomId, m.userId, m.membership, m.eventId, p);
      w.run(
        'INSERT INTO remote_memberships (room_id, user_id, event_id, room_version, stripped_state_json) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (room_id, user_id) DO UPDATE SET event_id = excluded.event_id, room_version = excluded.room_version, stripped_state_json = excluded.stripped_state_json',
        [m.roomId, m.userId, m.eventId, m.roomVersion, JSON.stringify(m.strippedState)],
      );
      position = p;
    });
    if (position === undefined) {
      durable.catch(() => undefined);
      throw new Error('the membership write was not applied');
    }
    return { result: { position }, durable };
  }

  remoteMembership(roomId: string, userId: string): RemoteMembership | undefined {
    const row = this.db.read((r) =>
      r.get('SELECT event_id, room_version, stripped_state_json FROM remote_memberships WHERE room_id = ? AND user_id = ?', [roomId, userId]),
    );
    if (!row) return undefined;
    return {
      roomId,
      userId,
      eventId: String(row.event_id),
      roomVersion: String(row.room_version),
      strippedState: JSON.parse(String(row.stripped_state_json)) as Record<string, unknown>[],
    };
  }

  receivedTxn(origin: string, txnId: string): Record<string, unknown> | undefined {
    const row = this.db.read((r) => r.get('SELECT response_json FROM federation_received_txns WHERE origin = ? AND txn_id = ?', [origin, txnId]));
    return row ? (JSON.parse(String(row.response_json)) as Record<string, unknown>) : undefined;
  }

  async storeReceivedTxn(origin: string, txnId: string, response: Record<string, unknown>, now: number): Promise<void> {
    await this.db.write((w) =>
      w.run(
        'INSERT INTO federation_received_txns (origin, txn_id, response_json, received_ts) VALUES (?, ?, ?, ?) ON CONFLICT (origin, txn_id) DO NOTHING',
        [origin, txnId, JSON.stringify(response), now],
      ),
    );
  }

  // ---- transactions --------------------------------------------------------------------------

  txnEventId(userId: string, deviceId: string, roomId: string, txnId: string): string | undefined {
    const row = this.db.read((r) =>
      r.get('SELECT event_id FROM event_txns WHERE user_id = ? AND device_id = ? AND room_id = ? AND txn_id = ?', [userId, deviceId, roomId, txnId]),
    );
    return row ? String(row.event_id) : undefined;
  }

  txnOfEvent(eventId: string): { userId: string; deviceId: string; txnId: string } | undefined {
    const row = this.db.read((r) => r.get('SELECT user_id, device_id, txn_id FROM event_txns WHERE event_id = ?', [eventId]));
    return row ? { userId: String(row.user_id), deviceId: String(row.device_id), txnId: String(row.txn_id) } : undefined;
  }

  async forgetTransactionsBefore(beforeTs: number): Promise<number> {
    // A client's transaction id is as old as its event (sent here, so origin_server_ts is ours).
    const staleTxns = 'SELECT t.event_id FROM event_txns t JOIN events e ON e.event_id = t.event_id WHERE e.origin_server_ts < ?';
    // Looked for first: most sweeps find nothing, and then journal nothing.
    const stale = this.db.read(
      (r) =>
        r.get(`${staleTxns} LIMIT 1`, [beforeTs]) !== undefined ||
        r.get('SELECT 1 AS x FROM federation_received_txns WHERE received_ts < ? LIMIT 1', [beforeTs]) !== undefined,
    );
    if (!stale) return 0;
    return this.db.write(
      (w) =>
        w.run(`DELETE FROM event_txns WHERE event_id IN (${staleTxns})`, [beforeTs]).changes +
        w.run('DELETE FROM federation_received_txns WHERE received_ts < ?', [beforeTs]).changes,
    );
  }

  // ---- memberships ---------------------------------------------------------------------------

  private toMember(row: SqlRow): MemberRecord {
    return {
      roomId: String(row.room_id),
      userId: String(row.user_id),
      membership: String(row.membership) as MembershipValue,
      eventId: String(row.event_id),
      position: Number(row.stream_pos),
      forgotten: Number(row.forgotten) === 1,
    };
  }

  member(roomId: string, userId: string): MemberRecord | undefined {
    const row = this.db.read((r) =>
      r.get('SELECT room_id, user_id, membership, event_id, stream_pos, forgotten FROM room_members WHERE room_id = ? AND user_id = ?', [roomId, userId]),
    );
    return row ? this.toMember(row) : undefined;
  }

  members(roomId: string): MemberRecord[] {
    return this.db
      .read((r) => r.all('SELECT room_id, user_id, membership, event_id, stream_pos, forgotten FROM room_members WHERE room_id = ? ORDER BY stream_pos', [roomId]))
      .map((row) => this.toMember(row));
  }

  roomsOfUser(userId: string): MemberRecord[] {
    return this.db
      .read((r) => r.all('SELECT room_id, user_id, membership, event_id, stream_pos, forgotten FROM room_members WHERE user_id = ?', [userId]))
      .map((row) => this.toMember(row));
  }

  private toChange(row: SqlRow): MembershipChange {
    return {
      roomId: String(row.room_id),
      membership: String(row.membership) as MembershipValue,
      eventId: String(row.event_id),
      position: Number(row.stream_pos),
    };
  }

  membershipChanges(userId: string, since: number, upTo: number): MembershipChange[] {
    return this.db
      .read((r) =>
        r.all(
          'SELECT room_id, membership, event_id, stream_pos FROM membership_history WHERE user_id = ? AND stream_pos > ? AND stream_pos <= ? ORDER BY stream_pos',
          [userId, since, upTo],
        ),
      )
      .map((row) => this.toChange(row));
  }

  membershipsAt(userId: string, upTo: number): MembershipChange[] {
    return this.db
      .read((r) =>
        r.all(
          'SELECT h.room_id, h.membership, h.event_id, h.stream_pos FROM membership_history h WHERE h.user_id = ? AND h.stream_pos = ' +
            '(SELECT MAX(h2.stream_pos) FROM membership_history h2 WHERE h2.room_id = h.room_id AND h2.user_id = h.user_id AND h2.stream_pos <= ?)',
          [userId, upTo],
        ),
      )
      .map((row) => this.toChange(row));
  }

  membershipHistory(roomId: string, userId: string): MembershipChange[] {
    return this.db
      .read((r) =>
        r.all('SELECT room_id, membership, event_id, stream_pos FROM membership_history WHERE room_id = ? AND user_id = ? ORDER BY stream_pos', [roomId, userId]),
      )
      .map((row) => this.toChange(row));
  }

  async forget(roomId: string, userId: string): Promise<void> {
    await this.db.write((w) => w.run('UPDATE room_members SET forgotten = 1 WHERE room_id = ? AND user_id = ?', [roomId, userId]));
  }

  // ---- relations -----------------------------------------------------------------------------

  private toRelation(row: SqlRow): RelationRecord {
    return {
      eventId: String(row.event_id),
      relatesTo: String(row.relates_to),
      relType: String(row.rel_type),
      type: String(row.type),
      sender: String(row.sender),
      position: Number(row.stream_pos),
    };
  }

  relations(eventId: string, opts: { relType?: string; eventType?: string; dir: 'f' | 'b'; from?: number; limit: number }): RelationRecord[] {
    const where = ['relates_to = ?'];
    const params: (string | number)[] = [eventId];
    if (opts.relType !== undefined) {
      where.push('rel_type = ?');
      params.push(opts.relType);
    }
    if (opts.eventType !== undefined) {
      where.push('type = ?');
      params.push(opts.eventType);
    }
    if (opts.from !== undefined) {
      where.push(opts.dir === 'f' ? 'stream_pos > ?' : 'stream_pos < ?');
      params.push(opts.from);
    }
    params.push(opts.limit);
    return this.db
      .read((r) =>
        r.all(
          `SELECT event_id, relates_to, rel_type, type, sender, stream_pos FROM event_relations WHERE ${where.join(' AND ')} ORDER BY stream_pos ${opts.dir === 'f' ? 'ASC' : 'DESC'} LIMIT ?`,
          params,
        ),
      )
      .map((row) => this.toRelation(row));
  }

  relationsOf(eventIds: readonly string[], relTypes: readonly string[]): RelationRecord[] {
    if (eventIds.length === 0 || relTypes.length === 0) return [];
    const out: RelationRecord[] = [];
    this.db.read((r) => {
      for (let i = 0; i < eventIds.length; i += 200) {
        const chunk = eventIds.slice(i, i + 200);
        const rows = r.all(
          `SELECT event_id, relates_to, rel_type, type, sender, stream_pos FROM event_relations WHERE relates_to IN (${chunk.map(() => '?').join(',')}) ` +
            `AND rel_type IN (${relTypes.map(() => '?').join(',')}) ORDER BY stream_pos ASC`,
          [...chunk, ...relTypes],
        );
        for (const row of rows) out.push(this.toRelation(row));
      }
    });
    return out;
  }

  threadRoots(roomId: string, opts: { participant?: string; before?: number; limit: number }): { rootId: string; latestPosition: number }[] {
    const params: (string | number)[] = [roomId];
    let participantClause = '';
    if (opts.participant !== undefined) {
      participantClause =
        ' AND (relates_to IN (SELECT relates_to FROM event_relations WHERE room_id = ? AND rel_type = ? AND sender = ?) ' +
        'OR relates_to IN (SELECT event_id FROM events WHERE room_id = ? AND sender = ?))';
      params.push(roomId, 'm.thread', opts.participant, roomId, opts.participant);
    }
    let having = '';
    if (opts.before !== undefined) {
      having = ' HAVING MAX(stream_pos) < ?';
      params.push(opts.before);
    }
    params.push(opts.limit);
    return this.db
      .read((r) =>
        r.all(
          `SELECT relates_to, MAX(stream_pos) AS latest FROM event_relations WHERE room_id = ? AND rel_type = 'm.thread'${participantClause} ` +
            `GROUP BY relates_to${having} ORDER BY latest DESC LIMIT ?`,
          params,
        ),
      )
      .map((row) => ({ rootId: String(row.relates_to), latestPosition: Number(row.latest) }));
  }

  // ---- aliases and directory -----------------------------------------------------------------

  async createAlias(alias: string, roomId: string, creator: string): Promise<boolean> {
    return this.db.write((w) => {
      const r = w.run('INSERT INTO room_aliases (alias, room_id, creator) VALUES (?, ?, ?) ON CONFLICT (alias) DO NOTHING', [alias, roomId, creator]);
      return r.changes === 1;
    });
  }

  async deleteAlias(alias: string): Promise<boolean> {
    return this.db.write((w) => w.run('DELETE FROM room_aliases WHERE alias = ?', [alias]).changes === 1);
  }

  getAlias(alias: string): { roomId: string; creator: string } | undefined {
    const row = this.db.read((r) => r.get('SELECT room_id, creator FROM room_aliases WHERE alias = ?', [alias]));
    return row ? { roomId: String(row.room_id), creator: String(row.creator) } : undefined;
  }

  aliasesOfRoom(roomId: string): string[] {
    return this.db.read((r) => r.all('SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias', [roomId])).map((row) => String(row.alias));
  }

  async setPublic(roomId: string, isPublic: boolean): Promise<void> {
    await this.db.write((w) => w.run('UPDATE rooms SET is_public = ? WHERE room_id = ?', [isPublic ? 1 : 0, roomId]));
  }

  publicRoomIds(): string[] {
    return this.db.read((r) => r.all('SELECT room_id FROM rooms WHERE is_public = 1 ORDER BY created_ts, room_id')).map((row) => String(row.room_id));
  }
}

/** `unsigned` is per-viewer and computed at read time; it is never stored with the event. */
function withoutUnsigned(pdu: StoredPdu): Omit<StoredPdu, 'unsigned'> {
  if (pdu.unsigned === undefined) return pdu;
  const { unsigned: _u, ...rest } = pdu;
  return rest;
}

/** Keeps the redaction → target link, whether or not the target is held. */
function recordRedaction(w: SqlWriter, redactionId: string, target: string): void {
  w.run('INSERT INTO redactions (redaction_id, redacts) VALUES (?, ?) ON CONFLICT (redaction_id) DO NOTHING', [redactionId, target]);
}

/** Marks a held target redacted (the first valid redaction wins). */
function applyRedaction(w: SqlWriter, redactionId: string, target: string): void {
  w.run('UPDATE events SET redacted_by = ? WHERE event_id = ? AND redacted_by IS NULL', [redactionId, target]);
  // A redacted event no longer relates to anything (spec: relations "Redactions").
  w.run('DELETE FROM event_relations WHERE event_id = ?', [target]);
}

/** The timeline row of an event. `currentGroup` only when it differs from `stateGroup` (a fork):
 * local events leave current_group NULL (the same as state_group), as every event did before 0013. */
function insertEvent(
  w: SqlWriter,
  roomId: string,
  pdu: StoredPdu,
  position: number,
  stateGroup: number,
  replacesState: string | null,
  currentGroup: number | null,
): void {
  const forked = currentGroup !== null;
  w.run(
    `INSERT INTO events (event_id, room_id, stream_pos, depth, type, state_key, sender, origin_server_ts, state_group, replaces_state, redacted_by, json${forked ? ', current_group' : ''}) ` +
      `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?${forked ? ', ?' : ''})`,
    [
      pdu.event_id,
      roomId,
      position,
      pdu.depth,
      pdu.type,
      pdu.state_key ?? null,
      pdu.sender,
      pdu.origin_server_ts,
      stateGroup,
      replacesState,
      JSON.stringify(withoutUnsigned(pdu)),
      ...(forked ? [currentGroup] : []),
    ],
  );
}

/** Runs an `IN (...)` query over `ids` in chunks of 200 (bound-parameter limits). */
function inChunks(r: SqlReader, ids: readonly string[], sql: (marks: string) => string, each: (row: SqlRow) => void): void {
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    for (const row of r.all(sql(chunk.map(() => '?').join(',')), chunk)) each(row);
  }
}

function setCurrentState(w: SqlWriter, roomId: string, type: string, stateKey: string, eventId: string): void {
  w.run(
    'INSERT INTO current_state (room_id, type, state_key, event_id) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id',
    [roomId, type, stateKey, eventId],
  );
}
