/**
 * Synapse's federation admin API (Synapse docs admin_api/federation.md):
 * v1/federation/destinations, .../{destination}, .../{destination}/rooms and
 * .../{destination}/reset_connection. Admins only. The data comes from the federation sender's
 * destination health (services/federation/destinations.ts); besides Synapse's fields each
 * destination carries Hearth's own (last success, last failure reason, queued items) for the GUI.
 * Without `destinations` wired, the list is empty and every destination unknown (404).
 */
import { z } from '../../../validation/schema.ts';
import type { Request } from 'express';
import { MatrixError, notFound } from '../../../errors.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseQuery } from '../../http/validate.ts';
import type { DestinationHealth, DestinationHealthService } from '../../../services/federation/destinations.ts';
import { dirParam, limitParam, nextToken, offsetParam } from './params.ts';

export interface FederationAdminApiDeps {
  tokens: TokenResolver;
  destinations?: Pick<DestinationHealthService, 'get' | 'list' | 'rooms' | 'resetBackoff'>;
}

const P = '/_synapse/admin/v1/federation/destinations';

const listQuery = z.object({
  from: offsetParam,
  limit: limitParam(100),
  order_by: z.enum(['destination', 'retry_last_ts', 'retry_interval', 'failure_ts', 'last_successful_stream_ordering']).default('destination'),
  dir: dirParam.default('f'),
  destination: z.string().optional(),
});
const roomsQuery = z.object({ from: offsetParam, limit: limitParam(100), dir: dirParam.default('f') });

/** Synapse's destination object, plus Hearth's health fields. */
function toJson(d: DestinationHealth): Record<string, unknown> {
  return {
    destination: d.destination,
    retry_last_ts: d.retryLastTs,
    retry_interval: d.retryIntervalMs,
    failure_ts: d.retryIntervalMs === 0 ? null : d.lastFailureTs,
    last_successful_stream_ordering: d.lastSuccessfulPos,
    last_success_ts: d.lastSuccessTs,
    last_failure_ts: d.lastFailureTs,
    last_failure_reason: d.lastFailureReason,
    retry_at_ts: d.retryAtTs,
    queued_pdus: d.queued.pdus,
    queued_edus: d.queued.edus + d.queued.toDevice,
  };
}

const destinationParam = (req: Request): string => String(req.params.destination);

export function register(r: ApiRouter, deps: FederationAdminApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const known = (req: Request): DestinationHealth => {
    const d = deps.destinations?.get(destinationParam(req));
    if (!d) throw notFound('Unknown destination');
    return d;
  };

  r.route('GET', P, [
    admin,
    (req, res) => {
      const q = parseQuery(listQuery, req.query);
      if (!deps.destinations) return void res.json({ destinations: [], total: 0 });
      // Synapse's failure_ts/retry_interval orders map onto the stored columns nearest in meaning.
      const orderBy = q.order_by === 'last_successful_stream_ordering' ? 'last_success_ts' : q.order_by === 'destination' ? 'destination' : 'retry_last_ts';
      const page = deps.destinations.list({ from: q.from, limit: q.limit, orderBy, dir: q.dir, search: q.destination });
      const body: Record<string, unknown> = { destinations: page.destinations.map(toJson), total: page.total };
      const next = nextToken(q.from, page.destinations.length, page.total);
      if (next !== undefined) body.next_token = String(next);
      res.json(body);
    },
  ]);

  r.route('GET', `${P}/:destination`, [admin, (req, res) => void res.json(toJson(known(req)))]);

  r.route('GET', `${P}/:destination/rooms`, [
    admin,
    (req, res) => {
      const q = parseQuery(roomsQuery, req.query);
      known(req);
      const page = deps.destinations!.rooms(destinationParam(req), { from: q.from, limit: q.limit });
      const rooms = page.rooms.map((x) => ({ room_id: x.roomId, stream_ordering: x.streamOrdering }));
      if (q.dir === 'b') rooms.reverse();
      const body: Record<string, unknown> = { rooms, total: page.total };
      const next = nextToken(q.from, rooms.length, page.total);
      if (next !== undefined) body.next_token = String(next);
      res.json(body);
    },
  ]);

  r.route('POST', `${P}/:destination/reset_connection`, [
    admin,
    async (req, res) => {
      const d = known(req);
      // Synapse answers 400 when the destination is not backing off.
      if (d.retryIntervalMs === 0 && d.retryLastTs === 0) {
        throw new MatrixError(400, 'M_UNKNOWN', 'The retry timing does not need to be reset for this destination.');
      }
      await deps.destinations!.resetBackoff(d.destination);
      res.json({});
    },
  ]);
}
