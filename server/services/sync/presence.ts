/**
 * Presence (client-server presence.yaml, modules/presence.md): online / unavailable / offline, a
 * status message and the last-active time, visible to the user and to users sharing a room with
 * them. State changes are persisted with a stream position and delivered through /sync; the
 * last-active time between changes is kept in memory, so polling /sync costs no write. /sync marks
 * a user online (or `set_presence`'s state); a user who stops syncing goes offline after a while.
 */
import { forbidden, notFound } from '../../errors.ts';
import type { PresenceRow, PresenceState, SyncDataStore } from '../../storage/sync-data.ts';
import type { Bus } from '../bus.ts';
import type { Notifier } from './notifier.ts';
import type { BasicEvent, PresenceSource, SyncWindow } from './sources.ts';

/** A user counts as currently active this long after their last activity. */
export const CURRENTLY_ACTIVE_MS = 60_000;
/** A user who has no /sync in flight and has not synced for this long is set offline. */
export const DEFAULT_OFFLINE_AFTER_MS = 60_000;

export interface PresenceContent {
  presence: PresenceState;
  last_active_ago?: number;
  status_msg?: string | null;
  currently_active?: boolean;
}

export interface PresenceDeps {
  store: SyncDataStore;
  notifier: Notifier;
  /** RoomsReader.usersSharingRoomsWith: who sees whose presence. */
  usersSharingRoomsWith(userId: string): Set<string>;
  /** Whether a user id belongs to this server (remote users' presence arrives by federation). */
  isLocalUser(userId: string): boolean;
  /** Gets `presenceSet` after an explicit `set` is durable (federation EDUs). */
  bus: Pick<Bus, 'publish'>;
  now?: () => number;
  offlineAfterMs?: number;
  /** How often idle syncers are checked; 0 disables the sweep (tests). */
  sweepIntervalMs?: number;
}

export interface PresenceService extends PresenceSource {
  get(requesterId: string, userId: string): PresenceContent;
  set(requesterId: string, userId: string, presence: PresenceState, statusMsg?: string | null): Promise<void>;
  /** Called by /sync at its start with its `set_presence`; returns the function to call at its end. */
  syncStarted(userId: string, setPresence: PresenceState | undefined): Promise<() => void>;
  /** A pro-active action (e.g. sending an event) bumps last-active. */
  bumpActive(userId: string): void;
  close(): void;
}

export function createPresenceService(deps: PresenceDeps): PresenceService {
  const now = deps.now ?? Date.now;
  const offlineAfter = deps.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
  const lastActive = new Map<string, number>();
  const syncing = new Map<string, { inFlight: number; lastSeen: number }>();

  const content = (row: PresenceRow | undefined, userId: string): PresenceContent => {
    if (!row) return { presence: 'offline' };
    const active = Math.max(row.lastActiveTs, lastActive.get(userId) ?? 0);
    const ago = Math.max(0, now() - active);
    const c: PresenceContent = { presence: row.presence, last_active_ago: ago };
    if (row.statusMsg !== null) c.status_msg = row.statusMsg;
    if (row.presence === 'online') c.currently_active = ago < CURRENTLY_ACTIVE_MS;
    return c;
  };

  const write = async (userId: string, presence: PresenceState, statusMsg: string | null): Promise<void> => {
    const ts = now();
    lastActive.set(userId, ts);
    const pos = await deps.store.setPresence(userId, { presence, statusMsg, lastActiveTs: ts });
    const concerned = new Set(deps.usersSharingRoomsWith(userId)).add(userId);
    deps.notifier.notify(pos, concerned);
  };

  const sweep = (): void => {
    const t = now();
    for (const [userId, s] of syncing) {
      if (s.inFlight > 0 || t - s.lastSeen < offlineAfter) continue;
      syncing.delete(userId);
      const row = deps.store.getPresence(userId);
      if (row && row.presence !== 'offline') void write(userId, 'offline', row.statusMsg).catch(() => undefined);
    }
  };
  const timer = (deps.sweepIntervalMs ?? 15_000) > 0 ? setInterval(sweep, deps.sweepIntervalMs ?? 15_000) : undefined;
  timer?.unref();

  return {
    get(requesterId, userId) {
      if (deps.isLocalUser(userId) && !deps.store.userExists(userId)) throw notFound('Unknown user');
      if (requesterId !== userId && !deps.usersSharingRoomsWith(requesterId).has(userId)) {
        throw forbidden('You are not allowed to see their presence');
      }
      return content(deps.store.getPresence(userId), userId);
    },

    async set(requesterId, userId, presence, statusMsg) {
      if (requesterId !== userId) throw forbidden('Cannot set the presence of another user.');
      const current = deps.store.getPresence(userId);
      await write(userId, presence, statusMsg === undefined ? (current?.statusMsg ?? null) : statusMsg);
      deps.bus.publish('presenceSet', { userId });
    },

    async syncStarted(userId, setPresence) {
      const s = syncing.get(userId) ?? { inFlight: 0, lastSeen: now() };
      syncing.set(userId, s);
      s.inFlight++;
      const desired = setPresence ?? 'online';
      if (desired !== 'offline') {
        const row = deps.store.getPresence(userId);
        // Syncing as online does not override an explicit "unavailable"; it revives "offline".
        const change = desired === 'online' ? !row || row.presence === 'offline' : row?.presence !== 'unavailable';
        if (change) await write(userId, desired, row?.statusMsg ?? null);
        else if (desired === 'online') lastActive.set(userId, now());
      }
      return () => {
        s.inFlight--;
        s.lastSeen = now();
      };
    },

    bumpActive(userId) {
      lastActive.set(userId, now());
    },

    changes(w: SyncWindow) {
      const rows = deps.store.presenceChanges(w.since, w.upTo);
      if (rows.length === 0) return [];
      const visible = new Set(deps.usersSharingRoomsWith(w.userId)).add(w.userId);
      const out: (BasicEvent & { sender: string })[] = [];
      for (const row of rows) {
        if (!visible.has(row.userId)) continue;
        out.push({ type: 'm.presence', sender: row.userId, content: { ...content(row, row.userId) } });
      }
      return out;
    },

    close() {
      if (timer) clearInterval(timer);
    },
  };
}
