/**
 * Forgets transaction ids a day after their use, as Synapse does (its event_txn_id_device_id and
 * received_transactions): a client retrying PUT /rooms/{roomId}/send/{eventType}/{txnId}, or a
 * server retrying PUT /_matrix/federation/v1/send/{txnId}, does so within minutes. Kept forever,
 * both tables would hold a row for every message ever sent, about 300 bytes each, and sql.js keeps
 * the whole database in memory. Only idempotency beyond a day and `unsigned.transaction_id` on
 * day-old events in the sender's own sync (clients use it to match their local echo) are lost.
 */
import { errorText } from '../../error-text.ts';
import type { RoomsStore } from '../../storage/rooms.ts';

export const TRANSACTION_ID_LIFETIME_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

export interface TransactionExpiryDeps {
  store: Pick<RoomsStore, 'forgetTransactionsBefore'>;
  now(): number;
  log?: (level: 'error' | 'debug', message: string, fields?: Record<string, unknown>) => void;
}

export class TransactionExpiry {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;

  constructor(private readonly deps: TransactionExpiryDeps) {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /** One sweep (one at a time); resolves with how many rows went. Never rejects. */
  sweep(): Promise<number> {
    this.running ??= this.deps.store
      .forgetTransactionsBefore(this.deps.now() - TRANSACTION_ID_LIFETIME_MS)
      .then((n) => {
        if (n > 0) this.deps.log?.('debug', 'forgot day-old transaction ids', { rows: n });
        return n;
      })
      .catch((e: unknown) => {
        this.deps.log?.('error', 'forgetting old transaction ids failed', { error: errorText(e) });
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops the timer and waits for a sweep still writing (before the database closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
