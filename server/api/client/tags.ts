/**
 * Room tagging (client-server tags.yaml): GET /user/{userId}/rooms/{roomId}/tags and PUT/DELETE
 * /user/{userId}/rooms/{roomId}/tags/{tag}. Tags live in the room's `m.tag` account data; the
 * service checks the tag name length and that `order` is a number in [0, 1].
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { AccountDataService } from '../../services/sync/account-data.ts';

export interface TagsApiDeps {
  auth: RequestHandler;
  accountData: Pick<AccountDataService, 'getTags' | 'setTag' | 'deleteTag'>;
}

const tagBody = z.record(z.string(), z.unknown());

export function register(r: ApiRouter, deps: TagsApiDeps): void {
  r.client('GET', '/user/:userId/rooms/:roomId/tags', [
    deps.auth,
    (req, res) => {
      res.json({ tags: deps.accountData.getTags(requester(req).userId, String(req.params.userId), String(req.params.roomId)) });
    },
  ]);
  r.client('PUT', '/user/:userId/rooms/:roomId/tags/:tag', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(tagBody, req.body);
      const p = req.params;
      await deps.accountData.setTag(requester(req).userId, String(p.userId), String(p.roomId), String(p.tag), body);
      res.json({});
    },
  ]);
  r.client('DELETE', '/user/:userId/rooms/:roomId/tags/:tag', [
    deps.auth,
    async (req, res) => {
      const p = req.params;
      await deps.accountData.deleteTag(requester(req).userId, String(p.userId), String(p.roomId), String(p.tag));
      res.json({});
    },
  ]);
}
