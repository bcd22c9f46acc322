/**
 * PLAIN (no Electron): what turning the "Tell me about problems" preference on or off does to the
 * alert poller (alerts.ts), from the window's "This computer" card (issue 4, "One GUI, two
 * shells") and at startup. Off stops the timer, so a family that said no is not polled for.
 */

/** The part of AlertPoller this needs. Its `enabled()` must already read the new preference. */
export interface ProblemPoller {
  start(): void;
  stop(): void;
  checkNow(): Promise<unknown>;
}

export function applyNotifyProblems(poller: ProblemPoller, enabled: boolean): void {
  if (enabled) {
    // Checks at once, so what is wrong right now shows without waiting for the next interval.
    poller.start();
    return;
  }
  poller.stop();
  // One check with the preference off makes the poller forget what it showed (and schedules
  // nothing, being stopped): turning notifications on again shows what is still wrong.
  void poller.checkNow();
}
