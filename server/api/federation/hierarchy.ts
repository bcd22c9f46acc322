/**
 * Spaces over federation (spec: server-server space_hierarchy.yaml):
 * GET /_matrix/federation/v1/hierarchy/{roomId}, X-Matrix authenticated. The room and its direct
 * children as far as the requesting server may see them; 404 M_NOT_FOUND for a room we are not
 * in or that server may not see. The answer is services/rooms/hierarchy.ts (forServer).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';
import { federationOrigin } from './auth.ts';
import type { SpaceHierarchy } from '../../services/rooms/hierarchy.ts';

const hierarchyQuery = z.object({ suggested_only: z.enum(['true', 'false']).optional() });

export function register(r: ApiRouter, deps: { fed: RequestHandler; hierarchy: Pick<SpaceHierarchy, 'forServer'> }): void {
  r.route('GET', '/_matrix/federation/v1/hierarchy/:roomId', [
    deps.fed,
    (req, res) => {
      const q = parseQuery(hierarchyQuery, req.query);
      res.json(deps.hierarchy.forServer(federationOrigin(req), String(req.params.roomId), q.suggested_only === 'true'));
    },
  ]);
}
