/**
 * Synapse's event reports admin API (Synapse docs admin_api/event_reports.md):
 * `GET /_synapse/admin/v1/event_reports` (paged, newest first by default, filtered by reporter or
 * room) and `GET|DELETE /_synapse/admin/v1/event_reports/{reportId}`. Admins only.
 */
import type { Request } from 'express';
import { z } from '../../../validation/schema.ts';
import { MatrixError } from '../../../errors.ts';
import type { EventReport, SynapseReportsAdmin } from '../../../services/admin/synapse-reports.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseQuery } from '../../http/validate.ts';
import { dirParam, limitParam, nextToken, offsetParam } from './params.ts';

export interface ReportsAdminApiDeps {
  tokens: TokenResolver;
  reports: SynapseReportsAdmin;
}

const P = '/_synapse/admin/v1/event_reports';

const listQuery = z.object({
  from: offsetParam,
  limit: limitParam(),
  dir: dirParam.default('b'),
  user_id: z.string().optional(),
  room_id: z.string().optional(),
});

function shape({ report: r, roomName, canonicalAlias }: EventReport): Record<string, unknown> {
  return {
    id: r.id,
    received_ts: r.receivedTs,
    room_id: r.roomId,
    name: roomName,
    event_id: r.eventId,
    user_id: r.userId,
    reason: r.reason,
    score: r.score,
    sender: r.targetUserId,
    canonical_alias: canonicalAlias,
  };
}

function reportId(req: Request): number {
  const raw = String(req.params.reportId);
  if (!/^\d{1,15}$/.test(raw)) throw new MatrixError(400, 'M_INVALID_PARAM', 'The report_id parameter must be a string representing a positive integer.');
  return Number(raw);
}

export function register(r: ApiRouter, deps: ReportsAdminApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const { reports } = deps;

  r.route('GET', P, [
    admin,
    (req, res) => {
      const q = parseQuery(listQuery, req.query);
      const page = reports.list({ from: q.from, limit: q.limit, dir: q.dir, userId: q.user_id, roomId: q.room_id });
      const body: Record<string, unknown> = { event_reports: page.reports.map(shape), total: page.total };
      const next = nextToken(q.from, page.reports.length, page.total);
      if (next !== undefined) body.next_token = next;
      res.json(body);
    },
  ]);

  r.route('GET', `${P}/:reportId`, [
    admin,
    (req, res) => {
      const found = reports.get(reportId(req));
      res.json({ ...shape(found), event_json: found.event });
    },
  ]);

  r.route('DELETE', `${P}/:reportId`, [
    admin,
    async (req, res) => {
      await reports.remove(reportId(req));
      res.json({});
    },
  ]);
}
