/**
 * Typed in-process events between services, built in wiring.ts (buildCore). Published only after
 * the write they describe, if any, is durable. Handlers run synchronously and must not throw (a
 * throwing handler is logged and skipped, so one consumer cannot break another).
 */
import type { StoredPdu } from '../core/events/types.ts';

export interface BusEvents {
  /** A room event was stored (and is durable) at this stream position. */
  eventPersisted: { pdu: StoredPdu; streamPosition: number; roomVersion: string };
  /** A user's devices or device keys changed (device list updates for sync and federation). */
  deviceListChanged: { userId: string; streamPosition: number };
  /** A local user's account was deactivated. */
  userDeactivated: { userId: string };
  /** Some or all of a room's history was purged: caches over the deleted rows forget them. */
  roomHistoryPurged: { roomId: string };
  /** A local user set their typing state in a room (also a refresh; not remote users' typing). */
  typingSet: { roomId: string; userId: string; typing: boolean };
  /** A local user's public `m.read` receipt was stored, or resent unchanged (not remote users'). */
  readReceiptSent: { roomId: string; userId: string; eventId: string; threadId: string | null; ts: number };
  /** A local user set their presence explicitly (not /sync's or the idle sweep's changes). */
  presenceSet: { userId: string };
  /** A local user's to-device messages are stored (inbox and remote outbox) for these users. */
  toDeviceSent: { recipients: string[] };
}

type Handler<K extends keyof BusEvents> = (payload: BusEvents[K]) => void;

export class Bus {
  private readonly handlers = new Map<keyof BusEvents, ((payload: never) => void)[]>();

  constructor(private readonly onError: (event: string, err: unknown) => void = () => {}) {}

  on<K extends keyof BusEvents>(event: K, handler: Handler<K>): void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler as (payload: never) => void);
    this.handlers.set(event, list);
  }

  publish<K extends keyof BusEvents>(event: K, payload: BusEvents[K]): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        (h as Handler<K>)(payload);
      } catch (e) {
        this.onError(event, e);
      }
    }
  }
}
