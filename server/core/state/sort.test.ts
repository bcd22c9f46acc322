/**
 * The orderings of state resolution v2: Kahn's algorithm with the smallest candidate first, the
 * reverse topological power ordering and the mainline ordering (rooms/v2 "Definitions").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion } from '../room-versions.ts';
import type { StoredPdu } from '../events/types.ts';
import { AuthGraph } from './auth-chain.ts';
import {
  compareCodePoints,
  lexicographicalTopologicalSort,
  mainlineSort,
  reverseTopologicalPowerSort,
  senderPowerLevel,
} from './sort.ts';
import { ALICE, BOB, CHARLIE, buildGraph, eventId, powerLevels, topic } from './test-graph.ts';

const ids = (...nodes: string[]) => nodes.map(eventId);

describe('lexicographicalTopologicalSort', () => {
  it('Synapse LexicographicalTestCase.test_simple', () => {
    const preds: Record<string, string[]> = { l: ['o'], m: ['n', 'o'], n: ['o'], o: [], p: ['o'] };
    const out = lexicographicalTopologicalSort(Object.keys(preds), (n) => preds[n]!, compareCodePoints);
    assert.deepEqual(out, ['o', 'l', 'n', 'm', 'p']);
  });

  it('picks the smallest candidate, not the smallest node overall', () => {
    const preds: Record<string, string[]> = { a: ['z'], z: [], y: [] };
    assert.deepEqual(lexicographicalTopologicalSort(['a', 'z', 'y'], (n) => preds[n]!, compareCodePoints), ['y', 'z', 'a']);
  });

  it('ignores predecessors outside the set and throws on a cycle', () => {
    assert.deepEqual(lexicographicalTopologicalSort(['b', 'a'], () => ['outside'], compareCodePoints), ['a', 'b']);
    const cyc: Record<string, string[]> = { a: ['b'], b: ['a'] };
    assert.throws(() => lexicographicalTopologicalSort(['a', 'b'], (n) => cyc[n]!, compareCodePoints), /cycle/);
  });
});

describe('compareCodePoints', () => {
  it('orders by code point, also beyond the BMP', () => {
    assert.ok(compareCodePoints('$a', '$b') < 0);
    assert.ok(compareCodePoints('$b', '$a') > 0);
    assert.equal(compareCodePoints('$a', '$a'), 0);
    assert.ok(compareCodePoints('$a', '$ab') < 0);
    // U+1F600 (surrogate pair D83D DE00) is above U+FF5E although its first UTF-16 unit is below.
    assert.ok(compareCodePoints('\u{1F600}', '\uFF5E') > 0);
    assert.ok('\u{1F600}' < '\uFF5E');
  });
});

describe('senderPowerLevel (Synapse test_get_power_level_for_sender)', () => {
  const event = (id: string, sender: string, type: string, content: Record<string, unknown>, auth: string[], extra: Partial<StoredPdu> = {}): StoredPdu => ({
    event_id: id,
    room_id: '!test:example.com',
    sender,
    origin_server_ts: 0,
    type,
    state_key: '',
    content: content as StoredPdu['content'],
    prev_events: [],
    auth_events: auth,
    depth: 1,
    hashes: { sha256: '' },
    signatures: {},
    ...extra,
  });
  for (const id of ['10', '11']) {
    const v = getRoomVersion(id)!;
    const create = event('$create', ALICE, 'm.room.create', v.implicitRoomCreator ? { room_version: id } : { creator: ALICE, room_version: id }, []);
    const pl = event('$pl', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100, [BOB]: 50 }, users_default: 10 }, ['$create']);
    const map = new Map([create, pl].map((e) => [e.event_id, e]));
    const lookup = { getEvent: (x: string) => map.get(x) };
    it(`v${id}: from the power levels auth event, users_default otherwise`, () => {
      const want: [string, number][] = [
        [ALICE, 100],
        [BOB, 50],
        [CHARLIE, 10],
      ];
      for (const [user, level] of want) {
        assert.equal(senderPowerLevel(v, event('$t', user, 'm.room.topic', {}, ['$create', '$pl']), lookup), level, user);
      }
    });
    it(`v${id}: without power levels the creator has 100, everyone else 0`, () => {
      const want: [string, number][] = [
        [ALICE, 100],
        [BOB, 0],
        [CHARLIE, 0],
      ];
      for (const [user, level] of want) {
        assert.equal(senderPowerLevel(v, event('$t', user, 'm.room.topic', {}, ['$create']), lookup), level, user);
      }
    });
  }
  it('v12: creators (sender and additional_creators) are infinitely powerful', () => {
    const v = getRoomVersion('12')!;
    const create = event('$create', ALICE, 'm.room.create', { room_version: '12', additional_creators: [BOB] }, [], { room_id: undefined });
    delete create.room_id;
    const pl = event('$pl', ALICE, 'm.room.power_levels', { users: { [CHARLIE]: 50 } }, [], { room_id: '!create' });
    const map = new Map([create, pl].map((e) => [e.event_id, e]));
    const lookup = { getEvent: (x: string) => map.get(x) };
    const t = (user: string) => event('$t', user, 'm.room.topic', {}, ['$pl'], { room_id: '!create' });
    assert.equal(senderPowerLevel(v, t(ALICE), lookup), Infinity);
    assert.equal(senderPowerLevel(v, t(BOB), lookup), Infinity);
    assert.equal(senderPowerLevel(v, t(CHARLIE), lookup), 50);
    assert.equal(senderPowerLevel(v, t('@dave:example.com'), lookup), 0);
  });
});

describe('reverseTopologicalPowerSort', () => {
  const v = getRoomVersion('10')!;
  // Two concurrent power levels changes on top of PA: Alice's (100) sorts before Bob's (50)
  // even though Bob's is older; both come after PA, which is in their auth chains.
  const g = buildGraph(
    v,
    [
      powerLevels('PA', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }),
      powerLevels('PB', BOB, { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 10 } }),
      powerLevels('PC', ALICE, { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 20 } }),
    ],
    [
      ['PB', 'PA', 'START'],
      ['PC', 'PA'],
    ],
  );
  const graph = new AuthGraph({ getEvent: (id) => g.events.get(id) });

  it('auth order first, then greater sender power level', () => {
    assert.deepEqual(reverseTopologicalPowerSort(v, ids('PC', 'PB', 'PA'), graph), ids('PA', 'PC', 'PB'));
  });

  it('same power level: smaller origin_server_ts, then smaller event id', () => {
    const a = g.events.get(eventId('PB'))!;
    const twin = (id: string, ts: number): StoredPdu => ({ ...a, event_id: id, origin_server_ts: ts });
    const map = new Map(g.events);
    for (const e of [twin('$b', 5), twin('$a', 5), twin('$c', 4)]) map.set(e.event_id, e);
    const gg = new AuthGraph({ getEvent: (id) => map.get(id) });
    assert.deepEqual(reverseTopologicalPowerSort(v, ['$a', '$b', '$c'], gg), ['$c', '$a', '$b']);
  });

  it('orders through events outside the sorted set', () => {
    // PB's auth chain reaches IPOWER through PA; sorting only {PB, IPOWER} keeps IPOWER first.
    assert.deepEqual(reverseTopologicalPowerSort(v, ids('PB', 'IPOWER'), graph), ids('IPOWER', 'PB'));
  });
});

describe('mainlineSort', () => {
  const v = getRoomVersion('10')!;
  const g = buildGraph(
    v,
    [
      topic('T1', ALICE),
      powerLevels('PA1', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }),
      topic('T2', ALICE),
      powerLevels('PA2', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }),
      topic('T3', BOB),
      topic('T4', BOB),
    ],
    [['T4', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START']],
  );
  const lookup = { getEvent: (id: string) => g.events.get(id) };

  it('events based on older mainline power levels come first; then origin_server_ts', () => {
    // T1 → IPOWER (position 2), T2 → PA1 (1), T3/T4 → PA2 (0).
    assert.deepEqual(mainlineSort(ids('T4', 'T3', 'T2', 'T1'), eventId('PA2'), lookup), ids('T1', 'T2', 'T3', 'T4'));
  });

  it('an event off the mainline has position ∞ and sorts first', () => {
    // With PA1 as P0, T3's power levels chain is PA2 → PA1: position 0 via PA1 (j = 2).
    assert.deepEqual(mainlineSort(ids('T3', 'T1', 'T2'), eventId('PA1'), lookup), ids('T1', 'T2', 'T3'));
    const orphan: StoredPdu = { ...g.events.get(eventId('T3'))!, event_id: '$orphan', auth_events: [], origin_server_ts: 999 };
    const withOrphan = { getEvent: (id: string) => (id === '$orphan' ? orphan : g.events.get(id)) };
    assert.deepEqual(mainlineSort(['$orphan', ...ids('T4', 'T1')], eventId('PA2'), withOrphan), ['$orphan', ...ids('T1', 'T4')]);
  });

  it('without power levels every position is ∞: origin_server_ts then event id', () => {
    assert.deepEqual(mainlineSort(ids('T4', 'T1', 'T3'), undefined, lookup), ids('T1', 'T3', 'T4'));
  });

  it('the event itself is not its own mainline step (j ≥ 1)', () => {
    // P0 = PA2. PA1 as e0: e1 = IPOWER, position 2 (it would be 1 if PA1 counted itself). A late
    // copy of T1 (power levels IPOWER, position 2) then sorts after PA1 by origin_server_ts.
    const late: StoredPdu = { ...g.events.get(eventId('T1'))!, event_id: '$t1late', origin_server_ts: 999 };
    const withLate = { getEvent: (id: string) => (id === '$t1late' ? late : g.events.get(id)) };
    assert.deepEqual(mainlineSort(['$t1late', eventId('PA1')], eventId('PA2'), withLate), [eventId('PA1'), '$t1late']);
  });
});
