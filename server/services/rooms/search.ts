/**
 * Server-side search (spec: client-server search.yaml, modules/search.md), category
 * `room_events`. Indexing: every durable event (bus `eventPersisted`) whose searchable key is
 * plain text goes into the index (content.body of m.room.message, content.name of m.room.name,
 * content.topic and the text/plain m.topic of m.room.topic), and backfilled history as the
 * federation backfill stores it; m.room.encrypted events carry no
 * plaintext and are never indexed; a redaction removes its target. Querying:
 *  1. Rooms: every room the user has a (non-forgotten) membership in, narrowed by the filter's
 *     rooms/not_rooms and by a group's next_batch token.
 *  2. The store matches and orders (rank or recent) a page of hits; each hit is kept only if its
 *     event still exists, is not redacted, passes the filter (types, senders, contains_url, with
 *     wildcards as in event-filter.ts) and history visibility lets the user see it *at that
 *     event* (visibility.ts), so left rooms show only what the user could see while in them.
 *  3. Pages repeat until `limit` results are kept; next_batch is the cursor after the last hit
 *     consumed (so hidden hits are not rescanned).
 *  4. Results are formatted as client events, with context, historic profiles, room state and
 *     groups when asked.
 */
import { stateMapKey, type StoredPdu } from '../../core/events/types.ts';
import { MatrixError } from '../../errors.ts';
import { errorText } from '../../error-text.ts';
import type { EventRecord, RoomsStore } from '../../storage/rooms.ts';
import { SEARCH_KEYS, type SearchCursor, type SearchEntry, type SearchKey, type SearchStore, type SearchTerms } from '../../storage/search.ts';
import type { BusEvents } from '../bus.ts';
import { formatPaginationToken } from '../sync/tokens.ts';
import { matchesFilter } from './event-filter.ts';
import type { ClientEvent, Viewer } from './reader.ts';
import { VisibilityChecker } from './visibility.ts';

export type GroupKey = 'room_id' | 'sender';

/** The request's RoomEventFilter, as far as search uses it. */
export interface SearchFilter {
  limit?: number;
  rooms?: string[];
  not_rooms?: string[];
  senders?: string[];
  not_senders?: string[];
  types?: string[];
  not_types?: string[];
  contains_url?: boolean;
}

export interface RoomEventsCriteria {
  search_term: string;
  keys?: SearchKey[];
  filter?: SearchFilter;
  order_by?: 'rank' | 'recent';
  event_context?: { before_limit?: number; after_limit?: number; include_profile?: boolean };
  include_state?: boolean;
  groupings?: { group_by?: { key: GroupKey }[] };
}

export interface SearchResult {
  rank: number;
  result: ClientEvent;
  context?: {
    start: string;
    end: string;
    events_before: ClientEvent[];
    events_after: ClientEvent[];
    profile_info?: Record<string, { displayname?: string; avatar_url?: string }>;
  };
}

export interface RoomEventsResults {
  count: number;
  highlights: string[];
  results: SearchResult[];
  next_batch?: string;
  groups?: Partial<Record<GroupKey, Record<string, { results: string[]; order: number; next_batch?: string }>>>;
  state?: Record<string, ClientEvent[]>;
}

export interface SearchServiceDeps {
  index: SearchStore;
  rooms: RoomsStore;
  /** Client-format records for the viewer, in order (rooms' ClientEventFormatter.format). */
  formatEvents: (records: readonly EventRecord[], viewer: Viewer) => ClientEvent[];
  /** Users the viewer ignores; their events are left out. */
  ignoredUsers?: (userId: string) => ReadonlySet<string>;
  log?: (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 100;
export const DEFAULT_CONTEXT_LIMIT = 5;
export const MAX_CONTEXT_LIMIT = 100;
/** Store pages scanned per request before answering with next_batch anyway (bounds the work
 * when most hits are hidden from the user). */
const MAX_PAGES = 20;

// ---- pure parts ---------------------------------------------------------------------------

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Parses a search term: words (letters and digits; everything else separates them),
 * "quoted phrases", and -word / -"phrase" to exclude. Every non-excluded part must match.
 */
export function parseSearchTerm(term: string): SearchTerms {
  const must: string[][] = [];
  const mustNot: string[][] = [];
  const re = /(-?)"([^"]*)"?|(-?)([^\s"]+)/g;
  for (let m = re.exec(term); m !== null; m = re.exec(term)) {
    const negated = (m[1] ?? m[3]) === '-';
    const text = m[2] ?? m[4] ?? '';
    const words = text.match(WORD) ?? [];
    if (words.length === 0) continue;
    if (m[2] !== undefined) {
      (negated ? mustNot : must).push(words);
    } else if (negated) {
      mustNot.push(words);
    } else {
      // foo-bar or foo.bar is one phrase of several words, as the tokenizer sees it.
      must.push(words);
    }
  }
  return { must, mustNot };
}

