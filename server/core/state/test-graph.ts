/**
 * Test fixtures for state resolution: small named room DAGs described as data, in the manner of
 * Synapse's tests/state/test_v2.py. Events are walked in topological order (ties by node id);
 * the state before each event is the resolution of its prev events' states, and its auth events
 * are selected from that state. Used by the *.test.ts files next to it only.
 */
import type { RoomVersion } from '../room-versions.ts';
import { stateMapKey, type JsonObject, type StoredPdu } from '../events/types.ts';
import { authEventKeys } from '../auth/auth-events.ts';
import { resolveState, type ResolveOptions } from './resolve.ts';
import { compareCodePoints, lexicographicalTopologicalSort } from './sort.ts';

export const ALICE = '@alice:example.com';
export const BOB = '@bob:example.com';
export const CHARLIE = '@charlie:example.com';
export const EVELYN = '@evelyn:example.com';
export const ZARA = '@zara:example.com';

export interface FakeEvent {
  id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
}

export const eventId = (node: string): string => `$${node}:example.com`;
/** v12 names the room after its create event; older versions use a server-scoped id. */
export const roomIdFor = (version: RoomVersion): string =>
  version.roomIdFromCreateEvent ? `!CREATE:example.com` : '!test:example.com';

export const member = (id: string, sender: string, target: string, membership: string, extra: JsonObject = {}): FakeEvent => ({
  id,
  sender,
  type: 'm.room.member',
  state_key: target,
  content: { membership, ...extra },
});
export const powerLevels = (id: string, sender: string, content: JsonObject): FakeEvent => ({
  id,
  sender,
  type: 'm.room.power_levels',
  state_key: '',
  content,
});
export const topic = (id: string, sender: string): FakeEvent => ({
  id,
  sender,
  type: 'm.room.topic',
  state_key: '',
  content: { topic: id },
});
export const joinRules = (id: string, sender: string, rule: string): FakeEvent => ({
  id,
  sender,
  type: 'm.room.join_rules',
  state_key: '',
  content: { join_rule: rule },
});
export const message = (id: string, sender: string): FakeEvent => ({ id, sender, type: 'm.room.message', content: {} });

/** All graphs start with these events (Synapse's INITIAL_EVENTS), chained by INITIAL_EDGES. */
export function initialEvents(version: RoomVersion): FakeEvent[] {
  const create: JsonObject = { room_version: version.id };
  if (!version.implicitRoomCreator) create.creator = ALICE;
  return [
    { id: 'CREATE', sender: ALICE, type: 'm.room.create', state_key: '', content: create },
    member('IMA', ALICE, ALICE, 'join'),
    powerLevels('IPOWER', ALICE, { users: { [ALICE]: 100 } }),
    joinRules('IJR', ALICE, 'public'),
    member('IMB', BOB, BOB, 'join'),
    member('IMC', CHARLIE, CHARLIE, 'join'),
    member('IMZ', ZARA, ZARA, 'join'),
    message('START', ZARA),
    message('END', ZARA),
  ];
}
export const INITIAL_EDGES = ['START', 'IMZ', 'IMC', 'IMB', 'IJR', 'IPOWER', 'IMA', 'CREATE'];

/** v12 creators have infinite power and must not appear in `users`: drop them. */
function adaptContent(version: RoomVersion, e: FakeEvent): JsonObject {
  if (!version.privilegedCreators || e.type !== 'm.room.power_levels') return e.content;
  const users = e.content.users;
  if (typeof users !== 'object' || users === null || Array.isArray(users)) return e.content;
  const rest = { ...users };
  delete rest[ALICE];
  return { ...e.content, users: rest };
}

export interface Graph {
  events: Map<string, StoredPdu>;
  /** State after each node (node id → state map). */
  stateAfter: Map<string, Map<string, string>>;
  /** The state key of a node's event. */
  keyOf(node: string): string;
}

/**
 * Builds INITIAL_EVENTS plus `events` with `edges` (chains [A, B, C] meaning A's prev event is B,
 * B's is C). origin_server_ts increases in walk order, depth is 1 + the deepest prev event.
 */
export function buildGraph(
  version: RoomVersion,
  events: FakeEvent[],
  edges: string[][],
  options: { initial?: boolean; resolveOptions?: ResolveOptions } = {},
): Graph {
  const all = [...(options.initial === false ? [] : initialEvents(version)), ...events];
  const byNode = new Map(all.map((e) => [e.id, e]));
  const prevs = new Map<string, Set<string>>(all.map((e) => [e.id, new Set<string>()]));
  const chains = options.initial === false ? edges : [INITIAL_EDGES, ...edges];
  for (const chain of chains) {
    for (let i = 0; i + 1 < chain.length; i++) prevs.get(chain[i]!)!.add(chain[i + 1]!);
  }
  const order = lexicographicalTopologicalSort(byNode.keys(), (n) => prevs.get(n)!, compareCodePoints);
  const stored = new Map<string, StoredPdu>();
  const stateAfter = new Map<string, Map<string, string>>();
  const roomId = roomIdFor(version);
  let ts = 0;
  for (const node of order) {
    const fake = byNode.get(node)!;
    const prevNodes = [...prevs.get(node)!];
    let before: Map<string, string>;
    if (prevNodes.length === 0) before = new Map();
    else if (prevNodes.length === 1) before = new Map(stateAfter.get(prevNodes[0]!)!);
    else {
      before = resolveState(
        version,
        prevNodes.map((p) => stateAfter.get(p)!),
        stored,
        undefined,
        options.resolveOptions,
      );
    }
    const authEvents: string[] = [];
    for (const [type, stateKey] of authEventKeys(version, fake)) {
      const id = before.get(stateMapKey(type, stateKey));
      if (id !== undefined) authEvents.push(id);
    }
    const pdu: StoredPdu = {
      event_id: eventId(node),
      sender: fake.sender,
      origin_server_ts: ts++,
      type: fake.type,
      content: adaptContent(version, fake),
      prev_events: prevNodes.map(eventId),
      auth_events: authEvents,
      depth: 1 + Math.max(0, ...prevNodes.map((p) => stored.get(eventId(p))!.depth)),
      hashes: { sha256: '' },
      signatures: {},
    };
    if (!(version.roomIdFromCreateEvent && fake.type === 'm.room.create')) pdu.room_id = roomId;
    if (fake.state_key !== undefined) pdu.state_key = fake.state_key;
    stored.set(pdu.event_id, pdu);
    const after = new Map(before);
    if (fake.state_key !== undefined) after.set(stateMapKey(fake.type, fake.state_key), pdu.event_id);
    stateAfter.set(node, after);
  }
  return {
    events: stored,
    stateAfter,
    keyOf: (node) => {
      const e = stored.get(eventId(node))!;
      return stateMapKey(e.type, e.state_key!);
    },
  };
}

/**
 * Synapse's do_check: the state at END restricted to the keys of `expected` and the keys whose
 * value changed since START, as node ids.
 */
export function endStateDiff(graph: Graph, expected: string[]): { actual: Map<string, string>; wanted: Map<string, string> } {
  const wanted = new Map(expected.map((n) => [graph.keyOf(n), eventId(n)]));
  const start = graph.stateAfter.get('START')!;
  const end = graph.stateAfter.get('END')!;
  const actual = new Map<string, string>();
  for (const [key, id] of end) if (wanted.has(key) || start.get(key) !== id) actual.set(key, id);
  return { actual, wanted };
}

/** mulberry32: a tiny seeded PRNG so property tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
