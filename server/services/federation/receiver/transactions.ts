/**
 * PUT /_matrix/federation/v1/send/{txnId} (spec: server-server "Transactions", transactions.yaml;
 * "Checks performed on receipt of a PDU"; "Server Access Control Lists"; the EDU modules
 * typing, receipts, presence, device list updates, signing key updates, send-to-device).
 *
 *  1. At most 50 PDUs and 100 EDUs, else 400 and nothing is processed.
 *  2. Idempotent per (origin, txnId): a transaction seen before gets its stored answer, and a
 *     retry arriving while the first is being processed waits for the same answer.
 *  3. PDUs: each room's PDUs in order, rooms concurrently; a room whose server ACL denies the
 *     origin gets an error per PDU; every other PDU goes through the receiver (incoming-pdu.ts),
 *     whose writes are awaited together (group commit). The answer maps every event id to {} or
 *     {error}.
 *  4. EDUs: dispatched to their handlers; an EDU about a user must come from that user's server
 *     and a room EDU from a server allowed by the room's ACL. Malformed EDUs are ignored.
 *  5. The answer is stored before it is returned.
 */
import type { JsonObject } from '../../../core/events/types.ts';
import { eventIdOf } from '../../../core/events/event-id.ts';
import { userIdServerName } from '../../../core/ids.ts';
import { MatrixError } from '../../../errors.ts';
import type { RoomsStore } from '../../../storage/rooms.ts';
import type { EventSender } from '../../rooms/send-event.ts';
import type { IncomingPdus, PduOutcome } from './incoming-pdu.ts';
import { isJsonObject } from '../../../core/auth/power-levels.ts';
import { roomAllowsServer } from './server-acl.ts';

const MAX_PDUS_PER_TXN = 50;
const MAX_EDUS_PER_TXN = 100;

/** Where received EDUs go (wired to the typing, receipts, presence, device-list and to-device services). */
export interface EduSinks {
  typing(roomId: string, userId: string, typing: boolean, timeoutMs?: number): void;
  receipt(r: { roomId: string; userId: string; receiptType: 'm.read' | 'm.read.private'; eventId: string; threadId: string | null; ts: number }): Promise<void>;
  presence(userId: string, p: { presence: 'online' | 'offline' | 'unavailable'; statusMsg: string | null; lastActiveAgo: number }): Promise<void>;
  /** A remote user's devices or cross-signing keys changed (m.device_list_update, m.signing_key_update;
   * `content` is the EDU's, its user on the origin server). */
  deviceListChanged(userId: string, eduType: 'm.device_list_update' | 'm.signing_key_update', content: Record<string, unknown>): Promise<void>;
  toDevice(m: { sender: string; type: string; messageId: string; messages: Record<string, Record<string, JsonObject>> }): Promise<void>;
  /** Whether a user on this server shares a room with `userId` (presence is only taken then). */
  sharesRoomWithLocalUser(userId: string): boolean;
}

export interface TransactionDeps {
  store: RoomsStore;
  sender: EventSender;
  pdus: IncomingPdus;
  edus: EduSinks;
  now: () => number;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface TransactionBody {
  origin: string;
  origin_server_ts: number;
  pdus: unknown[];
  edus?: unknown[];
}

export type TransactionAnswer = { pdus: Record<string, { error?: string }> };

export class TransactionReceiver {
  private readonly inFlight = new Map<string, Promise<TransactionAnswer>>();

  constructor(private readonly deps: TransactionDeps) {}

