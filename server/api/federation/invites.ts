/**
 * Receiving an invite for one of our users (spec: server-server invites-v2.yaml):
 * PUT /v2/invite/{roomId}/{eventId}. X-Matrix authenticated; the event is checked, co-signed
 * and, for a room we are not in, stored with its stripped state (services/federation/resident.ts).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { federationOrigin } from './auth.ts';
import { membershipParams } from './joins.ts';
import type { ResidentMemberships } from '../../services/federation/resident.ts';

const inviteBody = z.object({
  room_version: z.string().min(1),
  event: z.record(z.string(), z.unknown()),
  invite_room_state: z.array(z.unknown()).optional(),
});

export interface InvitesApiDeps {
  fed: RequestHandler;
  resident: ResidentMemberships;
}

export function register(r: ApiRouter, deps: InvitesApiDeps): void {
  r.route('PUT', '/_matrix/federation/v2/invite/:roomId/:eventId', [
    deps.fed,
    async (req, res) => {
      const { roomId, id } = membershipParams(req, 'eventId');
      const body = parseBody(inviteBody, req.body);
      res.json(await deps.resident.invite(federationOrigin(req), roomId, id, body));
    },
  ]);
}
