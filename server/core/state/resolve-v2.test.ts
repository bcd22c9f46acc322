/**
 * State resolution v2 (rooms 2–11) and v2.1 (room 12): Synapse's named graphs, the steps of the
 * algorithm one by one, and the cases where v2 and v2.1 differ (rooms/v12 "State resolution").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, type RoomVersion } from '../room-versions.ts';
import { stateMapKey, type StoredPdu } from '../events/types.ts';
import { checkEventAuth } from '../auth/rules.ts';
import { describeState, isPowerEvent, iterativeAuthChecks, resolveV2, separateV2 } from './resolve-v2.ts';
import { resolveState } from './resolve.ts';
import { SCENARIOS } from './scenarios.ts';
import {
  ALICE,
  BOB,
  CHARLIE,
  ZARA,
  buildGraph,
  endStateDiff,
  eventId,
  member,
  powerLevels,
  topic,
  type Graph,
} from './test-graph.ts';

const version = (id: string): RoomVersion => getRoomVersion(id)!;
/** Room version 11's rules with the v2.1 algorithm (Synapse's "HydraV11"): isolates the
 * algorithm change from v12's auth rule changes. */
const V11_WITH_V21: RoomVersion = { ...version('11'), stateRes: 'v2.1' };
const V2_VERSIONS = ['2', '3', '4', '5', '6', '7', '8', '9', '10', '11'].map(version);

const ids = (...nodes: string[]) => nodes.map(eventId);
const PL = stateMapKey('m.room.power_levels', '');
const TOPIC = stateMapKey('m.room.topic', '');

/** The state after START with the given nodes' events applied on top (Synapse's `_state`). */
function stateWith(graph: Graph, ...nodes: string[]): Map<string, string> {
  const state = new Map(graph.stateAfter.get('START')!);
  for (const n of nodes) state.set(graph.keyOf(n), eventId(n));
  return state;
}

describe('state resolution v2: Synapse test_v2.py graphs', () => {
  for (const v of [...V2_VERSIONS, V11_WITH_V21, version('12')]) {
    for (const s of SCENARIOS) {
      it(`${s.name} (room version ${v.id}, ${v.stateRes})`, () => {
        const graph = buildGraph(v, s.events, s.edges);
        const { actual, wanted } = endStateDiff(graph, s.expected);
        assert.deepEqual(describeState(actual), describeState(wanted));
      });
    }
  }
});

describe('separateV2 (unconflicted state map and conflicted state set)', () => {
  it('a key missing from one state set is conflicted', () => {
    const a = new Map([
      ['k1', '$1'],
      ['k2', '$2'],
      ['k3', '$3'],
    ]);
    const b = new Map([
      ['k1', '$1'],
      ['k2', '$2b'],
    ]);
    const { unconflicted, conflicted } = separateV2([a, b]);
    assert.deepEqual([...unconflicted], [['k1', '$1']]);
    assert.deepEqual(conflicted.get('k2'), new Set(['$2', '$2b']));
    assert.deepEqual(conflicted.get('k3'), new Set(['$3']));
  });
});

describe('isPowerEvent', () => {
  const ev = (type: string, sender: string, stateKey: string | undefined, content: Record<string, string>) =>
    ({ type, sender, state_key: stateKey, content }) as unknown as StoredPdu;
  it('power levels and join rules are power events', () => {
    assert.equal(isPowerEvent(ev('m.room.power_levels', ALICE, '', {})), true);
    assert.equal(isPowerEvent(ev('m.room.join_rules', ALICE, '', { join_rule: 'public' })), true);
  });
  it('kicks and bans are; leaving, joining and the create event are not', () => {
    assert.equal(isPowerEvent(ev('m.room.member', ALICE, BOB, { membership: 'leave' })), true);
    assert.equal(isPowerEvent(ev('m.room.member', ALICE, BOB, { membership: 'ban' })), true);
    assert.equal(isPowerEvent(ev('m.room.member', BOB, BOB, { membership: 'leave' })), false);
    assert.equal(isPowerEvent(ev('m.room.member', ALICE, BOB, { membership: 'invite' })), false);
    assert.equal(isPowerEvent(ev('m.room.create', ALICE, '', {})), false);
    assert.equal(isPowerEvent(ev('m.room.topic', ALICE, '', {})), false);
    assert.equal(isPowerEvent(ev('m.room.power_levels', ALICE, undefined, {})), false);
  });
});

