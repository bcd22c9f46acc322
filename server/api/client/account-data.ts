/**
 * Client config (client-server account-data.yaml): GET/PUT /user/{userId}/account_data/{type}
 * and /user/{userId}/rooms/{roomId}/account_data/{type}. Only for your own user id; the content
 * is any JSON object; server-managed types are refused with 405 by the service.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { AccountDataService } from '../../services/sync/account-data.ts';

export interface AccountDataApiDeps {
  auth: RequestHandler;
  accountData: Pick<AccountDataService, 'get' | 'set'>;
}

const contentBody = z.record(z.string(), z.unknown());

export function register(r: ApiRouter, deps: AccountDataApiDeps): void {
  r.client('GET', '/user/:userId/account_data/:type', [
    deps.auth,
    (req, res) => {
      res.json(deps.accountData.get(requester(req).userId, String(req.params.userId), null, String(req.params.type)));
    },
  ]);
  r.client('PUT', '/user/:userId/account_data/:type', [
    deps.auth,
    async (req, res) => {
      const content = parseBody(contentBody, req.body);
      await deps.accountData.set(requester(req).userId, String(req.params.userId), null, String(req.params.type), content);
      res.json({});
    },
  ]);
  r.client('GET', '/user/:userId/rooms/:roomId/account_data/:type', [
    deps.auth,
    (req, res) => {
      const p = req.params;
      res.json(deps.accountData.get(requester(req).userId, String(p.userId), String(p.roomId), String(p.type)));
    },
  ]);
  r.client('PUT', '/user/:userId/rooms/:roomId/account_data/:type', [
    deps.auth,
    async (req, res) => {
      const content = parseBody(contentBody, req.body);
      const p = req.params;
      await deps.accountData.set(requester(req).userId, String(p.userId), String(p.roomId), String(p.type), content);
      res.json({});
    },
  ]);
}
