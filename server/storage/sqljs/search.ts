/**
 * sql.js implementation of SearchStore (storage/search.ts) over SQLite FTS4 (migrations
 * 0008-search.sqlite.sql, 0020-search-by-position.sqlite.sql). The FTS4 table `event_search`
 * holds only the text, under a docid that names the event by stream position and the key
 * (searchDocid): room, sender and event id come from `events`, joined on stream_pos, so the
 * index keeps no copy of them. FTS4 has no ranking function, so rank is Okapi BM25 computed here
 * from matchinfo('pcnalx'). Rank order must see every hit to sort them, so it considers at most
 * the RANK_WINDOW newest matches; recency order pages in SQL.
 */
import type { Database, SqlParam, SqlRow, SqlWriter } from '../storage.ts';
import type { SearchCursor, SearchEntry, SearchHit, SearchKey, SearchPage, SearchQuery, SearchStore, SearchTerms } from '../search.ts';

/** Newest matches ranked by relevance; older ones are only reachable with order_by recent. */
export const RANK_WINDOW = 5000;

// BM25 parameters (the usual defaults).
const K1 = 1.2;
const B = 0.75;

// ---- docids ---------------------------------------------------------------------------------
// docid = stream position * KEY_SLOTS + key code. Stream positions are unique in `events` (and
// negative for backfilled history), so a docid names one (event, key). The position is
// `docid >> KEY_BITS` (an arithmetic shift, so negative docids floor too), the code the low bits.
// Migration 0020-search-by-position.sqlite.sql writes the same codes.

const KEY_BITS = 2;
const KEY_SLOTS = 1 << KEY_BITS;
const DOCID_POSITION_SQL = `event_search.docid >> ${KEY_BITS}`;
const DOCID_KEY_CODE_SQL = `(event_search.docid & ${KEY_SLOTS - 1})`;
const KEY_CODE: Readonly<Record<SearchKey, number>> = { 'content.body': 0, 'content.name': 1, 'content.topic': 2 };
const KEY_BY_CODE = new Map(Object.entries(KEY_CODE).map(([key, code]) => [code, key as SearchKey]));
/** One row per key code, column `code`: joined with events, every docid an event may have. */
const KEY_CODES_SQL = Object.values(KEY_CODE).map((code) => `SELECT ${code} AS code`).join(' UNION ALL ');

function searchDocid(position: number, key: SearchKey): number {
  return position * KEY_SLOTS + KEY_CODE[key];
}

/**
 * Deletes the index rows of the events `eventCondition` selects (SQL over the table `events`,
 * unaliased; `params` bind its placeholders). The docids are found through those events, so
 * this runs before their `events` rows are deleted.
 */
export function deleteSearchEntriesOf(w: SqlWriter, eventCondition: string, params: SqlParam[]): void {
  w.run(
    `DELETE FROM event_search WHERE docid IN (SELECT events.stream_pos * ${KEY_SLOTS} + k.code FROM events CROSS JOIN (${KEY_CODES_SQL}) k WHERE ${eventCondition})`,
    params,
  );
}