/** Lowercased, diacritics removed: the way the unicode61 tokenizer compares words. */
function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Words of the matched texts that the query matched (prefix match), plus the query's words. */
export function highlightsFor(terms: SearchTerms, texts: readonly string[]): string[] {
  const wanted = terms.must.flat().map(fold);
  const out = new Set(terms.must.flat().map((w) => w.toLowerCase()));
  for (const text of texts) {
    for (const w of text.match(WORD) ?? []) {
      const f = fold(w);
      if (wanted.some((t) => f.startsWith(t))) out.add(w);
    }
  }
  return [...out].sort();
}

/** What of an event is searchable, under which key (nothing for other or encrypted events). */
export function searchableText(pdu: Pick<StoredPdu, 'type' | 'state_key' | 'content'>): { key: SearchKey; value: string } | undefined {
  const c = pdu.content;
  switch (pdu.type) {
    case 'm.room.message':
      return typeof c.body === 'string' && c.body.length > 0 ? { key: 'content.body', value: c.body } : undefined;
    case 'm.room.name':
      return pdu.state_key === '' && typeof c.name === 'string' && c.name.length > 0 ? { key: 'content.name', value: c.name } : undefined;
    case 'm.room.topic': {
      if (pdu.state_key !== '') return undefined;
      const parts = new Set<string>();
      if (typeof c.topic === 'string' && c.topic.length > 0) parts.add(c.topic);
      const block = c['m.topic'];
      const texts = block && typeof block === 'object' && !Array.isArray(block) ? (block as Record<string, unknown>)['m.text'] : undefined;
      if (Array.isArray(texts)) {
        for (const t of texts) {
          if (!t || typeof t !== 'object') continue;
          const { mimetype, body } = t as Record<string, unknown>;
          if ((mimetype === undefined || mimetype === 'text/plain') && typeof body === 'string' && body.length > 0) parts.add(body);
        }
      }
      return parts.size > 0 ? { key: 'content.topic', value: [...parts].join('\n') } : undefined;
    }
    default:
      return undefined;
  }
}

interface BatchToken {
  order: 'rank' | 'recent';
  cursor: SearchCursor;
  group?: { key: GroupKey; value: string };
}

export function formatBatchToken(t: BatchToken): string {
  const raw: Record<string, unknown> = { o: t.order, r: t.cursor.rank, p: t.cursor.position };
  if (t.group) raw.g = [t.group.key, t.group.value];
  return Buffer.from(JSON.stringify(raw)).toString('base64url');
}

export function parseBatchToken(s: string): BatchToken {
  const bad = (): MatrixError => new MatrixError(400, 'M_INVALID_PARAM', 'Invalid next_batch token');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!raw || typeof raw !== 'object') throw bad();
  const { o, r, p, g } = raw as Record<string, unknown>;
  if ((o !== 'rank' && o !== 'recent') || typeof r !== 'number' || !Number.isFinite(r) || !Number.isSafeInteger(p)) throw bad();
  const token: BatchToken = { order: o, cursor: { rank: r, position: p as number } };
  if (g !== undefined) {
    if (!Array.isArray(g) || g.length !== 2 || (g[0] !== 'room_id' && g[0] !== 'sender') || typeof g[1] !== 'string') throw bad();
    token.group = { key: g[0], value: g[1] };
  }
  return token;
}

// ---- the service --------------------------------------------------------------------------

/** Index work waits this long to join a batch: FTS4 writes a new segment per transaction, so
 * fewer, larger batches cost far less under load. A search flushes first (flushNow). */
const FLUSH_DELAY_MS = 100;
const FLUSH_AT_ENTRIES = 500;

type IndexOp = { add: SearchEntry } | { remove: string };
/** Index work as queued: an add learns its event's position when its batch is written. */
type PendingOp = { add: Omit<SearchEntry, 'position'> & { eventId: string } } | { remove: string };

