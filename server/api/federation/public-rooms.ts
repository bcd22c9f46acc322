/**
 * The published room directory for other servers (spec: server-server public_rooms.yaml):
 * GET and POST /_matrix/federation/v1/publicRooms, X-Matrix authenticated. Only this server's
 * published rooms; third-party networks are not supported (an empty list for them).
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import type { RoomsServices } from '../../services/rooms/rooms.ts';
import { publicRoomsBody } from '../client/directory.ts';

const MAX_LIMIT = 500;
const getQuery = z.object({
  limit: z.string().regex(/^\d{1,9}$/, 'must be a non-negative integer').transform(Number).optional(),
  since: z.string().optional(),
  include_all_networks: z.enum(['true', 'false']).optional(),
  third_party_instance_id: z.string().optional(),
});
const postBody = publicRoomsBody;

export function register(r: ApiRouter, deps: { fed: RequestHandler; rooms: Pick<RoomsServices, 'directory'> }): void {
  const empty = { chunk: [], total_room_count_estimate: 0 };
  const limitOf = (n: number | undefined): number => Math.min(n ?? MAX_LIMIT, MAX_LIMIT);

  r.route('GET', '/_matrix/federation/v1/publicRooms', [
    deps.fed,
    (req, res) => {
      const q = parseQuery(getQuery, req.query);
      if (q.third_party_instance_id !== undefined) return void res.json(empty);
      res.json(deps.rooms.directory.publicRooms({ limit: limitOf(q.limit), since: q.since }));
    },
  ]);

  r.route('POST', '/_matrix/federation/v1/publicRooms', [
    deps.fed,
    (req, res) => {
      const b = parseBody(postBody, req.body);
      if (b.third_party_instance_id !== undefined) return void res.json(empty);
      res.json(
        deps.rooms.directory.publicRooms({
          limit: limitOf(b.limit),
          since: b.since,
          searchTerm: b.filter?.generic_search_term,
          roomTypes: b.filter?.room_types,
        }),
      );
    },
  ]);
}
