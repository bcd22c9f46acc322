/**
 * One remote server's outgoing queue (spec: server-server "Transactions"; Synapse's
 * PerDestinationQueue). Durable items (PDUs, receipts, device list updates, to-device messages)
 * are read from the outbox in storage and deleted only once a transaction carrying them is
 * accepted; ephemeral EDUs (typing, presence) wait in memory. At most one transaction is in
 * flight; it holds up to 50 PDUs and 100 EDUs. A failure backs the destination off (destinations.ts)
 * and a timer retries it when the backoff ends.
 *
 * Catch-up: after an outage with more than `catchUpThreshold` PDUs waiting, only the newest PDU of
 * each room is kept, as Synapse's catch-up does; the receiver fills the gap with
 * /get_missing_events. A smaller backlog is sent in full, in order.
 */
import type { FederationQueueStore, QueuedEdu, QueuedPdu, QueuedToDevice } from '../../../storage/federation-queue.ts';
import type { DestinationHealthService } from '../destinations.ts';

const MAX_PDUS_PER_TRANSACTION = 50;
const MAX_EDUS_PER_TRANSACTION = 100;
/** Ephemeral EDUs kept per destination; the oldest go first (they are stale by then). */
const MAX_EPHEMERAL = 1000;

export interface Edu {
  edu_type: string;
  content: Record<string, unknown>;
}

/** PUT /_matrix/federation/v1/send/{txnId} body (server-server transactions.yaml). */
export interface TransactionBody {
  origin: string;
  origin_server_ts: number;
  pdus: object[];
  edus: Edu[];
}

/** Per-PDU results of an accepted transaction. */
export interface TransactionResult {
  pdus?: Record<string, { error?: string }>;
}

export interface TransactionTransport {
  sendTransaction(destination: string, txnId: string, body: TransactionBody): Promise<TransactionResult>;
}

export interface QueueDeps {
  serverName: string;
  store: FederationQueueStore;
  health: DestinationHealthService;
  transport: TransactionTransport;
  /** The PDU to send for a local event (wire form, redacted if it was); undefined if gone. */
  loadPdu(eventId: string): object | undefined;
  /** A transaction id never used before towards any destination. */
  nextTxnId(): string;
  now(): number;
  log(level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
  catchUpThreshold: number;
}

interface Batch {
  pdus: QueuedPdu[];
  edus: QueuedEdu[];
  toDevice: QueuedToDevice[];
  /** Keys and the very EDU objects taken, so newer EDUs queued meanwhile under a key survive. */
  ephemeral: [string, Edu][];
}

export class DestinationQueue {
  private readonly ephemeral = new Map<string, Edu>();
  private running = false;
  /** A wake arrived while running: look again before stopping. */
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly destination: string,
    private readonly deps: QueueDeps,
  ) {}

  /** Queues an ephemeral EDU; a later one under the same key replaces it. */
  addEphemeral(key: string, edu: Edu): void {
    this.ephemeral.delete(key);
    this.ephemeral.set(key, edu);
    if (this.ephemeral.size > MAX_EPHEMERAL) this.ephemeral.delete(this.ephemeral.keys().next().value as string);
    this.wake();
  }

  /** Something was queued, or the backoff was reset: send if we may. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = true;
    this.again = false;
    this.run()
      .catch((e: unknown) => {
        this.deps.log('warn', 'federation queue stopped on an error', { destination: this.destination, error: String(e) });
        this.retryAt(this.deps.now() + this.deps.health.policy.minRetryMs);
      })
      .finally(() => {
        this.running = false;
        if (this.again) this.wake();
      });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends transactions until the queue is empty, the destination fails, or we close. */
  private async run(): Promise<void> {
    const { deps, destination } = this;
    while (!this.closed) {
      this.again = false;
      const retryAt = deps.health.retryAt(destination);
      if (retryAt > deps.now()) {
        this.retryAt(retryAt);
        return;
      }
      await this.catchUp();
      const batch = this.nextBatch();
      if (!batch) return;
      const body: TransactionBody = {
        origin: deps.serverName,
        origin_server_ts: deps.now(),
        pdus: batch.pdus.map((p) => deps.loadPdu(p.eventId)).filter((p): p is object => p !== undefined),
        edus: [...batch.edus.map((e) => ({ edu_type: e.eduType, content: e.content })), ...batch.toDevice.map(toDeviceEdu), ...batch.ephemeral.map(([, e]) => e)],
      };
      const txnId = deps.nextTxnId();
      try {
        const result = await deps.transport.sendTransaction(destination, txnId, body);
        for (const [eventId, r] of Object.entries(result.pdus ?? {})) {
          if (r?.error) deps.log('info', 'remote server did not accept a PDU', { destination, eventId, error: String(r.error).slice(0, 300) });
        }
      } catch (e) {
        if (this.closed) return;
        const reason = (e as Error).message ?? String(e);
        const interval = await deps.health.failed(destination, reason);
        // Typing and presence are stale by the time the destination is back.
        this.ephemeral.clear();
        deps.log('info', 'federation transaction failed; backing off', { destination, txnId, retryInMs: interval, reason: reason.slice(0, 300) });
        this.retryAt(deps.now() + interval);
        return;
      }
      for (const [key, edu] of batch.ephemeral) if (this.ephemeral.get(key) === edu) this.ephemeral.delete(key);
      await deps.store.transactionSucceeded(
        destination,
        {
          pduPositions: batch.pdus.map((p) => p.position),
          eduIds: batch.edus.map((e) => e.id),
          toDevice: batch.toDevice.map((m) => ({ position: m.position, userId: m.userId, deviceId: m.deviceId })),
        },
        deps.now(),
      );
    }
  }

  private retryAt(ts: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, Math.max(0, ts - this.deps.now()));
    this.timer.unref();
  }

  /** After an outage, a long backlog shrinks to the newest PDU of each room. */
  private async catchUp(): Promise<void> {
    const { deps, destination } = this;
    if ((deps.health.get(destination)?.failureCount ?? 0) === 0) return;
    if (deps.store.counts(destination).pdus <= deps.catchUpThreshold) return;
    const dropped = await deps.store.collapseToLatestPerRoom(destination);
    deps.log('info', 'federation catch-up: sending the latest event of each room', { destination, dropped });
  }

  private nextBatch(): Batch | undefined {
    const { store } = this.deps;
    const pdus = store.pendingPdus(this.destination, MAX_PDUS_PER_TRANSACTION);
    const edus = store.pendingEdus(this.destination, MAX_EDUS_PER_TRANSACTION);
    const toDevice = store.pendingToDevice(this.destination, MAX_EDUS_PER_TRANSACTION - edus.length);
    const room = MAX_EDUS_PER_TRANSACTION - edus.length - toDevice.length;
    const ephemeral = [...this.ephemeral].slice(0, room);
    if (pdus.length + edus.length + toDevice.length + ephemeral.length === 0) return undefined;
    return { pdus, edus, toDevice, ephemeral };
  }
}

/** One m.direct_to_device EDU per queued message: each keeps its own message_id, so a retry
 * that batches differently never reuses an id for other messages (the receiver deduplicates on it). */
function toDeviceEdu(m: QueuedToDevice): Edu {
  return {
    edu_type: 'm.direct_to_device',
    content: { sender: m.sender, type: m.eventType, message_id: m.messageId, messages: { [m.userId]: { [m.deviceId]: m.content } } },
  };
}