  async receive(origin: string, txnId: string, body: TransactionBody): Promise<TransactionAnswer> {
    // 1
    if (body.pdus.length > MAX_PDUS_PER_TXN) throw new MatrixError(400, 'M_BAD_JSON', `A transaction carries at most ${MAX_PDUS_PER_TXN} PDUs`);
    if ((body.edus?.length ?? 0) > MAX_EDUS_PER_TXN) throw new MatrixError(400, 'M_BAD_JSON', `A transaction carries at most ${MAX_EDUS_PER_TXN} EDUs`);
    if (body.origin !== origin) throw new MatrixError(400, 'M_BAD_JSON', 'The transaction origin does not match the request origin');
    // 2
    const stored = this.deps.store.receivedTxn(origin, txnId);
    if (stored) return stored as TransactionAnswer;
    const key = `${origin}\u0000${txnId}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.process(origin, txnId, body).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  private async process(origin: string, txnId: string, body: TransactionBody): Promise<TransactionAnswer> {
    // 3
    const byRoom = new Map<string, unknown[]>();
    for (const pdu of body.pdus) {
      const roomId = isJsonObject(pdu) && typeof pdu.room_id === 'string' ? pdu.room_id : '';
      const list = byRoom.get(roomId) ?? [];
      list.push(pdu);
      byRoom.set(roomId, list);
    }
    const results: Record<string, { error?: string }> = {};
    const writes: Promise<void>[] = [];
    await Promise.all(
      [...byRoom].map(async ([roomId, pdus]) => {
        const version = roomId === '' ? undefined : this.deps.sender.cache.version(roomId);
        for (const raw of pdus) {
          let eventId: string | undefined;
          try {
            eventId = version ? eventIdOf(version, withoutUnsigned(raw)) : undefined;
          } catch {
            eventId = undefined;
          }
          // Without the room's version there is no event id to answer for (Synapse skips them too).
          if (eventId === undefined) continue;
          if (!this.aclAllows(roomId, origin)) {
            results[eventId] = { error: 'Server is banned from this room by its server ACL' };
            continue;
          }
          let outcome: PduOutcome;
          try {
            outcome = await this.deps.pdus.receive(origin, raw, { deferDurable: (d) => writes.push(d) });
          } catch (e) {
            this.deps.log?.('warn', 'processing a received PDU failed', { eventId, error: String(e) });
            outcome = { status: 'dropped', eventId, reason: 'internal error' };
          }
          // A soft-failed event was received fine; only rejected and dropped ones are errors.
          results[eventId] = outcome.status === 'rejected' || outcome.status === 'dropped' ? { error: `${outcome.status}: ${outcome.reason}` } : {};
        }
      }),
    );
    // Every accepted PDU durable (one group commit for the lot) before the answer.
    await Promise.all(writes);
    // 4
    for (const edu of body.edus ?? []) {
      try {
        await this.dispatchEdu(origin, edu);
      } catch (e) {
        this.deps.log?.('info', 'ignored an EDU', { origin, error: String(e) });
      }
    }
    // 5
    const answer: TransactionAnswer = { pdus: results };
    await this.deps.store.storeReceivedTxn(origin, txnId, answer, this.deps.now());
    return answer;
  }

  private aclAllows(roomId: string, origin: string): boolean {
    return roomAllowsServer(this.deps.sender.cache.get(roomId)?.state, origin);
  }

  /** A room EDU about a user: from the user's server, ACL-allowed, and the user joined. */
  private roomEduAllowed(origin: string, roomId: unknown, userId: unknown): roomId is string {
    if (typeof roomId !== 'string' || typeof userId !== 'string' || userIdServerName(userId) !== origin) return false;
    if (!this.aclAllows(roomId, origin)) return false;
    return this.deps.sender.cache.get(roomId)?.joined.has(userId) ?? false;
  }

  private async dispatchEdu(origin: string, edu: unknown): Promise<void> {
    if (!isJsonObject(edu) || typeof edu.edu_type !== 'string' || !isJsonObject(edu.content)) return;
    const c = edu.content;
    const { edus } = this.deps;
    switch (edu.edu_type) {
      case 'm.typing':
        if (this.roomEduAllowed(origin, c.room_id, c.user_id) && typeof c.typing === 'boolean') {
          edus.typing(c.room_id, c.user_id as string, c.typing, typeof c.timeout === 'number' ? c.timeout : undefined);
        }
        return;
      case 'm.receipt':
        for (const [roomId, byType] of Object.entries(c)) {
          if (!isJsonObject(byType) || !isJsonObject(byType['m.read'])) continue;
          for (const [userId, receipt] of Object.entries(byType['m.read'])) {
            if (!this.roomEduAllowed(origin, roomId, userId) || !isJsonObject(receipt) || !Array.isArray(receipt.event_ids)) continue;
            const data = isJsonObject(receipt.data) ? receipt.data : {};
            const threadId = typeof data.thread_id === 'string' ? data.thread_id : null;
            const ts = typeof data.ts === 'number' ? data.ts : this.deps.now();
            for (const eventId of receipt.event_ids) {
              if (typeof eventId === 'string') await edus.receipt({ roomId, userId, receiptType: 'm.read', eventId, threadId, ts });
            }
          }
        }
        return;
      case 'm.presence':
        for (const p of Array.isArray(c.push) ? c.push : []) {
          if (!isJsonObject(p) || typeof p.user_id !== 'string' || userIdServerName(p.user_id) !== origin) continue;
          if (p.presence !== 'online' && p.presence !== 'offline' && p.presence !== 'unavailable') continue;
          if (!edus.sharesRoomWithLocalUser(p.user_id)) continue;
          await edus.presence(p.user_id, {
            presence: p.presence,
            statusMsg: typeof p.status_msg === 'string' ? p.status_msg : null,
            lastActiveAgo: typeof p.last_active_ago === 'number' ? Math.max(0, p.last_active_ago) : 0,
          });
        }
        return;
      case 'm.device_list_update':
      case 'm.signing_key_update':
        if (typeof c.user_id === 'string' && userIdServerName(c.user_id) === origin) await edus.deviceListChanged(c.user_id, edu.edu_type, c);
        return;
      case 'm.direct_to_device':
        if (typeof c.sender !== 'string' || userIdServerName(c.sender) !== origin) return;
        if (typeof c.type !== 'string' || typeof c.message_id !== 'string' || !isJsonObject(c.messages)) return;
        await edus.toDevice({ sender: c.sender, type: c.type, messageId: c.message_id, messages: c.messages as Record<string, Record<string, JsonObject>> });
        return;
      default:
        return;
    }
  }
}

function withoutUnsigned(raw: unknown): object {
  if (!isJsonObject(raw)) return {};
  const { unsigned: _u, ...rest } = raw;
  return rest;
}
