/**
 * Synapse's server notices admin API (Synapse docs admin_api/server_notices.md):
 * `POST /_synapse/admin/v1/send_server_notice` and its idempotent form
 * `PUT /_synapse/admin/v1/send_server_notice/{txnId}`. Admins only.
 */
import type { Request } from 'express';
import { z } from '../../../validation/schema.ts';
import type { JsonObject } from '../../../core/events/types.ts';
import type { SynapseServerNotices } from '../../../services/admin/synapse-server-notices.ts';
import { requester, requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';

export interface ServerNoticesApiDeps {
  tokens: TokenResolver;
  notices: SynapseServerNotices;
}

const P = '/_synapse/admin/v1/send_server_notice';

const noticeBody = z.object({
  user_id: z.string(),
  content: z.record(z.string(), z.unknown()),
  type: z.string().min(1).optional(),
  state_key: z.string().optional(),
});

async function send(req: Request, notices: SynapseServerNotices, txnKey?: string): Promise<string> {
  const b = parseBody(noticeBody, req.body);
  return notices.send({ userId: b.user_id, type: b.type ?? 'm.room.message', content: b.content as JsonObject, stateKey: b.state_key }, txnKey);
}

export function register(r: ApiRouter, deps: ServerNoticesApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  r.route('POST', P, [admin, async (req, res) => void res.json({ event_id: await send(req, deps.notices) })]);
  r.route('PUT', `${P}/:txnId`, [
    admin,
    async (req, res) => {
      const me = requester(req);
      const txnKey = `${me.userId}\u0000${me.deviceId}\u0000${String(req.params.txnId)}`;
      res.json({ event_id: await send(req, deps.notices, txnKey) });
    },
  ]);
}
