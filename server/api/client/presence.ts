/**
 * Presence (client-server presence.yaml): GET and PUT /presence/{userId}/status. Setting is only
 * for yourself; reading is for yourself and users sharing a room with you.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { PresenceService } from '../../services/sync/presence.ts';

export interface PresenceApiDeps {
  auth: RequestHandler;
  presence: Pick<PresenceService, 'get' | 'set'>;
}

const setPresenceBody = z.object({
  presence: z.enum(['online', 'offline', 'unavailable']),
  status_msg: z.string().max(4096).nullable().optional(),
});

export function register(r: ApiRouter, deps: PresenceApiDeps): void {
  r.client('GET', '/presence/:userId/status', [
    deps.auth,
    (req, res) => {
      res.json(deps.presence.get(requester(req).userId, String(req.params.userId)));
    },
  ]);
  r.client('PUT', '/presence/:userId/status', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(setPresenceBody, req.body);
      await deps.presence.set(requester(req).userId, String(req.params.userId), body.presence, body.status_msg);
      res.json({});
    },
  ]);
}
