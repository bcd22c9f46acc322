/**
 * Wakes long-polling /sync requests. Writers call `notify` only after their write is durable
 * (ARCHITECTURE: "durable before announced"), with the new stream position and the users it
 * concerns; waiters then re-read from storage. Nothing here holds events, only positions.
 */

type Waiter = () => void;

export class Notifier {
  private position: number;
  private typingSerial = 0;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(initialPosition: number) {
    this.position = initialPosition;
  }

  /** Highest durable stream position announced so far: sync never reports beyond it. */
  get current(): number {
    return this.position;
  }

  /** In-memory serial of ephemeral changes (typing), part of sync tokens. */
  get typing(): number {
    return this.typingSerial;
  }

  /** Announces a durable stream position and wakes these users' waiters. */
  notify(position: number, userIds: Iterable<string>): void {
    if (position > this.position) this.position = position;
    this.wake(userIds);
  }

  /** Announces an ephemeral (not persisted) change, e.g. typing. */
  notifyEphemeral(userIds: Iterable<string>): void {
    this.typingSerial++;
    this.wake(userIds);
  }

  /** Resolves when one of the user's notifications arrives, on timeout, on abort, or at shutdown. */
  wait(userId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(userId);
      if (!set) this.waiters.set(userId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const s = this.waiters.get(userId);
        if (s) {
          s.delete(done);
          if (s.size === 0) this.waiters.delete(userId);
        }
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Releases every waiter (shutdown), and makes later waits return at once. */
  close(): void {
    this.closed = true;
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w();
  }

  private wake(userIds: Iterable<string>): void {
    for (const u of userIds) {
      const set = this.waiters.get(u);
      if (set) for (const w of [...set]) w();
    }
  }
}
