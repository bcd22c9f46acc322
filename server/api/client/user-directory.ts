/**
 * User directory (client-server users.yaml): POST /user_directory/search with `search_term` and
 * an optional `limit` (default 10); answers `results` and whether they were `limited`.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody } from '../http/validate.ts';
import type { UserDirectoryService } from '../../services/users/user-directory.ts';

export interface UserDirectoryApiDeps {
  auth: RequestHandler;
  userDirectory: UserDirectoryService;
}

const searchBody = z.object({
  search_term: z.string().max(1000),
  limit: z.number().int().nonnegative().optional(),
});

export function register(r: ApiRouter, deps: UserDirectoryApiDeps): void {
  r.client('POST', '/user_directory/search', [
    deps.auth,
    (req, res) => {
      const body = parseBody(searchBody, req.body);
      res.json(deps.userDirectory.search(requester(req).userId, body.search_term, body.limit));
    },
  ]);
}
