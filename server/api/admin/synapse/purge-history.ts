/**
 * Synapse's purge history admin API (Synapse docs/admin_api/purge_history_api.md), admins only:
 * POST /_synapse/admin/v1/purge_history/{roomId}[/{eventId}] with `purge_up_to_event_id` or
 * `purge_up_to_ts` and `delete_local_events` (default false), answering `{purge_id}`; and GET
 * /_synapse/admin/v1/purge_history_status/{purgeId} answering `{status}` (active, complete,
 * failed, with `error` when failed). State events, the latest event and the forward extremities
 * always stay.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError, notFound } from '../../../errors.ts';
import type { HistoryCutoff, StorageCare } from '../../../services/admin/storage-care.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';

const A = '/_synapse/admin/v1';

const purgeBody = z.object({
  delete_local_events: z.boolean().optional(),
  purge_up_to_event_id: z.string().min(1).optional(),
  purge_up_to_ts: z.number().int().optional(),
});

export interface PurgeHistoryApiDeps {
  tokens: TokenResolver;
  storageCare: Pick<StorageCare, 'startPurge' | 'purgeStatus'>;
}

export function register(r: ApiRouter, deps: PurgeHistoryApiDeps): void {
  const admin = requireAdmin(deps.tokens);

  r.route('POST', [`${A}/purge_history/:roomId`, `${A}/purge_history/:roomId/:eventId`], [
    admin,
    async (req, res) => {
      const b = parseBody(purgeBody, req.body);
      const eventId = req.params.eventId !== undefined ? String(req.params.eventId) : b.purge_up_to_event_id;
      let cutoff: HistoryCutoff;
      if (eventId !== undefined) cutoff = { kind: 'beforeEvent', eventId };
      else if (b.purge_up_to_ts !== undefined) cutoff = { kind: 'beforeTs', ts: b.purge_up_to_ts };
      else throw new MatrixError(400, 'M_BAD_JSON', 'must specify purge_up_to_event_id or purge_up_to_ts');
      const purgeId = await deps.storageCare.startPurge(String(req.params.roomId), cutoff, b.delete_local_events ?? false);
      res.json({ purge_id: purgeId });
    },
  ]);

  r.route('GET', `${A}/purge_history_status/:purgeId`, [
    admin,
    (req, res) => {
      const purgeId = String(req.params.purgeId);
      const s = deps.storageCare.purgeStatus(purgeId);
      if (!s) throw notFound(`purge id '${purgeId}' not found`);
      res.json(s.status === 'failed' ? { status: s.status, error: s.error ?? '' } : { status: s.status });
    },
  ]);
}
