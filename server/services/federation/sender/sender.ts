/**
 * The federation sender (spec: server-server "Transactions", "PDUs", "EDUs"; ARCHITECTURE "The
 * path of one request" step 5): fans each local event out to the servers in its room, queues
 * EDUs, and keeps one DestinationQueue per remote server.
 *
 * Durability of the PDU outbox: an event's outbox rows are written right after the event is
 * durable (bus `eventPersisted`), in the sender's own write, which also advances the fan-out
 * cursor `dispatched_pos`. At start, local events after the cursor are fanned out again, so a
 * crash between the event's write and its outbox write loses nothing; the rows are idempotent
 * (destination, stream position). Destinations of a re-fanned event are computed from the
 * room's current members, the best we know after a crash.
 *
 * Events of remote senders are not sent on (a server sends its own events), except when a
 * resident server passes on a join/leave/knock it received through send_join/send_leave/
 * send_knock (`sendOnBehalfOf`, as Synapse's `send_on_behalf_of`).
 */
import type { StoredPdu } from '../../../core/events/types.ts';
import { userIdServerName } from '../../../core/ids.ts';
import type { FederationQueueStore, QueuedPdu } from '../../../storage/federation-queue.ts';
import type { DestinationHealthService } from '../destinations.ts';
import { remoteServersOf } from '../room-servers.ts';
import { DestinationQueue, type Edu, type QueueDeps, type TransactionTransport } from './destination-queue.ts';

/** Largest backlog sent in full after an outage (see destination-queue.ts, catch-up). */
const DEFAULT_CATCH_UP_THRESHOLD = 500;
const RESUME_BATCH = 500;

export interface SenderRooms {
  /** Joined members of a room (current state). */
  joinedMembers(roomId: string): string[];
}

export interface SenderDeps {
  serverName: string;
  store: FederationQueueStore;
  health: DestinationHealthService;
  transport: TransactionTransport;
  rooms: SenderRooms;
  loadPdu: QueueDeps['loadPdu'];
  now?: () => number;
  log: QueueDeps['log'];
  catchUpThreshold?: number;
  /** Unique prefix of this run's transaction ids (random per start). */
  txnPrefix: string;
}

export interface EduOptions {
  /** Ephemeral (typing, presence): kept in memory under this key, latest wins; lost on restart. */
  ephemeralKey?: string;
  /** Persistent EDUs with the same key replace an unsent older one (receipts). */
  coalesceKey?: string;
}

export class FederationSender {
  private readonly queues = new Map<string, DestinationQueue>();
  private readonly queueDeps: QueueDeps;
  /** Serialises outbox writes so they land in stream order. */
  private chain: Promise<void> = Promise.resolve();
  private txnCounter = 0;
  private closed = false;
  /** Newest local event seen; the cursor is saved up to it at shutdown, so a restart does not
   * rescan events that needed no outbox rows. */
  private lastSeen = 0;

  constructor(private readonly deps: SenderDeps) {
    const now = deps.now ?? Date.now;
    this.queueDeps = {
      serverName: deps.serverName,
      store: deps.store,
      health: deps.health,
      transport: deps.transport,
      loadPdu: deps.loadPdu,
      nextTxnId: () => `${deps.txnPrefix}${(++this.txnCounter).toString(36)}`,
      now,
      log: deps.log,
      catchUpThreshold: deps.catchUpThreshold ?? DEFAULT_CATCH_UP_THRESHOLD,
    };
    deps.health.onReset((d) => this.wake([d]));
  }

  /** Fans out local events the last run did not get to, then wakes every non-empty queue. */
  async start(): Promise<void> {
    for (;;) {
      const after = this.deps.store.dispatchedPosition();
      const events = this.deps.store.localEventsAfter(this.deps.serverName, after, RESUME_BATCH);
      if (events.length === 0) break;
      const rows: QueuedPdu[] = [];
      for (const e of events) {
        for (const destination of this.serversInRoom(e.roomId)) rows.push({ destination, ...e });
      }
      await this.deps.store.enqueuePdus(rows, events[events.length - 1]!.position);
      if (events.length < RESUME_BATCH) break;
    }
    this.wake(this.deps.store.destinationsWithPending());
  }

