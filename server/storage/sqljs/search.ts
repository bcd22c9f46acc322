/**
 * sql.js implementation of SearchStore (storage/search.ts) over SQLite FTS4 (migration
 * 0008-search.sqlite.sql). The text is in the FTS4 table `event_search` under docid =
 * event_search_meta.id; metadata (room, key, sender, position) in `event_search_meta`.
 * FTS4 has no ranking function, so rank is Okapi BM25 computed here from matchinfo('pcnalx').
 * Rank order must see every hit to sort them, so it considers at most the RANK_WINDOW newest
 * matches; recency order pages in SQL.
 */
import type { Database, SqlParam, SqlRow } from '../storage.ts';
import type { SearchCursor, SearchEntry, SearchHit, SearchKey, SearchPage, SearchQuery, SearchStore, SearchTerms } from '../search.ts';

/** Newest matches ranked by relevance; older ones are only reachable with order_by recent. */
export const RANK_WINDOW = 5000;

// BM25 parameters (the usual defaults).
const K1 = 1.2;
const B = 0.75;

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
    key: String(row.key) as SearchKey,
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
      if (entries.length === 0) return;
      await db.write((w) => {
        // Ids are chosen here (a parameter, so replay is deterministic), once per batch.
        let id = Number(w.get('SELECT COALESCE(MAX(id), 0) AS id FROM event_search_meta')!.id);
        for (const e of entries) {
          const old = w.get('SELECT id FROM event_search_meta WHERE event_id = ? AND key = ?', [e.eventId, e.key]);
          if (old) {
            w.run('DELETE FROM event_search WHERE docid = ?', [Number(old.id)]);
            w.run('DELETE FROM event_search_meta WHERE id = ?', [Number(old.id)]);
          }
          id += 1;
          w.run(
            'INSERT INTO event_search_meta (id, event_id, room_id, key, type, sender, stream_pos, origin_server_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [id, e.eventId, e.roomId, e.key, e.type, e.sender, e.position, e.originServerTs],
          );
          w.run('INSERT INTO event_search (docid, value) VALUES (?, ?)', [id, e.value]);
        }
      });
    },

    async removeEvent(eventId: string) {
      await db.write((w) => {
        w.run('DELETE FROM event_search WHERE docid IN (SELECT id FROM event_search_meta WHERE event_id = ?)', [eventId]);
        w.run('DELETE FROM event_search_meta WHERE event_id = ?', [eventId]);
      });
    },

    async removeRoom(roomId: string) {
      await db.write((w) => {
        w.run('DELETE FROM event_search WHERE docid IN (SELECT id FROM event_search_meta WHERE room_id = ?)', [roomId]);
        w.run('DELETE FROM event_search_meta WHERE room_id = ?', [roomId]);
      });
    },

    search(q: SearchQuery): SearchPage {
      const match = ftsMatchExpression(q.terms);
      if (match === null || q.roomIds.length === 0 || q.keys.length === 0 || q.limit <= 0 || q.senders?.length === 0) {
        return { hits: [], count: 0, more: false };
      }
      const where = ['event_search MATCH ?', `m.room_id IN (${q.roomIds.map(() => '?').join(',')})`, `m.key IN (${q.keys.map(() => '?').join(',')})`];
      const params: SqlParam[] = [match, ...q.roomIds, ...q.keys];
      if (q.senders) {
        where.push(`m.sender IN (${q.senders.map(() => '?').join(',')})`);
        params.push(...q.senders);
      }
      const from =
        'FROM event_search JOIN event_search_meta m ON m.id = event_search.docid WHERE ' + where.join(' AND ');
      const columns = "m.event_id, m.room_id, m.key, m.sender, m.stream_pos, event_search.value AS value, matchinfo(event_search, 'pcnalx') AS mi";

      if (q.order === 'recent') {
        return db.read((r) => {
          const count = Number(r.get(`SELECT COUNT(*) AS n ${from}`, params)?.n ?? 0);
          const pageWhere = q.after ? ' AND m.stream_pos < ?' : '';
          const pageParams = q.after ? [...params, q.after.position, q.limit + 1] : [...params, q.limit + 1];
          const rows = r.all(`SELECT ${columns} ${from}${pageWhere} ORDER BY m.stream_pos DESC LIMIT ?`, pageParams);
          const hits = rows.map(toHit);
          return { hits: hits.slice(0, q.limit), count, more: hits.length > q.limit };
        });
      }

      const all = db
        .read((r) => r.all(`SELECT ${columns} ${from} ORDER BY m.stream_pos DESC LIMIT ?`, [...params, RANK_WINDOW]))
        .map(toHit);
      all.sort((a, b) => (rankBefore(a, b) ? -1 : rankBefore(b, a) ? 1 : 0));
      const rest = q.after ? all.filter((h) => afterCursor(h, q.after!)) : all;
      return { hits: rest.slice(0, q.limit), count: all.length, more: rest.length > q.limit };
    },
  };
}
