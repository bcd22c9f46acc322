/**
 * Room aliases and the published room directory (spec: client-server directory.yaml,
 * list_public_rooms.yaml). GET /publicRooms needs no access token (the spec lists no security
 * for it); POST does.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { intParam, param, roomIdParam, viewerOf, type RoomsApiDeps } from './rooms.ts';

const aliasBody = z.object({ room_id: z.string() });
const visibilityBody = z.object({ visibility: z.enum(['public', 'private']) });
const publicRoomsQuery = z.object({
  limit: intParam.optional(),
  since: z.string().optional(),
  server: z.string().optional(),
});
/** POST /publicRooms body; the federation endpoint of the same name takes it too. */
export const publicRoomsBody = z.object({
  limit: z.number().int().min(0).optional(),
  since: z.string().optional(),
  filter: z
    .object({
      generic_search_term: z.string().optional(),
      room_types: z.array(z.string().nullable()).optional(),
    })
    .optional(),
  include_all_networks: z.boolean().optional(),
  third_party_instance_id: z.string().optional(),
});

export function register(r: ApiRouter, deps: RoomsApiDeps): void {
  const { rooms } = deps;

  r.client('PUT', '/directory/room/:roomAlias', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(aliasBody, req.body);
      await rooms.aliases.create(requester(req).userId, param(req, 'roomAlias'), body.room_id);
      res.json({});
    },
  ]);

  r.client('GET', '/directory/room/:roomAlias', [
    (req, res) => {
      res.json(rooms.aliases.resolve(param(req, 'roomAlias')));
    },
  ]);

  r.client('DELETE', '/directory/room/:roomAlias', [
    deps.auth,
    async (req, res) => {
      const who = requester(req);
      await rooms.aliases.delete({ userId: who.userId, deviceId: who.deviceId, isAdmin: who.isAdmin }, param(req, 'roomAlias'));
      res.json({});
    },
  ]);

  r.client('GET', '/rooms/:roomId/aliases', [
    deps.auth,
    (req, res) => {
      res.json({ aliases: rooms.aliases.roomAliases(viewerOf(req), roomIdParam(req)) });
    },
  ]);

  r.client('GET', '/directory/list/room/:roomId', [
    (req, res) => {
      res.json({ visibility: rooms.directory.visibility(roomIdParam(req)) });
    },
  ]);

  r.client('PUT', '/directory/list/room/:roomId', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(visibilityBody, req.body);
      await rooms.directory.setVisibility(requester(req).userId, roomIdParam(req), body.visibility);
      res.json({});
    },
  ]);

  const getPublic: RequestHandler = (req, res) => {
    const q = parseQuery(publicRoomsQuery, req.query);
    res.json(rooms.directory.publicRooms({ limit: q.limit, since: q.since, server: q.server }));
  };
  r.client('GET', '/publicRooms', [getPublic]);

  r.client('POST', '/publicRooms', [
    deps.auth,
    (req, res) => {
      const body = parseBody(publicRoomsBody, req.body);
      const q = parseQuery(z.object({ server: z.string().optional() }), req.query);
      res.json(
        rooms.directory.publicRooms({
          limit: body.limit,
          since: body.since,
          server: q.server,
          searchTerm: body.filter?.generic_search_term,
          roomTypes: body.filter?.room_types,
        }),
      );
    },
  ]);
}
