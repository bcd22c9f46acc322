/**
 * Federation queries (spec: server-server query.yaml): GET /query/directory resolves a room alias
 * of this server to its room id and servers that can be joined through; GET /query/profile
 * returns a local user's profile (one field or all). Both X-Matrix authenticated.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';
import { MatrixError, notFound } from '../../errors.ts';
import { parseRoomAlias, parseUserId, userIdServerName } from '../../core/ids.ts';
import type { RoomsServices } from '../../services/rooms/rooms.ts';
import { residentServers } from '../../services/federation/room-servers.ts';
import type { ProfileService } from '../../services/users/profile.ts';

const directoryQuery = z.object({ room_alias: z.string().min(1) });
const profileQuery = z.object({ user_id: z.string().min(1), field: z.string().min(1).optional() });

export interface QueryApiDeps {
  fed: RequestHandler;
  serverName: string;
  rooms: Pick<RoomsServices, 'aliases' | 'reader'>;
  profile: Pick<ProfileService, 'getProfile'>;
}

export function register(r: ApiRouter, deps: QueryApiDeps): void {
  r.route('GET', '/_matrix/federation/v1/query/directory', [
    deps.fed,
    (req, res) => {
      const q = parseQuery(directoryQuery, req.query);
      const alias = parseRoomAlias(q.room_alias);
      if (!alias) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room alias');
      if (alias.serverName !== deps.serverName) throw notFound('Room alias not found');
      const { room_id } = deps.rooms.aliases.resolve(q.room_alias);
      res.json({ room_id, servers: residentServers(deps.serverName, deps.rooms.reader.joinedMembers(room_id)) });
    },
  ]);

  r.route('GET', '/_matrix/federation/v1/query/profile', [
    deps.fed,
    async (req, res) => {
      const q = parseQuery(profileQuery, req.query);
      if (!parseUserId(q.user_id)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
      if (userIdServerName(q.user_id) !== deps.serverName) throw notFound('User is not hosted on this server');
      const profile = await deps.profile.getProfile(q.user_id);
      if (q.field === undefined) {
        res.json(profile);
        return;
      }
      if (!(q.field in profile)) throw notFound('Profile field not found');
      res.json({ [q.field]: profile[q.field] });
    },
  ]);
}
