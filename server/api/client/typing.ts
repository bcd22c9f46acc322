/**
 * Typing notifications (client-server typing.yaml): PUT /rooms/{roomId}/typing/{userId}, only
 * for yourself and in a room you are joined to; the timeout is capped by the service.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { TypingService } from '../../services/sync/typing.ts';

export interface TypingApiDeps {
  auth: RequestHandler;
  typing: Pick<TypingService, 'setTyping'>;
}

const typingBody = z.object({
  typing: z.boolean(),
  timeout: z.number().int().nonnegative().optional(),
});

export function register(r: ApiRouter, deps: TypingApiDeps): void {
  r.client('PUT', '/rooms/:roomId/typing/:userId', [
    deps.auth,
    (req, res) => {
      const body = parseBody(typingBody, req.body);
      deps.typing.setTyping(requester(req).userId, String(req.params.roomId), String(req.params.userId), body.typing, body.timeout);
      res.json({});
    },
  ]);
}
