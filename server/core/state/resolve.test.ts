/**
 * Properties of resolveState on seeded random room DAGs, for every algorithm: the result does
 * not depend on the order of the state sets or of map iteration; resolving one state set (or
 * copies of it) gives it back; unconflicted entries are kept.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion, type RoomVersion } from '../room-versions.ts';
import type { StoredPdu } from '../events/types.ts';
import { resolveState } from './resolve.ts';
import { describeState, separateV2 } from './resolve-v2.ts';
import {
  ALICE,
  BOB,
  CHARLIE,
  EVELYN,
  ZARA,
  buildGraph,
  joinRules,
  member,
  message,
  powerLevels,
  seededRandom,
  shuffled,
  topic,
  type FakeEvent,
  type Graph,
} from './test-graph.ts';

const USERS = [ALICE, BOB, CHARLIE, ZARA, EVELYN];
const ITERATIONS = 50;

/** A random room: `size` events after START, each citing one or two earlier events as prev
 * events, doing a random mix of topics, power levels, kicks, bans, join rules, joins. */
function randomRoom(version: RoomVersion, seed: number, size: number): { graph: Graph; nodes: string[] } {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nodes = ['START'];
  const events: FakeEvent[] = [];
  const edges: string[][] = [];
  for (let i = 0; i < size; i++) {
    const id = `E${String(i).padStart(3, '0')}`;
    const admin = pick([ALICE, ALICE, BOB]);
    const roll = random();
    let event: FakeEvent;
    if (roll < 0.2) event = topic(id, pick(USERS));
    else if (roll < 0.4) {
      event = powerLevels(id, admin, {
        users: { [ALICE]: 100, [BOB]: pick([0, 50, 75]), [CHARLIE]: pick([0, 50]) },
      });
    } else if (roll < 0.55) event = member(id, admin, pick([BOB, CHARLIE, ZARA, EVELYN]), pick(['ban', 'leave']));
    else if (roll < 0.65) event = joinRules(id, admin, pick(['public', 'invite']));
    else if (roll < 0.85) {
      const user = pick([CHARLIE, ZARA, EVELYN, BOB]);
      event = member(id, user, user, 'join');
    } else event = message(id, pick(USERS));
    events.push(event);
    // Prev events: mostly recent ones, so branches form and merge.
    const recent = nodes.slice(-4);
    const prevs = new Set([pick(recent)]);
    if (random() < 0.4) prevs.add(pick(nodes));
    for (const p of prevs) edges.push([id, p]);
    nodes.push(id);
  }
  return { graph: buildGraph(version, events, edges), nodes };
}

function shuffledMap<K, V>(map: ReadonlyMap<K, V>, random: () => number): Map<K, V> {
  return new Map(shuffled([...map], random));
}

const VERSIONS = ['1', '2', '6', '10', '11', '12'].map((id) => getRoomVersion(id)!);

