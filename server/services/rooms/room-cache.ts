/**
 * In-memory view of each room's current state and forward extremities, so building an event
 * needs no state reload (performance target: 1000 messages/s). Loaded lazily from storage,
 * updated by send-event.ts right after each applied write (and by the federation receiver after
 * a remote event, whose resolved current state may change several entries), dropped when a write
 * fails. State events are kept in their redacted form once redacted, since auth uses that form.
 * State may include outliers (state received over federation when joining), so it is read from
 * the whole DAG, not the timeline only.
 */
import { getRoomVersion, type RoomVersion } from '../../core/room-versions.ts';
import { redactEvent } from '../../core/events/redaction.ts';
import { stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import type { RoomsStore } from '../../storage/rooms.ts';

export interface RoomEntry {
  roomId: string;
  version: RoomVersion;
  /** stateMapKey(type, state_key) → event. */
  state: Map<string, StoredPdu>;
  extremities: StoredPdu[];
  /** State group of the current state. */
  stateGroup: number;
  /** Users whose membership is join. */
  joined: Set<string>;
}

const MAX_ROOMS = 2000;

export class RoomCache {
  private readonly rooms = new Map<string, RoomEntry>();
  private readonly versions = new Map<string, RoomVersion>();

  constructor(private readonly store: RoomsStore) {}

  /** The room version of a known room (unknown room or version: undefined). */
  version(roomId: string): RoomVersion | undefined {
    let v = this.versions.get(roomId);
    if (v) return v;
    const room = this.store.getRoom(roomId);
    v = room ? getRoomVersion(room.roomVersion) : undefined;
    if (v) this.versions.set(roomId, v);
    return v;
  }

  get(roomId: string): RoomEntry | undefined {
    const hit = this.rooms.get(roomId);
    if (hit) return hit;
    const version = this.version(roomId);
    const stateGroup = this.store.currentStateGroup(roomId);
    if (!version || stateGroup === null) return undefined;
    const ids = this.store.currentStateIds(roomId);
    const extremityIds = this.store.forwardExtremities(roomId);
    const records = this.store.getDagEvents([...ids.values(), ...extremityIds]);
    const state = new Map<string, StoredPdu>();
    const joined = new Set<string>();
    for (const [key, id] of ids) {
      const rec = records.get(id);
      if (!rec) continue;
      const pdu = stateForm(version, rec);
      state.set(key, pdu);
      if (pdu.type === 'm.room.member' && pdu.content.membership === 'join' && pdu.state_key) joined.add(pdu.state_key);
    }
    const extremities = extremityIds.map((id) => records.get(id)?.pdu).filter((p): p is StoredPdu => p !== undefined);
    const entry: RoomEntry = { roomId, version, state, extremities, stateGroup, joined };
    if (this.rooms.size >= MAX_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
    this.rooms.set(roomId, entry);
    return entry;
  }

  /** Records an event just applied to storage (caller holds the room lock). */
  applied(entry: RoomEntry, pdu: StoredPdu, stateGroup: number): void {
    if (typeof pdu.state_key === 'string') setState(entry, stateMapKey(pdu.type, pdu.state_key), pdu);
    entry.extremities = [pdu];
    entry.stateGroup = stateGroup;
  }

  /** A remote event was applied (caller holds the room lock): its forward extremities, and the
   * current state when it was resolved rather than the state after the event. */
  appliedRemote(entry: RoomEntry, pdu: StoredPdu, extremities: StoredPdu[], currentGroup: number, currentState?: ReadonlyMap<string, string>): void {
    if (!currentState) {
      this.applied(entry, pdu, currentGroup);
    } else {
      const changed = [...currentState].filter(([k, id]) => entry.state.get(k)?.event_id !== id);
      const records = this.store.getDagEvents(changed.map(([, id]) => id));
      for (const [key, id] of changed) {
        const rec = records.get(id);
        if (rec) setState(entry, key, stateForm(entry.version, rec));
      }
      for (const [key, gone] of [...entry.state]) {
        if (currentState.has(key)) continue;
        entry.state.delete(key);
        // A member whose membership left the resolved state is no longer joined either.
        if (gone.type === 'm.room.member' && typeof gone.state_key === 'string') entry.joined.delete(gone.state_key);
      }
      entry.stateGroup = currentGroup;
    }
    entry.extremities = extremities;
  }

  /** A redaction was applied: a redacted state event changes what auth sees. */
  redacted(roomId: string, target: StoredPdu): void {
    const entry = this.rooms.get(roomId);
    if (!entry || typeof target.state_key !== 'string') return;
    const key = stateMapKey(target.type, target.state_key);
    if (entry.state.get(key)?.event_id === target.event_id) {
      entry.state.set(key, redactEvent(entry.version, target) as StoredPdu);
    }
  }

  /** Forget a room's cached view (after a failed write, or a write made elsewhere). */
  invalidate(roomId: string): void {
    this.rooms.delete(roomId);
  }
}

/** A state event as auth sees it: in its redacted form once redacted. */
function stateForm(version: RoomVersion, rec: { pdu: StoredPdu; redactedBy: string | null }): StoredPdu {
  return rec.redactedBy ? (redactEvent(version, rec.pdu) as StoredPdu) : rec.pdu;
}

/** Sets one current-state entry, keeping the joined set in step. */
function setState(entry: RoomEntry, key: string, pdu: StoredPdu): void {
  entry.state.set(key, pdu);
  if (pdu.type === 'm.room.member' && typeof pdu.state_key === 'string') {
    if (pdu.content.membership === 'join') entry.joined.add(pdu.state_key);
    else entry.joined.delete(pdu.state_key);
  }
}
