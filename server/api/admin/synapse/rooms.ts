/**
 * Synapse's room admin API (Synapse docs admin_api/rooms.md) under /_synapse/admin: v1/rooms
 * (list), v1/rooms/{roomId} (details), /members, /state, v1/rooms/{roomId}/block, the v2 delete
 * with v2/rooms/delete_status/{deleteId} and v2/rooms/{roomId}/delete_status, and
 * v1/rooms/{roomIdOrAlias}/make_room_admin. Admins only.
 */
import type { Request } from 'express';
import { z } from '../../../validation/schema.ts';
import { ROOM_ORDERS, type RoomDeletion, type SynapseRoomsAdmin } from '../../../services/admin/synapse-rooms.ts';
import { requester, requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody, parseQuery } from '../../http/validate.ts';
import { boolParam, dirParam, limitParam, offsetParam } from './params.ts';

export interface RoomsAdminApiDeps {
  tokens: TokenResolver;
  rooms: SynapseRoomsAdmin;
}

const A = '/_synapse/admin';

const listQuery = z.object({
  from: offsetParam,
  limit: limitParam(),
  order_by: z.enum(ROOM_ORDERS).default('name'),
  dir: dirParam.default('f'),
  search_term: z.string().optional(),
  public_rooms: boolParam.optional(),
  empty_rooms: boolParam.optional(),
});
const stateQuery = z.object({ type: z.string().optional() });
const blockBody = z.object({ block: z.boolean() });
const deleteBody = z.object({
  new_room_user_id: z.string().optional(),
  room_name: z.string().optional(),
  message: z.string().optional(),
  block: z.boolean().optional(),
  purge: z.boolean().optional(),
  force_purge: z.boolean().optional(),
});
const makeAdminBody = z.object({ user_id: z.string().optional() });

const roomIdOf = (req: Request): string => String(req.params.roomId);

function deletion(t: RoomDeletion): Record<string, unknown> {
  const out: Record<string, unknown> = { delete_id: t.deleteId, room_id: t.roomId, status: t.status };
  if (t.status === 'failed' && t.error !== null) out.error = t.error;
  out.shutdown_room = t.shutdownRoom;
  return out;
}

export function register(r: ApiRouter, deps: RoomsAdminApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const { rooms } = deps;

  r.route('GET', `${A}/v1/rooms`, [
    admin,
    (req, res) => {
      const q = parseQuery(listQuery, req.query);
      const page = rooms.list({
        from: q.from,
        limit: q.limit,
        orderBy: q.order_by,
        dir: q.dir,
        searchTerm: q.search_term,
        publicRooms: q.public_rooms,
        emptyRooms: q.empty_rooms,
      });
      const body: Record<string, unknown> = { rooms: page.rooms, offset: q.from, total_rooms: page.total };
      if (q.from + q.limit < page.total) body.next_batch = q.from + q.limit;
      if (q.from > 0) body.prev_batch = Math.max(0, q.from - q.limit);
      res.json(body);
    },
  ]);

  r.route('GET', `${A}/v1/rooms/:roomId`, [admin, (req, res) => void res.json(rooms.details(roomIdOf(req)))]);

  r.route('GET', `${A}/v1/rooms/:roomId/members`, [
    admin,
    (req, res) => {
      const members = rooms.members(roomIdOf(req));
      res.json({ members, total: members.length });
    },
  ]);

  r.route('GET', `${A}/v1/rooms/:roomId/state`, [
    admin,
    (req, res) => void res.json({ state: rooms.state(roomIdOf(req), parseQuery(stateQuery, req.query).type) }),
  ]);

  r.route('GET', `${A}/v1/rooms/:roomId/block`, [admin, (req, res) => void res.json(rooms.blockStatus(roomIdOf(req)))]);
  r.route('PUT', `${A}/v1/rooms/:roomId/block`, [
    admin,
    async (req, res) => {
      const b = parseBody(blockBody, req.body);
      await rooms.setBlocked(requester(req).userId, roomIdOf(req), b.block);
      res.json({ block: b.block });
    },
  ]);

  r.route('DELETE', `${A}/v2/rooms/:roomId`, [
    admin,
    async (req, res) => {
      const b = parseBody(deleteBody, req.body);
      const deleteId = await rooms.startDelete(requester(req).userId, roomIdOf(req), {
        newRoomUserId: b.new_room_user_id,
        roomName: b.room_name,
        message: b.message,
        block: b.block ?? false,
        purge: b.purge ?? true,
        forcePurge: b.force_purge ?? false,
      });
      res.json({ delete_id: deleteId });
    },
  ]);

  r.route('GET', `${A}/v2/rooms/delete_status/:deleteId`, [
    admin,
    (req, res) => void res.json(deletion(rooms.deleteStatus(String(req.params.deleteId)))),
  ]);
  r.route('GET', `${A}/v2/rooms/:roomId/delete_status`, [
    admin,
    (req, res) => void res.json({ results: rooms.deleteStatusesOf(roomIdOf(req)).map(deletion) }),
  ]);

  r.route('POST', `${A}/v1/rooms/:roomId/make_room_admin`, [
    admin,
    async (req, res) => {
      const b = parseBody(makeAdminBody, req.body);
      await rooms.makeRoomAdmin(roomIdOf(req), b.user_id ?? requester(req).userId);
      res.json({});
    },
  ]);
}