export class SearchService {
  /** Index work waiting for the next flush, in event order (adds and removals interleaved). */
  private pending: PendingOp[] = [];
  /** The next flush, once scheduled; `startFlush` runs it before its timer. */
  private flushing: Promise<void> | null = null;
  private startFlush: (() => void) | null = null;
  /** The chain of batches being written, in order. */
  private running: Promise<void> | null = null;

  constructor(private readonly deps: SearchServiceDeps) {}

  /**
   * Bus handler: keeps the index in step with durable events. Never throws. Entries are batched
   * into one write every FLUSH_DELAY_MS: FTS inserts are far cheaper in one transaction, and
   * indexing stays off the send path's journal records.
   */
  onEventPersisted(payload: BusEvents['eventPersisted']): Promise<void> {
    this.queue(payload.pdu);
    return this.scheduleFlush();
  }

  /** Backfilled history (durable, never on the bus: it must not wake sync, push or federation),
   * indexed like live events. Never throws. */
  onHistoryBackfilled(pdus: readonly StoredPdu[]): Promise<void> {
    for (const pdu of pdus) this.queue(pdu);
    return this.scheduleFlush();
  }

  /** Adds the event's index work to the next flush. Never throws. */
  private queue(pdu: StoredPdu): void {
    try {
      const op = this.indexOp({ pdu });
      if (op) this.pending.push(op);
    } catch (err) {
      this.deps.log?.('error', 'search indexing failed', { eventId: pdu.event_id, error: errorText(err) });
    }
  }

  /** Indexes everything pending now: a search sees every event that was durable before it. */
  async flushNow(): Promise<void> {
    for (;;) {
      const next = this.flushing ?? this.running;
      if (!next) return;
      this.startFlush?.();
      await next;
    }
  }

  /** Writes what is still pending (shutdown: before the database closes). */
  close(): Promise<void> {
    return this.flushNow();
  }

