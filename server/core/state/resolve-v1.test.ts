/**
 * State resolution for room version 1 (rooms/v1 "State resolution") and the SHA-1 it sorts by.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion } from '../room-versions.ts';
import { stateMapKey } from '../events/types.ts';
import { describeState } from './resolve-v2.ts';
import { resolveV1, separateV1 } from './resolve-v1.ts';
import { resolveState } from './resolve.ts';
import { sha1Hex } from './sha1.ts';
import { SCENARIOS } from './scenarios.ts';
import { ALICE, BOB, CHARLIE, buildGraph, endStateDiff, eventId, joinRules, message, powerLevels, topic } from './test-graph.ts';

const V1 = getRoomVersion('1')!;
const PL = stateMapKey('m.room.power_levels', '');
const TOPIC = stateMapKey('m.room.topic', '');

describe('sha1Hex', () => {
  const vectors: [string, string][] = [
    ['', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
    ['x'.repeat(55), 'cef734ba81a024479e09eb5a75b6ddae62e6abf1'],
    ['x'.repeat(56), '901305367c259952f4e7af8323f480d59f81335b'],
    ['x'.repeat(64), 'bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163'],
    ['$é😀:example.com', '8aa1a6fdda0d742cda875bc1eba1478827c11c48'],
    ['a'.repeat(1_000_000), '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
  ];
  for (const [input, hex] of vectors) {
    it(`sha1 of ${JSON.stringify(input.slice(0, 16))} (${input.length} chars)`, () => assert.equal(sha1Hex(input), hex));
  }
});

describe('separateV1', () => {
  it('a key missing from some states is not a conflict', () => {
    const { unconflicted, conflicted } = separateV1([
      new Map([
        ['a', '$1'],
        ['b', '$2'],
      ]),
      new Map([
        ['a', '$1b'],
        ['c', '$3'],
      ]),
    ]);
    assert.deepEqual(unconflicted, new Map([
      ['b', '$2'],
      ['c', '$3'],
    ]));
    assert.deepEqual(conflicted, new Map([['a', new Set(['$1', '$1b'])]]));
  });
});

describe('state resolution v1: Synapse graphs under room version 1', () => {
  for (const s of SCENARIOS) {
    it(s.name, () => {
      const graph = buildGraph(V1, s.events, s.edges);
      const { actual, wanted } = endStateDiff(graph, s.expectedV1 ?? s.expected);
      assert.deepEqual(describeState(actual), describeState(wanted));
    });
  }
});

describe('state resolution v1: passes', () => {
  it('power levels at equal depth: descending sha1 order, the first added unchecked', () => {
    // sha1($PA…) = 6135… > sha1($PB…) = 2e35…, so PA comes first and is added to R without a
    // check; Bob's PB is then allowed under PA (Bob 50). Ascending sha1 would have picked PA.
    assert.ok(sha1Hex(eventId('PA')) > sha1Hex(eventId('PB')));
    const g = buildGraph(
      V1,
      [
        powerLevels('PA', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }),
        powerLevels('PB', BOB, { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 10 } }),
      ],
      [
        ['END', 'PA', 'START'],
        ['END', 'PB', 'START'],
      ],
    );
    assert.equal(g.stateAfter.get('END')!.get(PL), eventId('PB'));
  });

  it('a pass stops at the first event not allowed', () => {
    // Depth order PA, PB, PC. Charlie's PB is not allowed under PA, so the pass stops and PA
    // stays, although Alice's deeper PC would have been allowed.
    const g = buildGraph(
      V1,
      [
        message('M1', BOB),
        message('M2', BOB),
        message('M3', BOB),
        powerLevels('PA', ALICE, { users: { [ALICE]: 100 } }),
        powerLevels('PB', CHARLIE, { users: { [ALICE]: 100, [CHARLIE]: 50 } }),
        powerLevels('PC', ALICE, { users: { [ALICE]: 100, [BOB]: 1 } }),
      ],
      [
        ['END', 'PA', 'START'],
        ['END', 'PB', 'M1', 'START'],
        ['END', 'PC', 'M3', 'M2', 'START'],
      ],
    );
    assert.equal(g.stateAfter.get('END')!.get(PL), eventId('PA'));
  });

  it('other events: the highest depth that passes auth', () => {
    const g = buildGraph(
      V1,
      [message('MZ', BOB), topic('T1', ALICE), topic('T2', BOB), topic('T3', ALICE)],
      [
        ['END', 'T2', 'MZ', 'START'],
        ['END', 'T1', 'START'],
      ],
    );
    // T2 is deeper but Bob (0) may not set the topic (50); T1 wins.
    assert.equal(g.stateAfter.get('END')!.get(TOPIC), eventId('T1'));
  });

  it('other events: a deeper allowed event wins', () => {
    const g = buildGraph(
      V1,
      [message('MZ', BOB), topic('T1', ALICE), topic('T3', ALICE)],
      [
        ['END', 'T3', 'MZ', 'START'],
        ['END', 'T1', 'START'],
      ],
    );
    assert.equal(g.stateAfter.get('END')!.get(TOPIC), eventId('T3'));
  });

  it('other events at equal depth: the lowest sha1(event_id), not the lowest event id', () => {
    // sha1($TX…) = 7331… < sha1($TD…) = eaa7… although "$TD" < "$TX".
    assert.ok(sha1Hex(eventId('TX')) < sha1Hex(eventId('TD')));
    const g = buildGraph(V1, [topic('TD', ALICE), topic('TX', ALICE)], [
      ['END', 'TD', 'START'],
      ['END', 'TX', 'START'],
    ]);
    assert.equal(g.stateAfter.get('END')!.get(TOPIC), eventId('TX'));
  });

  it('other events: when none passes, the lowest depth one', () => {
    const g = buildGraph(
      V1,
      [message('MZ', BOB), topic('T2', BOB), topic('T4', BOB)],
      [
        ['END', 'T2', 'MZ', 'START'],
        ['END', 'T4', 'START'],
      ],
    );
    assert.equal(g.stateAfter.get('END')!.get(TOPIC), eventId('T4'));
  });

  it('join rules resolve before members: a join under the winning rules', () => {
    // JR (Alice, invite-only) conflicts with the public IJR; the deeper JR wins the join rules
    // pass, after which Evelyn's concurrent join (checked in the member pass) is not allowed…
    // but v1 only resolves *conflicting* keys: Evelyn's key is on one side only and is kept.
    const g = buildGraph(V1, [joinRules('JR', ALICE, 'invite'), { id: 'ME', sender: '@evelyn:example.com', type: 'm.room.member', state_key: '@evelyn:example.com', content: { membership: 'join' } }], [
      ['END', 'JR', 'START'],
      ['END', 'ME', 'START'],
    ]);
    const end = g.stateAfter.get('END')!;
    assert.equal(end.get(stateMapKey('m.room.join_rules', '')), eventId('JR'));
    assert.equal(end.get(stateMapKey('m.room.member', '@evelyn:example.com')), eventId('ME'));
  });

  it('resolveState dispatches room version 1 to resolveV1', () => {
    const g = buildGraph(V1, [topic('TD', ALICE), topic('TX', ALICE)], [
      ['TD', 'START'],
      ['TX', 'START'],
    ]);
    const sets = [g.stateAfter.get('TD')!, g.stateAfter.get('TX')!];
    const lookup = { getEvent: (id: string) => g.events.get(id) };
    assert.deepEqual(resolveState(V1, sets, lookup), resolveV1(V1, sets, lookup));
  });
});
