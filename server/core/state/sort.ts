/**
 * The orderings of state resolution v2 (rooms/v2 "Definitions"): the reverse topological power
 * ordering (Kahn's algorithm, smallest candidate first) and the mainline ordering.
 */
import type { RoomVersion } from '../room-versions.ts';
import { referencedEventIds, type StoredPdu } from '../events/types.ts';
import { readPowerLevels, userPowerLevel } from '../auth/power-levels.ts';
import { createEventFor, type AuthGraph, type EventLookup } from './auth-chain.ts';

/** Compares strings by Unicode code point (not UTF-16 unit), as other servers compare event ids. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (a.codePointAt(i) ?? x) < (b.codePointAt(i) ?? y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** A binary min-heap over a comparison function. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.compare(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.compare(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Kahn's algorithm picking the smallest available node at each step: the lexicographically
 * smallest topological ordering, earliest first. `predecessors(n)` are the nodes that must come
 * before n (its auth events); those outside `nodes` are ignored. Throws on a cycle.
 */
export function lexicographicalTopologicalSort(
  nodes: Iterable<string>,
  predecessors: (node: string) => Iterable<string>,
  compare: (a: string, b: string) => number,
): string[] {
  const all = new Set(nodes);
  const remaining = new Map<string, number>();
  const successors = new Map<string, string[]>();
  for (const n of all) {
    const preds = new Set<string>();
    for (const p of predecessors(n)) if (all.has(p) && p !== n) preds.add(p);
    remaining.set(n, preds.size);
    for (const p of preds) {
      const s = successors.get(p);
      if (s) s.push(n);
      else successors.set(p, [n]);
    }
  }
  const heap = new MinHeap<string>(compare);
  for (const [n, count] of remaining) if (count === 0) heap.push(n);
  const out: string[] = [];
  while (heap.size > 0) {
    const n = heap.pop()!;
    out.push(n);
    for (const s of successors.get(n) ?? []) {
      const left = remaining.get(s)! - 1;
      remaining.set(s, left);
      if (left === 0) heap.push(s);
    }
  }
  if (out.length !== all.size) throw new Error('state resolution: cycle in the auth event graph');
  return out;
}

/**
 * The power level of `event`'s sender "when looking at their auth_events": the power levels
 * event among its auth events (or, without one, the creator default); v12 creators are infinite,
 * their create event being named by the room id.
 */
export function senderPowerLevel(version: RoomVersion, event: StoredPdu, lookup: EventLookup): number {
  let powerLevels: StoredPdu | undefined;
  for (const id of referencedEventIds(event.auth_events)) {
    const a = lookup.getEvent(id);
    if (a && a.type === 'm.room.power_levels' && a.state_key === '') powerLevels = a;
  }
  const create = createEventFor(version, event, lookup);
  return userPowerLevel(readPowerLevels(version, create, powerLevels), event.sender);
}

/**
 * Definition "Reverse topological power ordering" of `eventIds`: the DAG formed by auth events
 * (an event comes after every event of the set in its auth chain), ties broken by x < y if
 * (1) x's sender has the greater power level, (2) x's origin_server_ts is less, (3) x's event_id
 * is less.
 */
export function reverseTopologicalPowerSort(
  version: RoomVersion,
  eventIds: Iterable<string>,
  graph: AuthGraph,
): string[] {
  const ids = [...eventIds];
  const key = new Map<string, { power: number; ts: number }>();
  for (const id of ids) {
    const event = graph.lookup.getEvent(id);
    if (!event) throw new Error(`state resolution: unknown event ${id}`);
    key.set(id, { power: senderPowerLevel(version, event, graph.lookup), ts: event.origin_server_ts });
  }
  return lexicographicalTopologicalSort(
    ids,
    // The whole auth chain rather than direct auth events, so ordering through events outside
    // the set still holds (the same ordering when every intermediate event is in the set).
    (id) => graph.authChain(id),
    (a, b) => {
      const ka = key.get(a)!;
      const kb = key.get(b)!;
      if (ka.power !== kb.power) return ka.power > kb.power ? -1 : 1;
      if (ka.ts !== kb.ts) return ka.ts < kb.ts ? -1 : 1;
      return compareCodePoints(a, b);
    },
  );
}

function powerLevelsAuthEvent(event: StoredPdu, lookup: EventLookup): StoredPdu | undefined {
  for (const id of referencedEventIds(event.auth_events)) {
    const a = lookup.getEvent(id);
    if (a && a.type === 'm.room.power_levels' && a.state_key === '') return a;
  }
  return undefined;
}

/**
 * Definition "Mainline ordering": P0 = `powerLevelsId`, P(i+1) = the power levels event in the
 * auth events of Pi. An event e's mainline position is the i of the first e_j (j ≥ 1, following
 * power levels auth events from e) that is on the mainline, else ∞. Events are ordered by
 * (1) greater mainline position first, (2) smaller origin_server_ts, (3) smaller event_id.
 */
export function mainlineSort(
  eventIds: Iterable<string>,
  powerLevelsId: string | undefined,
  lookup: EventLookup,
): string[] {
  const mainline = new Map<string, number>();
  let p = powerLevelsId === undefined ? undefined : lookup.getEvent(powerLevelsId);
  for (let i = 0; p && !mainline.has(p.event_id); i++) {
    mainline.set(p.event_id, i);
    p = powerLevelsAuthEvent(p, lookup);
  }
  const key = new Map<string, { position: number; ts: number }>();
  const ids = [...eventIds];
  for (const id of ids) {
    const event = lookup.getEvent(id);
    if (!event) throw new Error(`state resolution: unknown event ${id}`);
    let position = Infinity;
    const seen = new Set<string>();
    for (let e = powerLevelsAuthEvent(event, lookup); e && !seen.has(e.event_id); e = powerLevelsAuthEvent(e, lookup)) {
      seen.add(e.event_id);
      const i = mainline.get(e.event_id);
      if (i !== undefined) {
        position = i;
        break;
      }
    }
    key.set(id, { position, ts: event.origin_server_ts });
  }
  return ids.sort((a, b) => {
    const ka = key.get(a)!;
    const kb = key.get(b)!;
    if (ka.position !== kb.position) return ka.position > kb.position ? -1 : 1;
    if (ka.ts !== kb.ts) return ka.ts < kb.ts ? -1 : 1;
    return compareCodePoints(a, b);
  });
}
