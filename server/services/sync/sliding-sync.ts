/**
 * Simplified sliding sync (MSC4186, `POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync`),
 * the sync Element X speaks. One connection is (user, device, conn_id); each response's `pos`
 * names a snapshot of what the connection has sent (per room: up to which stream position, with
 * which membership, timeline_limit and required_state), kept in memory. A request:
 *   1. `pos` given: load its snapshot (unknown, expired or after a restart: 400 M_UNKNOWN_POS, and
 *      the client starts a new connection); drop the snapshots before it, since the client has
 *      seen this one. No `pos`: a new connection, replacing any with the same conn_id.
 *   2. upTo = notifier.current (never past the durable, announced position).
 *   3. Rooms (sliding-sync-rooms.ts): lists sorted by recency, filtered, ranged; subscriptions;
 *      each matched room sent when never sent, changed, or its config grew.
 *   4. Extensions: to_device, e2ee, account_data, receipts, typing, from the same SyncSources as
 *      /v3/sync.
 *   5. Nothing to send, a `pos` and time left: wait on the notifier, then read again.
 * The snapshot a response names is immutable: a client may retry with the same `pos`.
 */
import { MatrixError } from '../../errors.ts';
import type { PresenceState } from '../../storage/sync-data.ts';
import type { Viewer } from '../rooms/reader.ts';
import type { Notifier } from './notifier.ts';
import type { BasicEvent, SyncSources, SyncWindow } from './sources.ts';
import type { ScopedExtension, SlidingSyncRequest } from './sliding-sync-config.ts';
import { buildRooms, SlidingRoomsCache, type RoomsDepsForSliding, type RoomsOutcome, type RoomStatus, type SlidingRoom } from './sliding-sync-rooms.ts';

export interface SlidingSyncResponse {
  pos: string;
  lists: Record<string, { count: number }>;
  rooms: Record<string, SlidingRoom>;
  extensions: Record<string, unknown>;
}

export interface SlidingSyncDeps extends Omit<RoomsDepsForSliding, 'unreadCounts'> {
  sources: SyncSources;
  notifier: Notifier;
  presence?: { syncStarted(userId: string, setPresence: PresenceState | undefined): Promise<() => void> };
  now?: () => number;
  /** Most connections kept per device (the least recently used is dropped). */
  maxConnectionsPerDevice?: number;
}

export interface SlidingSyncService {
  sync(viewer: Viewer, req: SlidingSyncRequest, signal?: AbortSignal): Promise<SlidingSyncResponse>;
  /** Forgets every connection (shutdown). */
  close(): void;
}

/** What one `pos` names. */
interface Snapshot {
  upTo: number;
  typing: number;
  rooms: ReadonlyMap<string, RoomStatus>;
}

interface Connection {
  /** Snapshot number → snapshot; only the one the client last used and newer ones are kept. */
  snapshots: Map<number, Snapshot>;
  /** `user\0device\0`: the key of the device's entry in `byDevice`. */
  deviceKey: string;
}

/** Snapshots kept per connection: responses the client may still use (retries, cancellations). */
const MAX_SNAPSHOTS = 8;
/** Most connections kept in all (memory bound); the least recently used go first. */
const MAX_CONNECTIONS = 10_000;
/** Most to-device messages per response (as Synapse). */
const MAX_TO_DEVICE = 100;

