/**
 * Spaces (spec: client-server space_hierarchy.yaml): GET /_matrix/client/v1/rooms/{roomId}/hierarchy.
 * Query parameters are checked here (limit > 0, max_depth ≥ 0, suggested_only a boolean); the
 * walk, which asks other servers about rooms this server is not in, is services/rooms/hierarchy.ts.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseQuery } from '../http/validate.ts';
import type { SpaceHierarchy } from '../../services/rooms/hierarchy.ts';

export interface SpacesApiDeps {
  auth: RequestHandler;
  hierarchy: Pick<SpaceHierarchy, 'getHierarchy'>;
}

const intString = z.string().regex(/^\d{1,9}$/, 'must be a non-negative integer').transform(Number);

const hierarchyQuery = z.object({
  suggested_only: z.enum(['true', 'false']).optional(),
  limit: intString.refine((n) => n > 0, 'must be greater than zero').optional(),
  max_depth: intString.optional(),
  from: z.string().optional(),
});

export function register(r: ApiRouter, deps: SpacesApiDeps): void {
  r.client(
    'GET',
    '/rooms/:roomId/hierarchy',
    [
      deps.auth,
      async (req, res) => {
        const q = parseQuery(hierarchyQuery, req.query);
        const page = await deps.hierarchy.getHierarchy(requester(req).userId, String(req.params.roomId), {
          suggestedOnly: q.suggested_only === 'true',
          maxDepth: q.max_depth,
          limit: q.limit,
          from: q.from,
        });
        res.json(page);
      },
    ],
    { versions: ['v1'] },
  );
}
