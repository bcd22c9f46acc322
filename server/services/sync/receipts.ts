/**
 * Read receipts and read markers (client-server receipts.yaml, read_markers.yaml; modules
 * receipts.md, read_markers.md). `m.read` receipts are shared with the room, `m.read.private`
 * only with their owner, and `m.fully_read` is the room account data event of the same name.
 * Receipts may be threaded (`thread_id`: `main` or a thread root's event id). Also the sync source
 * for the `m.receipt` events in each room's `ephemeral` section, batched one event per room.
 */
import { MatrixError, forbidden } from '../../errors.ts';
import { isValidEventId } from '../../core/ids.ts';
import type { SyncDataStore } from '../../storage/sync-data.ts';
import type { Bus } from '../bus.ts';
import type { AccountDataService } from './account-data.ts';
import type { Notifier } from './notifier.ts';
import type { BasicEvent, ReceiptsSource, SyncWindow } from './sources.ts';

export const RECEIPT_TYPES = ['m.read', 'm.read.private', 'm.fully_read'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

export interface ReceiptsDeps {
  store: SyncDataStore;
  notifier: Notifier;
  accountData: Pick<AccountDataService, 'put'>;
  /** Joined members of a room (RoomsReader.joinedMembers). */
  joinedMembers(roomId: string): string[];
  /** The room an event belongs to, when known locally (undefined: unknown event). Optional check. */
  eventRoom?(eventId: string): string | undefined;
  /** Gets `readReceiptSent` after a local public receipt is durable (federation EDUs). */
  bus: Pick<Bus, 'publish'>;
  now?: () => number;
}

export interface ReceiptsService extends ReceiptsSource {
  /** POST /rooms/{roomId}/receipt/{receiptType}/{eventId}. */
  send(userId: string, roomId: string, receiptType: string, eventId: string, threadId: string | undefined): Promise<void>;
  /** POST /rooms/{roomId}/read_markers. */
  setReadMarkers(userId: string, roomId: string, markers: { fullyRead?: string; read?: string; readPrivate?: string }): Promise<void>;
}

export function createReceiptsService(deps: ReceiptsDeps): ReceiptsService {
  const now = deps.now ?? Date.now;

  const requireJoined = (userId: string, roomId: string): string[] => {
    const members = deps.joinedMembers(roomId);
    if (!members.includes(userId)) throw forbidden('You are not joined to this room.');
    return members;
  };

  const checkEvent = (roomId: string, eventId: string): void => {
    if (!isValidEventId(eventId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid event ID.');
    if (deps.eventRoom) {
      const r = deps.eventRoom(eventId);
      if (r !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found in this room.');
    }
  };

  const storeReceipt = async (
    userId: string,
    roomId: string,
    receiptType: 'm.read' | 'm.read.private',
    eventId: string,
    threadId: string | null,
    members: string[],
  ): Promise<void> => {
    const row = { roomId, userId, receiptType, threadId, eventId, ts: now() };
    const pos = await deps.store.putReceipt(row);
    if (pos === null) return;
    deps.notifier.notify(pos, receiptType === 'm.read.private' ? [userId] : members);
  };

  // Once the request's writes are done, also when the receipt was already there (unchanged): the
  // resend is harmless remotely and may make up for an earlier one that was lost.
  const announceRead = (userId: string, roomId: string, eventId: string, threadId: string | null): void =>
    deps.bus.publish('readReceiptSent', { roomId, userId, eventId, threadId, ts: now() });

  const setFullyRead = async (userId: string, roomId: string, eventId: string): Promise<void> => {
    await deps.accountData.put(userId, roomId, 'm.fully_read', { event_id: eventId });
  };

  return {
    changes(w: SyncWindow, roomIds: readonly string[]) {
      const out = new Map<string, BasicEvent>();
      for (const r of deps.store.receiptChanges(roomIds, w.since, w.upTo)) {
        if (r.receiptType === 'm.read.private' && r.userId !== w.userId) continue;
        let ev = out.get(r.roomId);
        if (!ev) out.set(r.roomId, (ev = { type: 'm.receipt', content: {} }));
        const byEvent = (ev.content[r.eventId] ??= {}) as Record<string, Record<string, unknown>>;
        const byType = (byEvent[r.receiptType] ??= {}) as Record<string, unknown>;
        byType[r.userId] = r.threadId === null ? { ts: r.ts } : { ts: r.ts, thread_id: r.threadId };
      }
      return out;
    },

    async send(userId, roomId, receiptType, eventId, threadId) {
      if (!(RECEIPT_TYPES as readonly string[]).includes(receiptType)) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown receipt type ${receiptType}`);
      }
      if (threadId !== undefined) {
        if (threadId === '') throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id field must be a non-empty string');
        if (receiptType === 'm.fully_read') throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id is not allowed for m.fully_read');
        if (threadId !== 'main' && !isValidEventId(threadId)) {
          throw new MatrixError(400, 'M_INVALID_PARAM', "thread_id must be 'main' or a thread root's event ID");
        }
      }
      const members = requireJoined(userId, roomId);
      checkEvent(roomId, eventId);
      if (receiptType === 'm.fully_read') return setFullyRead(userId, roomId, eventId);
      await storeReceipt(userId, roomId, receiptType as 'm.read' | 'm.read.private', eventId, threadId ?? null, members);
      if (receiptType === 'm.read') announceRead(userId, roomId, eventId, threadId ?? null);
    },

    async setReadMarkers(userId, roomId, markers) {
      const members = requireJoined(userId, roomId);
      for (const id of [markers.fullyRead, markers.read, markers.readPrivate]) if (id !== undefined) checkEvent(roomId, id);
      if (markers.read !== undefined) await storeReceipt(userId, roomId, 'm.read', markers.read, null, members);
      if (markers.readPrivate !== undefined) await storeReceipt(userId, roomId, 'm.read.private', markers.readPrivate, null, members);
      if (markers.fullyRead !== undefined) await setFullyRead(userId, roomId, markers.fullyRead);
      if (markers.read !== undefined) announceRead(userId, roomId, markers.read, null);
    },
  };
}
