/**
 * Storage of the full-text index behind server-side search (spec: client-server search.yaml,
 * modules/search.md): one entry per searchable (event, key). The service decides what is indexed
 * and filters hits by visibility; the store matches, ranks and pages. Implemented by
 * sqljs/search.ts (SQLite FTS4, migrations 0008-search.sqlite.sql and
 * 0020-search-by-position.sqlite.sql).
 */

/** The keys the spec lets clients search. */
export type SearchKey = 'content.body' | 'content.name' | 'content.topic';
export const SEARCH_KEYS: readonly SearchKey[] = ['content.body', 'content.name', 'content.topic'];

/** One (event, key) to index. Room, sender and the rest are the stored event's: a store reads
 * them from its events by position rather than keeping a copy. */
export interface SearchEntry {
  key: SearchKey;
  /** The event's stream position (timeline order). */
  position: number;
  /** The text to index. */
  value: string;
}

/**
 * A parsed query, dialect-neutral. Each entry of `must` is a phrase: its words must appear in
 * this order (a one-word phrase is a word). The last word of every phrase matches as a prefix
 * ("mart" finds "martians"), as Synapse does. Words are letters and digits only.
 */
export interface SearchTerms {
  must: string[][];
  mustNot: string[][];
}

/** Where a page ends: the next page holds hits strictly after it in the requested order. */
export interface SearchCursor {
  /** Rank of the last hit (ignored when ordering by recency). */
  rank: number;
  position: number;
}

export interface SearchQuery {
  terms: SearchTerms;
  /** Only hits in these rooms (empty: none). */
  roomIds: readonly string[];
  keys: readonly SearchKey[];
  /** Only hits sent by these users (absent: any sender). */
  senders?: readonly string[];
  order: 'rank' | 'recent';
  after?: SearchCursor;
  limit: number;
}

export interface SearchHit {
  eventId: string;
  roomId: string;
  key: SearchKey;
  sender: string;
  position: number;
  /** Higher is closer; comparable only within one query. */
  rank: number;
  value: string;
}

export interface SearchPage {
  /** In the requested order (rank: rank descending, then newest first; recent: newest first). */
  hits: SearchHit[];
  /** Approximate number of hits of the whole query (all pages, before visibility filtering). */
  count: number;
  /** False when no hits follow this page. */
  more: boolean;
}

export interface SearchStore {
  /** Adds entries; an (event, key) already indexed is replaced. */
  index(entries: readonly SearchEntry[]): Promise<void>;
  /** Removes every entry of an event (redaction). */
  removeEvent(eventId: string): Promise<void>;
  search(query: SearchQuery): SearchPage;
}