  /** bus `eventPersisted`: queue a local event for every other server in its room. */
  onEventPersisted(pdu: StoredPdu, position: number): void {
    const origin = userIdServerName(pdu.sender);
    if (origin !== this.deps.serverName || typeof pdu.room_id !== 'string') return;
    this.lastSeen = Math.max(this.lastSeen, position);
    const destinations = this.serversInRoom(pdu.room_id);
    // A kicked or banned member's server is no longer in the room but must learn of it. (An
    // invitee's server got its invite through /invite.)
    const membership = pdu.content.membership;
    if (pdu.type === 'm.room.member' && typeof pdu.state_key === 'string' && (membership === 'leave' || membership === 'ban')) {
      const target = userIdServerName(pdu.state_key);
      if (target !== undefined && target !== this.deps.serverName) destinations.add(target);
    }
    this.enqueue(pdu, position, destinations);
  }

  /**
   * A resident server passes on a membership event it received through send_join, send_leave or
   * send_knock to the other servers in the room (not back to `origin`). Not replayed after a
   * crash: the joining server's later events reference it, so others fetch it as a missing event.
   */
  sendOnBehalfOf(pdu: StoredPdu, position: number, origin: string): void {
    if (typeof pdu.room_id !== 'string') return;
    const destinations = this.serversInRoom(pdu.room_id);
    destinations.delete(origin);
    this.enqueue(pdu, position, destinations, false);
  }

  /** Queues an EDU for each destination (our own server is skipped). */
  sendEdu(destinations: Iterable<string>, edu: Edu, opts: EduOptions = {}): Promise<void> {
    const targets = [...new Set(destinations)].filter((d) => d !== this.deps.serverName);
    if (targets.length === 0 || this.closed) return Promise.resolve();
    if (opts.ephemeralKey !== undefined) {
      for (const d of targets) this.queue(d).addEphemeral(opts.ephemeralKey, edu);
      return Promise.resolve();
    }
    const rows = targets.map((destination) => ({ destination, eduType: edu.edu_type, content: edu.content, coalesceKey: opts.coalesceKey }));
    return this.serial(async () => {
      await this.deps.store.enqueueEdus(rows);
      this.wake(targets);
    });
  }

  /** Something was queued for these destinations by another store (to-device, device lists). */
  wake(destinations: Iterable<string>): void {
    if (this.closed) return;
    for (const d of destinations) if (d !== this.deps.serverName) this.queue(d).wake();
  }

  /** Servers with a joined member in the room, except ours. */
  serversInRoom(roomId: string): Set<string> {
    return remoteServersOf(this.deps.serverName, this.deps.rooms.joinedMembers(roomId));
  }

  /** Resolves once every outbox write queued so far is durable (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) q.close();
    const lastSeen = this.lastSeen;
    await this.serial(() => (lastSeen > this.deps.store.dispatchedPosition() ? this.deps.store.enqueuePdus([], lastSeen) : Promise.resolve()));
  }

  private enqueue(pdu: StoredPdu, position: number, destinations: Set<string>, advancesCursor = true): void {
    if (destinations.size === 0) return;
    const rows = [...destinations].map((destination) => ({ destination, position, eventId: pdu.event_id, roomId: pdu.room_id as string }));
    void this.serial(async () => {
      await this.deps.store.enqueuePdus(rows, advancesCursor ? position : 0);
      this.wake(destinations);
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch((e: unknown) => this.deps.log('warn', 'federation outbox write failed', { error: String(e) }));
    return run;
  }

  private queue(destination: string): DestinationQueue {
    let q = this.queues.get(destination);
    if (!q) {
      q = new DestinationQueue(destination, this.queueDeps);
      this.queues.set(destination, q);
    }
    return q;
  }
}
