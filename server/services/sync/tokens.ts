/**
 * Stream tokens. A sync token `s<pos>_<typing>` names a stream position (storage/stream.ts) and the
 * in-memory typing serial. A pagination token `t<pos>` names the gap just after position pos in
 * a room's timeline. /messages accepts both (the spec lets clients paginate from a sync token).
 */
import { MatrixError } from '../../errors.ts';

export interface SyncToken {
  position: number;
  typing: number;
}

export function formatSyncToken(t: SyncToken): string {
  return `s${t.position}_${t.typing}`;
}

export function parseSyncToken(s: string): SyncToken {
  const m = /^s(\d{1,15})_(\d{1,15})$/.exec(s);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid sync token');
  return { position: Number(m[1]), typing: Number(m[2]) };
}

export function formatPaginationToken(position: number): string {
  return `t${position}`;
}

/** Position named by a pagination or sync token. Backfilled history has negative positions. */
export function parsePositionToken(s: string): number {
  const m = /^t(-?\d{1,15})$/.exec(s);
  if (m) return Number(m[1]);
  return parseSyncToken(s).position;
}
