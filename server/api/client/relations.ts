/**
 * Relations and threads (spec: client-server relations.yaml, threads_list.yaml), served under
 * /_matrix/client/v1 only (they never existed under r0).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import { MatrixError } from '../../errors.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';
import { eventIdParam, intParam, param, roomIdParam, viewerOf, type RoomsApiDeps } from './rooms.ts';

const relationsQuery = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  limit: intParam.optional(),
  dir: z.enum(['b', 'f']).optional(),
  recurse: z.enum(['true', 'false']).optional(),
});
const threadsQuery = z.object({
  include: z.enum(['all', 'participated']).optional(),
  limit: intParam.optional(),
  from: z.string().optional(),
});

function tokenErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MatrixError && e.errcode === 'M_INVALID_PARAM') throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid pagination token');
    throw e;
  }
}

export function register(r: ApiRouter, deps: RoomsApiDeps): void {
  const { rooms } = deps;
  const relations: RequestHandler = (req, res) => {
    const q = parseQuery(relationsQuery, req.query);
    const relType = param(req, 'relType') || undefined;
    const eventType = param(req, 'eventType') || undefined;
    const out = tokenErrors(() =>
      rooms.relations.relations(viewerOf(req), roomIdParam(req), eventIdParam(req), {
        relType,
        eventType,
        from: q.from,
        to: q.to,
        limit: Math.min(q.limit ?? 50, 1000),
        dir: q.dir ?? 'b',
        recurse: q.recurse === 'true',
      }),
    );
    res.json(out);
  };
  const v1 = { versions: ['v1'] };
  r.client('GET', '/rooms/:roomId/relations/:eventId', [deps.auth, relations], v1);
  r.client('GET', '/rooms/:roomId/relations/:eventId/:relType', [deps.auth, relations], v1);
  r.client('GET', '/rooms/:roomId/relations/:eventId/:relType/:eventType', [deps.auth, relations], v1);

  r.client(
    'GET',
    '/rooms/:roomId/threads',
    [
      deps.auth,
      (req, res) => {
        const q = parseQuery(threadsQuery, req.query);
        const out = tokenErrors(() =>
          rooms.relations.threads(viewerOf(req), roomIdParam(req), {
            include: q.include ?? 'all',
            limit: Math.min(q.limit ?? 50, 1000),
            from: q.from,
          }),
        );
        res.json(out);
      },
    ],
    v1,
  );
}
