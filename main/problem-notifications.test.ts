import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertPoller, type Problem } from './alerts.ts';
import { applyNotifyProblems } from './problem-notifications.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('the notifyProblems preference starts and stops the poller; on again shows what is still wrong', async () => {
  let enabled = false;
  let reads = 0;
  const timers = new Set<() => void>();
  const shown: Problem[] = [];
  const poller = new AlertPoller({
    read: async () => (reads++, { now: Date.UTC(2030, 0, 1), server: { state: 'running', clientUrl: 'http://127.0.0.1:1' }, backup: { lastError: 'no space left on device' } }),
    sink: (p) => shown.push(p),
    enabled: () => enabled,
    schedule: (fn) => {
      timers.add(fn);
      return () => timers.delete(fn);
    },
  });

  applyNotifyProblems(poller, enabled); // startup with the preference off
  await settle();
  assert.equal(timers.size, 0, 'off: nothing scheduled');
  assert.equal(reads, 0, 'off: nothing read');

  enabled = true;
  applyNotifyProblems(poller, enabled);
  await settle();
  assert.deepEqual(shown.map((p) => p.kind), ['backup'], 'on: checked at once');
  assert.equal(timers.size, 1, 'on: the next check is scheduled');

  enabled = false;
  applyNotifyProblems(poller, enabled);
  await settle();
  assert.equal(timers.size, 0, 'off: the timer is cancelled');
  assert.equal(reads, 1);

  enabled = true;
  applyNotifyProblems(poller, enabled);
  await settle();
  assert.equal(shown.length, 2, 'off then on: the backup still fails, so it shows again');
  poller.stop();
});