/** FTS4 (enhanced query syntax) MATCH expression; null when nothing must match. */
export function ftsMatchExpression(terms: SearchTerms): string | null {
  const clean = (phrase: string[]): string[] => phrase.map((w) => w.replace(/["*]/g, '').trim()).filter((w) => w.length > 0);
  const must = terms.must.map(clean).filter((p) => p.length > 0);
  if (must.length === 0) return null;
  const parts = must.map((p) => `"${p.join(' ')}*"`);
  for (const p of terms.mustNot.map(clean).filter((x) => x.length > 0)) parts.push(`NOT "${p.join(' ')}"`);
  return parts.join(' ');
}

/** Okapi BM25 of one row from matchinfo(…, 'pcnalx') over a single-column FTS table. */
export function bm25(matchinfo: Uint8Array): number {
  if (matchinfo.byteLength < 20) return 0;
  const view = new DataView(matchinfo.buffer, matchinfo.byteOffset, matchinfo.byteLength);
  const int = (i: number): number => view.getUint32(i * 4, true);
  const phrases = int(0);
  const columns = int(1);
  const rows = int(2);
  const avgLength = Math.max(int(3), 1);
  const length = int(3 + columns);
  const xBase = 3 + 2 * columns;
  let score = 0;
  for (let p = 0; p < phrases; p++) {
    const i = xBase + 3 * p * columns;
    if ((i + 2) * 4 >= matchinfo.byteLength) break;
    const tf = int(i);
    const docsWithHits = int(i + 2);
    if (tf === 0) continue;
    // The "+1" variant keeps idf positive for words found in most rows.
    const idf = Math.log(1 + (rows - docsWithHits + 0.5) / (docsWithHits + 0.5));
    score += (idf * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * length) / avgLength));
  }
  return score;
}

function toHit(row: SqlRow): SearchHit {
  const mi = row.mi;
  return {
    eventId: String(row.event_id),
    roomId: String(row.room_id),
    key: KEY_BY_CODE.get(Number(row.key_code))!,
    sender: String(row.sender),
    position: Number(row.stream_pos),
    rank: mi instanceof Uint8Array ? bm25(mi) : 0,
    value: String(row.value),
  };
}

/** rank order: rank descending, then newest first. */
function rankBefore(a: { rank: number; position: number }, b: { rank: number; position: number }): boolean {
  return a.rank > b.rank || (a.rank === b.rank && a.position > b.position);
}

function afterCursor(hit: SearchHit, cursor: SearchCursor): boolean {
  return rankBefore(cursor, hit);
}

export function createSqlJsSearch(db: Database): SearchStore {
  return {
    async index(entries: readonly SearchEntry[]) {
      // The last entry for a docid wins; ascending docids let FTS4 gather the batch's terms
      // into one segment (a smaller docid than the previous one, as backfilled history has,
      // writes out a segment first).
      const byDocid = new Map(entries.map((e) => [searchDocid(e.position, e.key), e.value]));
      if (byDocid.size === 0) return;
      const rows = [...byDocid].sort(([a], [b]) => a - b);
      await db.write((w) => {
        for (const [docid, value] of rows) w.run('INSERT OR REPLACE INTO event_search (docid, value) VALUES (?, ?)', [docid, value]);
      });
    },

    async removeEvent(eventId: string) {
      await db.write((w) => deleteSearchEntriesOf(w, 'events.event_id = ?', [eventId]));
    },

    search(q: SearchQuery): SearchPage {
      const match = ftsMatchExpression(q.terms);
      if (match === null || q.roomIds.length === 0 || q.keys.length === 0 || q.limit <= 0 || q.senders?.length === 0) {
        return { hits: [], count: 0, more: false };
      }
      const list = (values: readonly unknown[]): string => values.map(() => '?').join(',');
      const where = ['event_search MATCH ?', `+e.room_id IN (${list(q.roomIds)})`, `${DOCID_KEY_CODE_SQL} IN (${list(q.keys)})`];
      const params: SqlParam[] = [match, ...q.roomIds, ...q.keys.map((k) => KEY_CODE[k])];
      if (q.senders) {
        where.push(`e.sender IN (${list(q.senders)})`);
        params.push(...q.senders);
      }
      // CROSS JOIN keeps the FTS4 table outside: MATCH runs once, each hit finds its event by
      // the unique stream_pos index, and docid order (the timeline's) needs no sort. With
      // `events` outside, SQLite would rerun the MATCH for every event of the rooms. The unary
      // + keeps the room list a check on that row: as an index term (events_room_pos) it would
      // cost one probe per room for every hit.
      const from = `FROM event_search CROSS JOIN events e ON e.stream_pos = ${DOCID_POSITION_SQL} WHERE ${where.join(' AND ')}`;
      const columns =
        `e.event_id, e.room_id, ${DOCID_KEY_CODE_SQL} AS key_code, e.sender, e.stream_pos, event_search.value AS value, matchinfo(event_search, 'pcnalx') AS mi`;

      if (q.order === 'recent') {
        return db.read((r) => {
          const count = Number(r.get(`SELECT COUNT(*) AS n ${from}`, params)?.n ?? 0);
          // Every docid of the cursor's event and later ones is at least its position * KEY_SLOTS.
          const pageWhere = q.after ? ' AND event_search.docid < ?' : '';
          const pageParams = q.after ? [...params, q.after.position * KEY_SLOTS, q.limit + 1] : [...params, q.limit + 1];
          const rows = r.all(`SELECT ${columns} ${from}${pageWhere} ORDER BY event_search.docid DESC LIMIT ?`, pageParams);
          const hits = rows.map(toHit);
          return { hits: hits.slice(0, q.limit), count, more: hits.length > q.limit };
        });
      }

      const all = db
        .read((r) => r.all(`SELECT ${columns} ${from} ORDER BY event_search.docid DESC LIMIT ?`, [...params, RANK_WINDOW]))
        .map(toHit);
      all.sort((a, b) => (rankBefore(a, b) ? -1 : rankBefore(b, a) ? 1 : 0));
      const rest = q.after ? all.filter((h) => afterCursor(h, q.after!)) : all;
      return { hits: rest.slice(0, q.limit), count: all.length, more: rest.length > q.limit };
    },
  };
}
