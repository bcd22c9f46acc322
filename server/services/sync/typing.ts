/**
 * Typing notifications (client-server typing.yaml, modules/typing_notifications.md). Kept in
 * memory only: each room's set of typers with expiry times, and the notifier's typing serial at
 * the room's last change, so /sync sends a room's `m.typing` event only when it changed after the
 * token's serial. A user may only set their own typing state, in a room they are joined to.
 */
import { forbidden } from '../../errors.ts';
import type { Bus } from '../bus.ts';
import type { Notifier } from './notifier.ts';
import type { BasicEvent, TypingSource } from './sources.ts';

/** Longest a single request can mark a user as typing, and the default when `timeout` is absent. */
export const MAX_TYPING_TIMEOUT_MS = 120_000;
export const DEFAULT_TYPING_TIMEOUT_MS = 30_000;

export interface TypingDeps {
  notifier: Notifier;
  /** Joined members of a room (RoomsReader.joinedMembers). */
  joinedMembers(roomId: string): string[];
  /** Gets `typingSet` for each local request (federation EDUs); expiry is left to each receiver. */
  bus: Pick<Bus, 'publish'>;
}

export interface TypingService extends TypingSource {
  setTyping(requesterId: string, roomId: string, userId: string, typing: boolean, timeoutMs?: number): void;
  /** A remote user's typing EDU (federation checked membership); not published on the bus. */
  setRemoteTyping(roomId: string, userId: string, typing: boolean, timeoutMs?: number): void;
  /** Current typers of a room. */
  typers(roomId: string): string[];
  /** Clears expiry timers (shutdown). */
  close(): void;
}

interface RoomTyping {
  /** userId → expiry timer. */
  users: Map<string, NodeJS.Timeout>;
  /** Notifier typing serial right after the last change. */
  serial: number;
}

export function createTypingService(deps: TypingDeps): TypingService {
  const rooms = new Map<string, RoomTyping>();

  const changed = (roomId: string, room: RoomTyping): void => {
    const members = deps.joinedMembers(roomId);
    deps.notifier.notifyEphemeral(members);
    // The entry stays when empty, so a client holding an older serial learns the set emptied.
    room.serial = deps.notifier.typing;
  };

  const stop = (roomId: string, userId: string): void => {
    const room = rooms.get(roomId);
    const timer = room?.users.get(userId);
    if (!room || timer === undefined) return;
    clearTimeout(timer);
    room.users.delete(userId);
    changed(roomId, room);
  };

  const apply = (roomId: string, userId: string, typing: boolean, timeoutMs: number | undefined): void => {
    if (!typing) return stop(roomId, userId);
    const ms = Math.max(0, Math.min(timeoutMs ?? DEFAULT_TYPING_TIMEOUT_MS, MAX_TYPING_TIMEOUT_MS));
    let room = rooms.get(roomId);
    if (!room) rooms.set(roomId, (room = { users: new Map(), serial: 0 }));
    const existing = room.users.get(userId);
    if (existing !== undefined) clearTimeout(existing);
    const timer = setTimeout(() => stop(roomId, userId), ms);
    timer.unref();
    room.users.set(userId, timer);
    // A refresh of an already-typing user changes nothing clients see.
    if (existing === undefined) changed(roomId, room);
  };

  return {
    setTyping(requesterId, roomId, userId, typing, timeoutMs) {
      if (requesterId !== userId) throw forbidden('Cannot set the typing state of another user.');
      if (!deps.joinedMembers(roomId).includes(userId)) throw forbidden('You are not joined to this room.');
      apply(roomId, userId, typing, timeoutMs);
      // Every request, refreshes included: a receiving server expires typing on its own timer.
      deps.bus.publish('typingSet', { roomId, userId, typing });
    },

    setRemoteTyping(roomId, userId, typing, timeoutMs) {
      apply(roomId, userId, typing, timeoutMs);
    },

    typers(roomId) {
      return [...(rooms.get(roomId)?.users.keys() ?? [])];
    },

    changes(roomIds, sinceSerial) {
      const out = new Map<string, BasicEvent>();
      for (const roomId of roomIds) {
        const room = rooms.get(roomId);
        if (!room) continue;
        if (sinceSerial === null ? room.users.size === 0 : room.serial <= sinceSerial) continue;
        out.set(roomId, { type: 'm.typing', content: { user_ids: [...room.users.keys()] } });
      }
      return out;
    },

    close() {
      for (const room of rooms.values()) for (const t of room.users.values()) clearTimeout(t);
      rooms.clear();
    },
  };
}