describe('v2 and v2.1 differ (rooms/v12 "State resolution")', () => {
  // Bob's two topics were each sent under IPOWER (no power for Bob); PA, giving Bob 50, is in
  // both state sets. v2 starts step 2 from the unconflicted state, so the topics are checked
  // against PA and pass; v2.1 starts from the empty state, so they are checked against their own
  // auth events (IPOWER) and fail; the unconflicted state is then re-applied (step 5).
  const events = [powerLevels('PA', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }), topic('T1', BOB), topic('T2', BOB)];
  const edges = [
    ['PA', 'START'],
    ['T1', 'START'],
    ['T2', 'START'],
  ];

  it('v2: the unconflicted power levels authorise the conflicted topics', () => {
    const v = version('11');
    const g = buildGraph(v, events, edges);
    const result = resolveState(v, [stateWith(g, 'PA', 'T1'), stateWith(g, 'PA', 'T2')], g.events);
    // Same mainline position and sender: the later origin_server_ts is applied last.
    assert.equal(result.get(TOPIC), eventId('T2'));
    assert.equal(result.get(PL), eventId('PA'));
  });

  for (const v of [V11_WITH_V21, version('12')]) {
    it(`v2.1 (${v.id}): iterative auth checks start from the empty state`, () => {
      const g = buildGraph(v, events, edges);
      const result = resolveState(v, [stateWith(g, 'PA', 'T1'), stateWith(g, 'PA', 'T2')], g.events);
      assert.equal(result.has(TOPIC), false);
      assert.equal(result.get(PL), eventId('PA'));
    });
  }

  it('both: without PA in the state sets, the topics fail either way', () => {
    for (const v of [version('11'), V11_WITH_V21, version('12')]) {
      const g = buildGraph(v, events, edges);
      const result = resolveState(v, [stateWith(g, 'T1'), stateWith(g, 'T2')], g.events);
      assert.equal(result.has(TOPIC), false, v.id);
    }
  });

  // A state reset: S1's power levels went back to IPOWER although its own events (Charlie's
  // profile change MC2) cite PL2, which gave Charlie 50. S2 has PL3, sent by Charlie under PL2.
  // PL2 and MC2 are in both auth chains, so not in the auth difference; v2 therefore checks PL3
  // against IPOWER (Charlie: 0) and keeps IPOWER. In v2.1 they lie on the auth path from PL3 to
  // IPOWER, so the conflicted state subgraph brings them into the full conflicted set, PL2 is
  // re-applied before PL3, and PL3 wins.
  const resetEvents = [
    powerLevels('PL2', ALICE, { users: { [ALICE]: 100, [CHARLIE]: 50 } }),
    member('MC2', CHARLIE, CHARLIE, 'join', { displayname: 'Charlie' }),
    powerLevels('PL3', CHARLIE, { users: { [ALICE]: 100, [CHARLIE]: 50, [BOB]: 50 } }),
  ];
  const resetEdges = [['PL3', 'MC2', 'PL2', 'START']];
  const resetStates = (g: Graph) => {
    const s1 = new Map(g.stateAfter.get('MC2')!);
    s1.set(PL, eventId('IPOWER'));
    return [s1, new Map(g.stateAfter.get('PL3')!)];
  };

  it('v2: a power levels reset is kept (PL2 is outside the full conflicted set)', () => {
    const v = version('11');
    const g = buildGraph(v, resetEvents, resetEdges);
    const result = resolveState(v, resetStates(g), g.events);
    assert.equal(result.get(PL), eventId('IPOWER'));
    assert.equal(result.get(stateMapKey('m.room.member', CHARLIE)), eventId('MC2'));
  });

  for (const v of [V11_WITH_V21, version('12')]) {
    it(`v2.1 (${v.id}): the conflicted state subgraph repairs the reset`, () => {
      const g = buildGraph(v, resetEvents, resetEdges);
      const result = resolveState(v, resetStates(g), g.events);
      assert.equal(result.get(PL), eventId('PL3'));
      assert.equal(result.get(stateMapKey('m.room.member', CHARLIE)), eventId('MC2'));
    });
  }
});

describe('iterative auth checks', () => {
  const v = version('10');
  const g = buildGraph(v, [powerLevels('PA', ALICE, { users: { [ALICE]: 100, [BOB]: 50 } }), topic('T1', BOB)], [
    ['T1', 'PA', 'START'],
  ]);

  it('uses the event’s auth events for keys missing from the partial state', () => {
    const out = iterativeAuthChecks(v, ids('T1'), new Map(), { getEvent: (id) => g.events.get(id) });
    assert.equal(out.get(TOPIC), eventId('T1'));
  });

  it('prefers the partial state over the event’s auth events', () => {
    const start = new Map([[PL, eventId('IPOWER')]]);
    const out = iterativeAuthChecks(v, ids('T1'), start, { getEvent: (id) => g.events.get(id) });
    assert.equal(out.has(TOPIC), false);
  });

  it('ignores rejected auth events', () => {
    const lookup = { getEvent: (id: string) => g.events.get(id), isRejected: (id: string) => id === eventId('PA') };
    const out = iterativeAuthChecks(v, ids('T1'), new Map(), lookup);
    // Without PA the creator default applies (no power levels event): Bob has 0, topic needs 50.
    assert.equal(out.has(TOPIC), false);
  });

  it('passes the v12 create event under (m.room.create, "") although it is not an auth event', () => {
    const v12 = version('12');
    const g12 = buildGraph(v12, [topic('T1', ALICE)], [['T1', 'START']]);
    const t1 = g12.events.get(eventId('T1'))!;
    assert.equal(t1.auth_events.includes(eventId('CREATE')), false);
    const seen: string[][] = [];
    const out = iterativeAuthChecks(v12, ids('T1'), new Map(), { getEvent: (id) => g12.events.get(id) }, {
      authCheck: (ver, event, authState, options) => {
        seen.push([...authState.keys()].sort());
        return checkEventAuth(ver, event, authState, options);
      },
    });
    assert.equal(out.get(TOPIC), eventId('T1'));
    assert.deepEqual(seen, [
      [stateMapKey('m.room.create', ''), stateMapKey('m.room.member', ALICE), PL].sort(),
    ]);
  });

  it('gives the auth check only the selected auth keys', () => {
    const seen: string[][] = [];
    iterativeAuthChecks(v, ids('T1'), g.stateAfter.get('PA')!, { getEvent: (id) => g.events.get(id) }, {
      authCheck: (ver, event, authState, options) => {
        seen.push([...authState.keys()].sort());
        return checkEventAuth(ver, event, authState, options);
      },
    });
    assert.deepEqual(seen, [
      [stateMapKey('m.room.create', ''), stateMapKey('m.room.member', BOB), PL].sort(),
    ]);
  });
});

