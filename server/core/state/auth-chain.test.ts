/**
 * Auth chains, the auth difference and the v12 conflicted state subgraph (rooms/v2, rooms/v12
 * "Definitions").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion } from '../room-versions.ts';
import { stateMapKey, type StoredPdu } from '../events/types.ts';
import { AuthGraph, createEventFor } from './auth-chain.ts';
import { ALICE, CHARLIE, buildGraph, eventId, member, powerLevels, topic } from './test-graph.ts';

/** A bare event with the given auth events (the graph helpers read nothing else). */
function node(id: string, auth: string[]): StoredPdu {
  return {
    event_id: id,
    sender: ALICE,
    origin_server_ts: 0,
    type: 'x',
    state_key: id,
    content: {},
    prev_events: [],
    auth_events: auth,
    depth: 1,
    hashes: { sha256: '' },
    signatures: {},
  };
}
function lookupOf(events: StoredPdu[]) {
  const map = new Map(events.map((e) => [e.event_id, e]));
  return { getEvent: (id: string) => map.get(id) };
}

describe('AuthGraph', () => {
  //   D → C → B → A,  E → C, E → B
  const events = [node('A', []), node('B', ['A']), node('C', ['B']), node('D', ['C']), node('E', ['C', 'B'])];

  it('auth chain: everything reachable through auth_events, not the event itself', () => {
    const g = new AuthGraph(lookupOf(events));
    assert.deepEqual(g.authChain('D'), new Set(['C', 'B', 'A']));
    assert.deepEqual(g.authChain('A'), new Set());
    assert.deepEqual(g.authChain('E'), new Set(['C', 'B', 'A']));
  });

  it('auth chain: uses a given AuthChainLookup when it knows the event', () => {
    const g = new AuthGraph(lookupOf(events), { getAuthChain: (id) => (id === 'D' ? ['X'] : undefined) });
    assert.deepEqual(g.authChain('D'), new Set(['X']));
    assert.deepEqual(g.authChain('C'), new Set(['B', 'A']));
  });

  it('auth difference: ∪ C_i − ∩ C_i (Synapse AuthChainDifferenceTestCase shapes)', () => {
    const g = new AuthGraph(lookupOf(events));
    const s = (...ids: string[]) => new Map(ids.map((id) => [id, id]));
    assert.deepEqual(g.authDifference([s('A', 'B'), s('C')]), new Set(['C']));
    assert.deepEqual(g.authDifference([s('A', 'B'), s('C', 'D')]), new Set(['C', 'D']));
    assert.deepEqual(g.authDifference([s('A', 'B', 'E'), s('C', 'D')]), new Set(['D', 'E']));
    assert.deepEqual(g.authDifference([s('D'), s('D')]), new Set());
  });

  it('conflicted state subgraph: events on auth paths between conflicted events, endpoints included', () => {
    const g = new AuthGraph(lookupOf(events));
    assert.deepEqual(g.conflictedSubgraph(new Set(['D', 'A'])), new Set(['D', 'C', 'B', 'A']));
    assert.deepEqual(g.conflictedSubgraph(new Set(['E', 'B'])), new Set(['E', 'C', 'B']));
    // No path between D and E: only the endpoints.
    assert.deepEqual(g.conflictedSubgraph(new Set(['D', 'E'])), new Set(['D', 'E']));
  });

  it('conflicted state subgraph of a power levels reset', () => {
    const v = getRoomVersion('12')!;
    const graph = buildGraph(
      v,
      [
        powerLevels('PL2', ALICE, { users: { [CHARLIE]: 50 } }),
        member('MC2', CHARLIE, CHARLIE, 'join', { displayname: 'Charlie' }),
        powerLevels('PL3', CHARLIE, { users: { [CHARLIE]: 50 } }),
      ],
      [['PL3', 'MC2', 'PL2', 'START']],
    );
    const g = new AuthGraph({ getEvent: (id) => graph.events.get(id) });
    const sub = g.conflictedSubgraph(new Set([eventId('IPOWER'), eventId('PL3')]));
    assert.deepEqual(sub, new Set(['IPOWER', 'PL3', 'PL2', 'MC2', 'IMC', 'IJR'].map(eventId)));
  });
});

describe('createEventFor', () => {
  it('v12: the create event is named by the room id', () => {
    const v = getRoomVersion('12')!;
    const graph = buildGraph(v, [topic('T1', ALICE)], [['T1', 'START']]);
    const lookup = { getEvent: (id: string) => graph.events.get(id) };
    const t1 = graph.events.get(eventId('T1'))!;
    assert.equal(createEventFor(v, t1, lookup)?.event_id, eventId('CREATE'));
    const create = graph.events.get(eventId('CREATE'))!;
    assert.equal(createEventFor(v, create, lookup), create);
  });

  it('v1–11: the create event among the auth events', () => {
    const v = getRoomVersion('11')!;
    const graph = buildGraph(v, [topic('T1', ALICE)], [['T1', 'START']]);
    const t1 = graph.events.get(eventId('T1'))!;
    assert.equal(createEventFor(v, t1, { getEvent: (id) => graph.events.get(id) })?.event_id, eventId('CREATE'));
    assert.equal(createEventFor(v, { ...t1, auth_events: [] }, { getEvent: (id) => graph.events.get(id) }), undefined);
    assert.equal(graph.keyOf('T1'), stateMapKey('m.room.topic', ''));
  });
});
