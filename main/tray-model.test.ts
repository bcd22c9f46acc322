import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trayModel, type TrayItem } from './tray-model.ts';

const actions = (items: TrayItem[]) => items.filter((i) => i.kind === 'action').map((i) => `${i.action}:${i.enabled ? 'on' : 'off'}`);

test('running: Open, Stop, Quit; the tooltip names the server', () => {
  const m = trayModel({ state: 'running', clientUrl: 'http://127.0.0.1:8008' }, 'smith.family');
  assert.equal(m.icon, 'running');
  assert.equal(m.tooltip, 'Hearth — Running (smith.family)');
  assert.deepEqual(actions(m.items), ['open:on', 'stop:on', 'quit:on']);
});

test('stopped: Start is offered', () => {
  const m = trayModel({ state: 'stopped' });
  assert.equal(m.icon, 'stopped');
  assert.deepEqual(actions(m.items), ['open:on', 'start:on', 'quit:on']);
});

test('starting and stopping: nothing that would race', () => {
  assert.deepEqual(actions(trayModel({ state: 'starting' }).items), ['open:on', 'start:off', 'quit:on']);
  assert.deepEqual(actions(trayModel({ state: 'stopping' }).items), ['open:on', 'start:off', 'quit:off']);
  assert.equal(trayModel({ state: 'starting' }).icon, 'busy');
});

test('failed: the reason is shown, shortened, with a retry', () => {
  const m = trayModel({ state: 'failed', reason: 'the admin address 127.0.0.1:8009 is in use; '.repeat(5) });
  assert.equal(m.icon, 'error');
  const label = m.items[0]!;
  assert.equal(label.kind, 'label');
  assert.ok(label.kind === 'label' && label.label.startsWith('Could not start: the admin address') && label.label.endsWith('…'));
  assert.ok(m.items.some((i) => i.kind === 'action' && i.action === 'start' && i.label === 'Try starting again'));
});