describe('resolveV2 steps', () => {
  it('returns the unconflicted state when nothing conflicts', () => {
    const v = version('11');
    const g = buildGraph(v, [], []);
    const s = g.stateAfter.get('START')!;
    assert.deepEqual(resolveV2(v, [s, new Map(s)], { getEvent: (id) => g.events.get(id) }), s);
  });

  it('step 5: unconflicted entries win even over events re-applied from the auth difference', () => {
    // Zara joins again on two branches (ZJ1, ZJ2), then invites Evelyn from each (INV1, INV2).
    // Zara's member key is unconflicted (both states keep IMZ) while ZJ1/ZJ2 come in through the
    // auth difference (Synapse's test_conflict_cache_key_repartitioned).
    for (const v of [version('11'), V11_WITH_V21, version('12')]) {
      const g = buildGraph(
        v,
        [
          member('ZJ1', ZARA, ZARA, 'join'),
          member('ZJ2', ZARA, ZARA, 'join'),
          member('INV1', ZARA, '@evelyn:example.com', 'invite'),
          member('INV2', ZARA, '@evelyn:example.com', 'invite'),
        ],
        [
          ['INV1', 'ZJ1', 'START'],
          ['INV2', 'ZJ2', 'START'],
        ],
      );
      const agreed = resolveState(v, [stateWith(g, 'INV1'), stateWith(g, 'INV2')], g.events);
      assert.equal(agreed.get(stateMapKey('m.room.member', ZARA)), eventId('IMZ'), v.id);
      const conflicting = resolveState(v, [stateWith(g, 'ZJ1', 'INV1'), stateWith(g, 'ZJ2', 'INV2')], g.events);
      assert.equal(conflicting.get(stateMapKey('m.room.member', ZARA)), eventId('ZJ2'), v.id);
      assert.equal(conflicting.get(stateMapKey('m.room.member', '@evelyn:example.com')), eventId('INV2'), v.id);
    }
  });

  it('forked joins merge (Synapse SimpleParamStateTestCase)', () => {
    const v = version('2');
    const ev = (id: string, sender: string, type: string, stateKey: string, content: Record<string, string>, auth: string[], ts: number): StoredPdu => ({
      event_id: eventId(id),
      room_id: '!test:example.com',
      sender,
      origin_server_ts: ts,
      type,
      state_key: stateKey,
      content,
      prev_events: [],
      auth_events: ids(...auth),
      depth: ts + 1,
      hashes: { sha256: '' },
      signatures: {},
    });
    const events = [
      ev('CREATE', ALICE, 'm.room.create', '', { creator: ALICE }, [], 0),
      ev('IMA', ALICE, 'm.room.member', ALICE, { membership: 'join' }, ['CREATE'], 1),
      ev('IJR', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, ['CREATE', 'IMA'], 2),
      ev('IMB', BOB, 'm.room.member', BOB, { membership: 'join' }, ['CREATE', 'IJR'], 3),
      ev('IMC', CHARLIE, 'm.room.member', CHARLIE, { membership: 'join' }, ['CREATE', 'IJR'], 4),
    ];
    events[1]!.prev_events = ids('CREATE');
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const keyed = (...nodes: string[]) =>
      new Map(nodes.map((n) => [stateMapKey(byId.get(eventId(n))!.type, byId.get(eventId(n))!.state_key!), eventId(n)]));
    const result = resolveState(v, [keyed('CREATE', 'IMA', 'IJR', 'IMB'), keyed('CREATE', 'IMA', 'IJR', 'IMC')], byId);
    assert.deepEqual(result, keyed('CREATE', 'IMA', 'IJR', 'IMB', 'IMC'));
  });

  it('drops conflicted events that the lookup does not know', () => {
    const v = version('11');
    const g = buildGraph(v, [topic('T1', ALICE)], [['T1', 'START']]);
    const s1 = stateWith(g, 'T1');
    const s2 = stateWith(g);
    s2.set(TOPIC, '$unknown:example.com');
    const result = resolveState(v, [s1, s2], g.events);
    assert.equal(result.get(TOPIC), eventId('T1'));
  });
});
