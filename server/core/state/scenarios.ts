/**
 * Named state resolution scenarios as data, ported from Synapse's tests/state/test_v2.py
 * (StateTestCase): each adds events to the initial room and joins them with edge chains; the
 * expected state at END lists the node ids whose keys changed since START (or must hold).
 * Used by the *.test.ts files next to it only.
 */
import { ALICE, BOB, CHARLIE, EVELYN, ZARA, joinRules, member, message, powerLevels, topic, type FakeEvent } from './test-graph.ts';

export interface Scenario {
  name: string;
  events: FakeEvent[];
  edges: string[][];
  /** Expected with state resolution v2 and v2.1 (Synapse's expectation). */
  expected: string[];
  /** Expected with room version 1's algorithm, where it differs (v1 lets these state resets through). */
  expectedV1?: string[];
}

const PA_CONTENT = { users: { [ALICE]: 100, [BOB]: 50 } };

export const SCENARIOS: Scenario[] = [
  {
    // Alice bans Bob while Bob (concurrently) sends power levels: the ban must stick.
    name: 'ban vs power levels race',
    events: [
      powerLevels('PA', ALICE, PA_CONTENT),
      member('MA', ALICE, ALICE, 'join'),
      member('MB', ALICE, BOB, 'ban'),
      powerLevels('PB', BOB, PA_CONTENT),
    ],
    edges: [
      ['END', 'MB', 'MA', 'PA', 'START'],
      ['END', 'PB', 'PA'],
    ],
    expected: ['PA', 'MA', 'MB'],
    // v1: Alice's membership is itself conflicted (IMA vs MA), so the member pass cannot see
    // her joined and the ban loses.
    expectedV1: ['PA', 'MA', 'IMB'],
  },
  {
    // Evelyn joins on a branch concurrent with the room going private: her join must not survive.
    name: 'join rule evasion',
    events: [joinRules('JR', ALICE, 'private'), member('ME', EVELYN, EVELYN, 'join')],
    edges: [
      ['END', 'JR', 'START'],
      ['END', 'ME', 'START'],
    ],
    expected: ['JR'],
    // v1: Evelyn's member key exists on one side only, which is not a conflict: it is kept.
    expectedV1: ['JR', 'ME'],
  },
  {
    // Charlie, promoted by Bob, demotes himself; the other side still has the older PA.
    name: 'offtopic power levels',
    events: [
      powerLevels('PA', ALICE, PA_CONTENT),
      powerLevels('PB', BOB, { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } }),
      powerLevels('PC', CHARLIE, { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 0 } }),
    ],
    edges: [
      ['END', 'PC', 'PB', 'PA', 'START'],
      ['END', 'PA'],
    ],
    expected: ['PC'],
    // v1: PA (lower depth) first, then PC is checked against PA, where Charlie has no power.
    expectedV1: ['PA'],
  },
  {
    name: 'topic basic',
    events: [
      topic('T1', ALICE),
      powerLevels('PA1', ALICE, PA_CONTENT),
      topic('T2', ALICE),
      powerLevels('PA2', ALICE, { users: { [ALICE]: 100, [BOB]: 0 } }),
      powerLevels('PB', BOB, PA_CONTENT),
      topic('T3', BOB),
    ],
    edges: [
      ['END', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'T3', 'PB', 'PA1'],
    ],
    expected: ['PA2', 'T2'],
  },
  {
    // Bob's topic must not be reinstated after he is banned, nor T1 lost.
    name: 'topic reset',
    events: [
      topic('T1', ALICE),
      powerLevels('PA', ALICE, PA_CONTENT),
      topic('T2', BOB),
      member('MB', ALICE, BOB, 'ban'),
    ],
    edges: [
      ['END', 'MB', 'T2', 'PA', 'T1', 'START'],
      ['END', 'T1'],
    ],
    expected: ['T1', 'MB', 'PA'],
  },
  {
    name: 'topic setting by power levels',
    events: [
      topic('T1', ALICE),
      powerLevels('PA1', ALICE, PA_CONTENT),
      topic('T2', ALICE),
      powerLevels('PA2', ALICE, { users: { [ALICE]: 100, [BOB]: 0 } }),
      powerLevels('PB', BOB, PA_CONTENT),
      topic('T3', BOB),
      message('MZ1', ZARA),
      topic('T4', ALICE),
    ],
    edges: [
      ['END', 'T4', 'MZ1', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'MZ1', 'T3', 'PB', 'PA1'],
    ],
    expected: ['T4', 'PA2'],
  },
  {
    // T3 wins: T4 was sent later but is based on an older power levels event on the mainline.
    name: 'mainline sort',
    events: [
      topic('T1', ALICE),
      powerLevels('PA1', ALICE, PA_CONTENT),
      topic('T2', ALICE),
      powerLevels('PA2', ALICE, { users: { [ALICE]: 100, [BOB]: 50 }, events: { 'm.room.power_levels': 100 } }),
      powerLevels('PB', BOB, PA_CONTENT),
      topic('T3', BOB),
      topic('T4', ALICE),
    ],
    edges: [
      ['END', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'T4', 'PB', 'PA1'],
    ],
    expected: ['T3', 'PA2'],
  },
];
