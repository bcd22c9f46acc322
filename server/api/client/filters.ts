/**
 * Filters (client-server filter.yaml): POST /user/{userId}/filter uploads a filter and answers
 * its id; GET /user/{userId}/filter/{filterId} returns it. Only for the requester's own user id.
 */
import type { RequestHandler } from 'express';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { validateFilter, type FilterService } from '../../services/sync/filters.ts';

export interface FiltersApiDeps {
  auth: RequestHandler;
  filters: FilterService;
}

export function register(r: ApiRouter, deps: FiltersApiDeps): void {
  r.client('POST', '/user/:userId/filter', [
    deps.auth,
    async (req, res) => {
      const filter = validateFilter(req.body);
      const filterId = await deps.filters.create(requester(req).userId, String(req.params.userId), filter);
      res.json({ filter_id: filterId });
    },
  ]);
  r.client('GET', '/user/:userId/filter/:filterId', [
    deps.auth,
    (req, res) => {
      res.json(deps.filters.get(requester(req).userId, String(req.params.userId), String(req.params.filterId)));
    },
  ]);
}