describe('resolveState properties on random rooms', () => {
  for (const v of VERSIONS) {
    for (const seed of [1, 2, 3]) {
      const { graph, nodes } = randomRoom(v, seed * 7919 + Number(v.id), 40);
      const random = seededRandom(seed);
      // The state sets to merge: the three of the last ten events whose states conflict most.
      const tail = nodes.slice(-10).map((n) => graph.stateAfter.get(n)!);
      let sets = tail.slice(0, 3);
      let most = -1;
      for (let a = 0; a < tail.length; a++) {
        for (let b = a + 1; b < tail.length; b++) {
          for (let c = b + 1; c < tail.length; c++) {
            const n = separateV2([tail[a]!, tail[b]!, tail[c]!]).conflicted.size;
            if (n > most) [most, sets] = [n, [tail[a]!, tail[b]!, tail[c]!]];
          }
        }
      }
      const lookup = { getEvent: (id: string) => graph.events.get(id) };
      const baseline = resolveState(v, sets, lookup);

      it(`v${v.id} seed ${seed}: the merged state sets do conflict`, () => {
        const { conflicted } = separateV2(sets);
        assert.ok(conflicted.size >= 2, `${conflicted.size} conflicted keys`);
      });

      it(`v${v.id} seed ${seed}: independent of state set order and map iteration order`, () => {
        for (let i = 0; i < ITERATIONS; i++) {
          const order = shuffled(sets, random).map((s) => shuffledMap(s, random));
          const events = shuffledMap(graph.events, random);
          const got = resolveState(v, order, events);
          assert.deepEqual(describeState(got), describeState(baseline), `iteration ${i}`);
        }
      });

      it(`v${v.id} seed ${seed}: unconflicted state is preserved`, () => {
        for (const [key, id] of sets[0]!) {
          if (sets.every((s) => s.get(key) === id)) assert.equal(baseline.get(key), id, key);
        }
      });

      it(`v${v.id} seed ${seed}: duplicated state sets change nothing`, () => {
        assert.deepEqual(describeState(resolveState(v, [...sets, sets[0]!, sets[1]!], lookup)), describeState(baseline));
      });

      it(`v${v.id} seed ${seed}: idempotent on a single state set`, () => {
        for (const n of nodes) {
          const s = graph.stateAfter.get(n)!;
          assert.deepEqual(resolveState(v, [s], lookup), s);
          assert.deepEqual(resolveState(v, [s, new Map(s)], lookup), s);
          assert.deepEqual(resolveState(v, [s, shuffledMap(s, random), s], lookup), s);
        }
      });

      it(`v${v.id} seed ${seed}: every resolved entry is an event of that key from some state set or its auth chains`, () => {
        for (const [key, id] of baseline) {
          const e: StoredPdu | undefined = graph.events.get(id);
          assert.ok(e, id);
          assert.equal(`${e.type}\u0000${e.state_key}`, key);
        }
      });
    }
  }
});

describe('the spec example (server-server "Room State Resolution")', () => {
  // E0 → E1 → E2 → E3 and E1 → E4, merging at E5; E3 and E4 both set the room name.
  const events: FakeEvent[] = [
    message('E1', ALICE),
    message('E2', ALICE),
    { id: 'E3', sender: ALICE, type: 'm.room.name', state_key: '', content: { name: 'E3' } },
    { id: 'E4', sender: ALICE, type: 'm.room.name', state_key: '', content: { name: 'E4' } },
  ];
  const edges = [
    ['END', 'E3', 'E2', 'E1', 'START'],
    ['END', 'E4', 'E1'],
  ];
  const NAME = 'm.room.name\u0000';
  it('room version 1: the deeper name event (E3) wins', () => {
    const g = buildGraph(getRoomVersion('1')!, events, edges);
    assert.equal(g.stateAfter.get('END')!.get(NAME), '$E3:example.com');
  });
  for (const id of ['2', '11', '12']) {
    it(`room version ${id}: same mainline position, the later origin_server_ts (E4) wins`, () => {
      const g = buildGraph(getRoomVersion(id)!, events, edges);
      assert.ok(g.events.get('$E4:example.com')!.origin_server_ts > g.events.get('$E3:example.com')!.origin_server_ts);
      assert.equal(g.stateAfter.get('END')!.get(NAME), '$E4:example.com');
    });
  }
});

describe('resolveState', () => {
  it('no state sets: the empty state', () => {
    assert.deepEqual(resolveState(getRoomVersion('11')!, [], new Map()), new Map());
  });
  it('accepts a Map of events as the lookup', () => {
    const v = getRoomVersion('11')!;
    const { graph, nodes } = randomRoom(v, 99, 10);
    const sets = nodes.slice(-2).map((n) => graph.stateAfter.get(n)!);
    assert.deepEqual(resolveState(v, sets, graph.events), resolveState(v, sets, { getEvent: (id) => graph.events.get(id) }));
  });
});