  private scheduleFlush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_DELAY_MS);
        this.startFlush = () => {
          clearTimeout(timer);
          resolve();
        };
      }).then(() => this.flush());
    } else if (this.pending.length >= FLUSH_AT_ENTRIES) {
      this.startFlush?.();
    }
    return this.flushing;
  }

  private flush(): Promise<void> {
    const ops = this.pending;
    this.pending = [];
    this.flushing = null;
    this.startFlush = null;
    // After the previous batch: a removal must not overtake the add it undoes, and waiting on
    // `running` must cover every batch still being written.
    const run = (this.running ?? Promise.resolve()).then(() => this.write(ops)).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async write(pending: readonly PendingOp[]): Promise<void> {
    // Consecutive adds go in one write; a removal keeps its place between them.
    let adds: SearchEntry[] = [];
    try {
      const ops = this.resolve(pending);
      for (const op of ops) {
        if ('add' in op) {
          adds.push(op.add);
          continue;
        }
        await this.deps.index.index(adds);
        adds = [];
        await this.deps.index.removeEvent(op.remove);
      }
      await this.deps.index.index(adds);
    } catch (err) {
      this.deps.log?.('error', 'search indexing failed', { events: pending.length, error: errorText(err) });
    }
  }

  private indexOp({ pdu }: Pick<BusEvents['eventPersisted'], 'pdu'>): PendingOp | undefined {
    if (pdu.type === 'm.room.redaction') {
      const target = typeof pdu.redacts === 'string' ? pdu.redacts : pdu.content.redacts;
      if (typeof target !== 'string') return undefined;
      // Only a redaction that applied (the rooms service decided) removes the target.
      const rec = this.deps.rooms.getEvent(target);
      return rec && rec.redactedBy !== null ? { remove: target } : undefined;
    }
    const text = searchableText(pdu);
    if (!text) return undefined;
    // The position is read with the rest of the batch when it is written (resolve).
    return { add: { eventId: pdu.event_id, key: text.key, value: text.value } };
  }

  /** The stream position of each event to add, read in one query for the batch; events
   * redacted by then are left out. */
  private resolve(ops: readonly PendingOp[]): IndexOp[] {
    const ids = ops.flatMap((op) => ('add' in op ? [op.add.eventId] : []));
    const recs = ids.length > 0 ? this.deps.rooms.getEvents(ids) : new Map<string, EventRecord>();
    return ops.flatMap((op): IndexOp[] => {
      if (!('add' in op)) return [op];
      const rec = recs.get(op.add.eventId);
      return rec && rec.redactedBy === null ? [{ add: { key: op.add.key, value: op.add.value, position: rec.position } }] : [];
    });
  }

  /** POST /search, category room_events. `nextBatch` is the query parameter, if any. */
  search(viewer: Viewer, criteria: RoomEventsCriteria, nextBatch?: string): RoomEventsResults {
    const { rooms } = this.deps;
    const order = criteria.order_by ?? 'rank';
    const token = nextBatch !== undefined ? parseBatchToken(nextBatch) : undefined;
    if (token && token.order !== order) throw new MatrixError(400, 'M_INVALID_PARAM', 'next_batch belongs to a search with another order_by');
    const filter = criteria.filter ?? {};
    const limit = Math.min(Math.max(filter.limit ?? DEFAULT_SEARCH_LIMIT, 1), MAX_SEARCH_LIMIT);
    const keys = criteria.keys && criteria.keys.length > 0 ? [...new Set(criteria.keys)] : [...SEARCH_KEYS];
    const terms = parseSearchTerm(criteria.search_term);
    const empty: RoomEventsResults = { count: 0, highlights: [], results: [] };
    if (terms.must.length === 0) return empty;

    // Step 1: the rooms.
    let roomIds = rooms
      .roomsOfUser(viewer.userId)
      .filter((m) => !m.forgotten)
      .map((m) => m.roomId);
    if (filter.rooms) {
      const allowed = new Set(filter.rooms);
      roomIds = roomIds.filter((r) => allowed.has(r));
    }
    if (filter.not_rooms) {
      const denied = new Set(filter.not_rooms);
      roomIds = roomIds.filter((r) => !denied.has(r));
    }
    let senders = filter.senders;
    if (token?.group?.key === 'room_id') roomIds = roomIds.filter((r) => r === token.group!.value);
    if (token?.group?.key === 'sender') senders = senders ? senders.filter((s) => s === token.group!.value) : [token.group.value];
    if (roomIds.length === 0) return empty;

    // Steps 2–3: pages of hits, kept when visible.
    const ignored = this.deps.ignoredUsers?.(viewer.userId);
    const checkers = new Map<string, VisibilityChecker>();
    const checker = (roomId: string): VisibilityChecker => {
      let c = checkers.get(roomId);
      if (!c) checkers.set(roomId, (c = new VisibilityChecker(rooms, roomId, viewer.userId)));
      return c;
    };
    const kept: { rec: EventRecord; rank: number; value: string }[] = [];
    const seen = new Set<string>();
    let cursor = token?.cursor;
    let more = true;
    let count = 0;
    for (let page = 0; page < MAX_PAGES && kept.length < limit && more; page++) {
      const res = this.deps.index.search({ terms, roomIds, keys, senders, order, after: cursor, limit: Math.max(limit * 2, 20) });
      if (page === 0) count = res.count;
      more = res.more;
      const recs = rooms.getEvents(res.hits.map((h) => h.eventId));
      let consumed = 0;
      for (const hit of res.hits) {
        if (kept.length >= limit) break;
        consumed++;
        cursor = { rank: hit.rank, position: hit.position };
        const rec = recs.get(hit.eventId);
        if (!rec || seen.has(hit.eventId)) continue;
        seen.add(hit.eventId);
        if (rec.redactedBy !== null) continue;
        if (ignored?.has(rec.pdu.sender)) continue;
        if (!matchesFilter(filter, rec.pdu)) continue;
        if (!checker(rec.roomId).canSee(rec)) continue;
        kept.push({ rec, rank: hit.rank, value: hit.value });
      }
      if (consumed < res.hits.length) more = true;
    }

    // Step 4: the response.
    const formatted = this.deps.formatEvents(
      kept.map((k) => k.rec),
      viewer,
    );
    const results: SearchResult[] = kept.map((k, i) => ({ rank: k.rank, result: formatted[i]! }));
    if (criteria.event_context) {
      kept.forEach((k, i) => {
        results[i]!.context = this.context(viewer, k.rec, checker(k.rec.roomId), criteria.event_context!, filter, ignored);
      });
    }
    const out: RoomEventsResults = {
      count: Math.max(count, kept.length),
      highlights: highlightsFor(
        terms,
        kept.map((k) => k.value),
      ),
      results,
    };
    const hasMore = more && cursor !== undefined;
    if (hasMore) out.next_batch = formatBatchToken({ order, cursor: cursor!, group: token?.group });

    const groupKeys = [...new Set((criteria.groupings?.group_by ?? []).map((g) => g.key))];
    if (groupKeys.length > 0) {
      out.groups = {};
      for (const key of groupKeys) {
        const groups: Record<string, { results: string[]; order: number; next_batch?: string }> = {};
        let n = 0;
        for (const k of kept) {
          const value = key === 'room_id' ? k.rec.roomId : k.rec.pdu.sender;
          let g = groups[value];
          if (!g) {
            g = groups[value] = { results: [], order: ++n };
            if (hasMore) g.next_batch = formatBatchToken({ order, cursor: cursor!, group: { key, value } });
          }
          g.results.push(k.rec.pdu.event_id);
        }
        out.groups[key] = groups;
      }
    }

    if (criteria.include_state) {
      out.state = {};
      for (const roomId of new Set(kept.map((k) => k.rec.roomId))) out.state[roomId] = this.stateFor(viewer, roomId);
    }
    return out;
  }

  /** Events around a result, as /context would give them, and the senders' profiles then. */
  private context(
    viewer: Viewer,
    rec: EventRecord,
    checker: VisibilityChecker,
    opts: NonNullable<RoomEventsCriteria['event_context']>,
    filter: SearchFilter,
    ignored: ReadonlySet<string> | undefined,
  ): NonNullable<SearchResult['context']> {
    const { rooms } = this.deps;
    const beforeLimit = Math.min(Math.max(opts.before_limit ?? DEFAULT_CONTEXT_LIMIT, 0), MAX_CONTEXT_LIMIT);
    const afterLimit = Math.min(Math.max(opts.after_limit ?? DEFAULT_CONTEXT_LIMIT, 0), MAX_CONTEXT_LIMIT);
    const rawBefore = beforeLimit > 0 ? rooms.eventsBetween(rec.roomId, { dir: 'b', atOrBefore: rec.position - 1, limit: beforeLimit }) : [];
    const rawAfter = afterLimit > 0 ? rooms.eventsBetween(rec.roomId, { dir: 'f', after: rec.position, limit: afterLimit }) : [];
    const keep = (r: EventRecord): boolean => !ignored?.has(r.pdu.sender) && matchesFilter(filter, r.pdu) && checker.canSee(r);
    const before = rawBefore.filter(keep);
    const after = rawAfter.filter(keep);
    const oldest = rawBefore.length > 0 ? rawBefore[rawBefore.length - 1]!.position : rec.position;
    const newest = rawAfter.length > 0 ? rawAfter[rawAfter.length - 1]!.position : rec.position;
    const ctx: NonNullable<SearchResult['context']> = {
      // A pagination token names the gap just after a position; start is the gap before `oldest`.
      start: formatPaginationToken(oldest - 1),
      end: formatPaginationToken(newest),
      events_before: this.deps.formatEvents(before, viewer),
      events_after: this.deps.formatEvents(after, viewer),
    };
    if (opts.include_profile) {
      const state = rooms.stateGroupIds(rec.stateGroup);
      const senders = new Set([rec, ...before, ...after].map((r) => r.pdu.sender));
      const memberIds = [...senders].map((s) => state.get(stateMapKey('m.room.member', s))).filter((id): id is string => id !== undefined);
      const members = rooms.getEvents(memberIds);
      const profiles: Record<string, { displayname?: string; avatar_url?: string }> = {};
      for (const m of members.values()) {
        if (m.redactedBy !== null || typeof m.pdu.state_key !== 'string') continue;
        const p: { displayname?: string; avatar_url?: string } = {};
        if (typeof m.pdu.content.displayname === 'string') p.displayname = m.pdu.content.displayname;
        if (typeof m.pdu.content.avatar_url === 'string') p.avatar_url = m.pdu.content.avatar_url;
        profiles[m.pdu.state_key] = p;
      }
      ctx.profile_info = profiles;
    }
    return ctx;
  }

  /** Room state for include_state: current while joined, else as of the user's last membership. */
  private stateFor(viewer: Viewer, roomId: string): ClientEvent[] {
    const { rooms } = this.deps;
    const member = rooms.member(roomId, viewer.userId);
    let ids: Iterable<string>;
    if (member?.membership === 'join') {
      ids = rooms.currentStateIds(roomId).values();
    } else {
      const group = member ? rooms.stateGroupAt(roomId, member.position) : null;
      if (group === null) return [];
      ids = rooms.stateGroupIds(group).values();
    }
    const recs = rooms.getEvents([...ids]);
    return this.deps.formatEvents([...recs.values()], viewer);
  }
}
