/**
 * Per-room async mutex. Event building reads the forward extremities and current state, so two
 * builders in one room must not interleave across an `await` (ARCHITECTURE "Build and check").
 * Rooms are independent: a lock per room id, dropped when idle.
 */

export class RoomLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs fn when every earlier holder of roomId's lock has finished. */
  async run<T>(roomId: string, fn: () => T | Promise<T>): Promise<T> {
    const prev = this.tails.get(roomId);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(roomId, tail);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      if (this.tails.get(roomId) === tail) this.tails.delete(roomId);
    }
  }

  /** Whether some holder or waiter currently exists for the room (tests). */
  isLocked(roomId: string): boolean {
    return this.tails.has(roomId);
  }
}