export function createSlidingSync(deps: SlidingSyncDeps): SlidingSyncService {
  const { notifier, sources } = deps;
  const now = deps.now ?? Date.now;
  const maxPerDevice = deps.maxConnectionsPerDevice ?? 10;
  const cache = new SlidingRoomsCache(deps);
  const roomsDeps: RoomsDepsForSliding = { ...deps, unreadCounts: sources.unreadCounts };
  // In insertion order = least recently used first.
  const connections = new Map<string, Connection>();
  // Each device's connection keys, least recently used first: touch() looks only at these.
  const byDevice = new Map<string, Set<string>>();
  // Tells this process's positions from an earlier run's: those are unknown after a restart.
  const instance = now().toString(36);
  let counter = 0;

  const unknownPos = (): MatrixError => new MatrixError(400, 'M_UNKNOWN_POS', 'Unknown position; start a new sliding sync connection.');

  function parsePos(pos: string): number | null {
    const m = /^([0-9a-z]+)_(\d{1,15})$/.exec(pos);
    return m && m[1] === instance ? Number(m[2]) : null;
  }

  function forget(key: string, deviceKey: string): void {
    connections.delete(key);
    const ofDevice = byDevice.get(deviceKey);
    ofDevice?.delete(key);
    if (ofDevice?.size === 0) byDevice.delete(deviceKey);
  }

  /** Remembers a connection as most recently used, dropping the device's oldest beyond the cap. */
  function touch(key: string, conn: Connection): void {
    connections.delete(key);
    connections.set(key, conn);
    let ofDevice = byDevice.get(conn.deviceKey);
    if (!ofDevice) byDevice.set(conn.deviceKey, (ofDevice = new Set()));
    ofDevice.delete(key);
    ofDevice.add(key);
    for (const k of ofDevice) {
      if (ofDevice.size <= maxPerDevice) break;
      forget(k, conn.deviceKey);
    }
    for (const [k, c] of connections) {
      if (connections.size <= MAX_CONNECTIONS) break;
      forget(k, c.deviceKey);
    }
  }

  function save(conn: Connection, snap: Snapshot): string {
    const n = ++counter;
    conn.snapshots.set(n, snap);
    if (conn.snapshots.size > MAX_SNAPSHOTS) conn.snapshots.delete(Math.min(...conn.snapshots.keys()));
    return `${instance}_${n}`;
  }

  /** Room ids an extension covers: those of the lists and subscriptions it names (default all). */
  function scope(ext: ScopedExtension, out: RoomsOutcome): Set<string> {
    const ids = new Set<string>();
    const lists = ext.lists ?? ['*'];
    for (const [name, roomIds] of out.listRooms) if (lists.includes('*') || lists.includes(name)) for (const r of roomIds) ids.add(r);
    const subs = ext.rooms ?? ['*'];
    for (const r of out.subscribed) if (subs.includes('*') || subs.includes(r)) ids.add(r);
    return ids;
  }

  async function build(viewer: Viewer, req: SlidingSyncRequest, prev: Snapshot | null, upTo: number, typingNow: number) {
    const rooms = buildRooms(roomsDeps, cache, viewer, req, prev, upTo);
    const w: SyncWindow = { userId: viewer.userId, deviceId: viewer.deviceId, since: prev?.upTo ?? null, upTo };
    const moved = w.since === null || w.since < upTo;
    const ext: Record<string, unknown> = {};
    let news = Object.keys(rooms.rooms).length > 0;
    const e = req.extensions;

    if (e.toDevice?.enabled) {
      // The client's `since` (our earlier next_batch) acknowledges what it received.
      const since = e.toDevice.since === undefined ? null : Math.min(e.toDevice.since, upTo);
      const events = await sources.toDevice.take({ ...w, since }, Math.min(e.toDevice.limit ?? MAX_TO_DEVICE, MAX_TO_DEVICE));
      ext.to_device = { next_batch: String(upTo), events };
      news ||= events.length > 0;
    }

    if (e.e2ee?.enabled) {
      const e2ee: Record<string, unknown> = {
        device_one_time_keys_count: sources.deviceLists.oneTimeKeyCounts(viewer.userId, viewer.deviceId),
        device_unused_fallback_key_types: sources.deviceLists.unusedFallbackKeyTypes(viewer.userId, viewer.deviceId),
      };
      if (w.since !== null) {
        const lists = moved ? sources.deviceLists.changes(w) : { changed: [], left: [] };
        e2ee.device_lists = lists;
        news ||= lists.changed.length > 0 || lists.left.length > 0;
      }
      ext.e2ee = e2ee;
    }

    // Room-scoped extensions: rooms sent `initial` get everything, the others what changed since
    // the previous response.
    const split = (ids: Set<string>, joinedOnly: boolean) => {
      const initial: string[] = [];
      const live: string[] = [];
      for (const r of ids) {
        if (joinedOnly && rooms.memberships.get(r)?.membership !== 'join') continue;
        (w.since === null || rooms.initialRooms.has(r) ? initial : live).push(r);
      }
      return { initial, live };
    };
    const full: SyncWindow = { ...w, since: null };

    if (e.accountData?.enabled) {
      const { initial, live } = split(scope(e.accountData, rooms), false);
      const changes = moved ? sources.accountData.changes(w) : { global: [], rooms: new Map<string, BasicEvent[]>() };
      const all = initial.length > 0 && w.since !== null ? sources.accountData.changes(full) : changes;
      const byRoom: Record<string, BasicEvent[]> = {};
      for (const r of initial) if (all.rooms.get(r)?.length) byRoom[r] = all.rooms.get(r)!;
      for (const r of live) if (changes.rooms.get(r)?.length) byRoom[r] = changes.rooms.get(r)!;
      ext.account_data = { global: changes.global, rooms: byRoom };
      news ||= changes.global.length > 0 || Object.keys(byRoom).length > 0;
    }

    if (e.receipts?.enabled) {
      const { initial, live } = split(scope(e.receipts, rooms), true);
      const byRoom: Record<string, BasicEvent> = {};
      for (const [r, ev] of sources.receipts.changes(full, initial)) byRoom[r] = ev;
      if (moved) for (const [r, ev] of sources.receipts.changes(w, live)) byRoom[r] = ev;
      ext.receipts = { rooms: byRoom };
      news ||= Object.keys(byRoom).length > 0;
    }

    if (e.typing?.enabled) {
      const { initial, live } = split(scope(e.typing, rooms), true);
      const byRoom: Record<string, BasicEvent> = {};
      for (const [r, ev] of sources.typing.changes(initial, null)) byRoom[r] = ev;
      for (const [r, ev] of sources.typing.changes(live, prev?.typing ?? null)) byRoom[r] = ev;
      ext.typing = { rooms: byRoom };
      news ||= Object.keys(byRoom).length > 0;
    }

    const res: SlidingSyncResponse = { pos: '', lists: rooms.lists, rooms: rooms.rooms, extensions: ext };
    return { res, news, snapshot: { upTo, typing: typingNow, rooms: rooms.statuses } satisfies Snapshot };
  }

  return {
    async sync(viewer, req, signal) {
      const deviceKey = `${viewer.userId}\u0000${viewer.deviceId}\u0000`;
      const key = deviceKey + req.connId;
      let conn: Connection;
      let prev: Snapshot | null = null;
      if (req.pos !== undefined) {
        const n = parsePos(req.pos);
        const found = connections.get(key);
        const snap = n === null ? undefined : found?.snapshots.get(n);
        if (!found || !snap) throw unknownPos();
        for (const k of found.snapshots.keys()) if (k < n!) found.snapshots.delete(k);
        conn = found;
        prev = snap;
      } else {
        conn = { snapshots: new Map(), deviceKey };
      }
      touch(key, conn);

      const end = deps.presence ? await deps.presence.syncStarted(viewer.userId, req.setPresence) : undefined;
      try {
        // Without a pos the answer is immediate (MSC4186: timeout is ignored then).
        const deadline = now() + (prev ? Math.max(0, req.timeoutMs) : 0);
        for (;;) {
          const upTo = notifier.current;
          const typingNow = notifier.typing;
          const { res, news, snapshot } = await build(viewer, req, prev, upTo, typingNow);
          const remaining = deadline - now();
          const changedMeanwhile = notifier.current !== upTo || notifier.typing !== typingNow;
          if (!news && !signal?.aborted && remaining > 0) {
            // Something arrived while building: read again instead of sleeping through it.
            if (changedMeanwhile) continue;
            await notifier.wait(viewer.userId, remaining, signal);
            if (notifier.current !== upTo || notifier.typing !== typingNow) continue;
          }
          res.pos = save(conn, snapshot);
          return res;
        }
      } finally {
        end?.();
      }
    },

    close() {
      connections.clear();
      byDevice.clear();
    },
  };
}
