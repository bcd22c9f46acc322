/**
 * Room membership (spec: client-server joining.yaml, inviting.yaml, leaving.yaml, kicking.yaml,
 * banning.yaml, knocking.yaml). Handlers validate and call services/rooms/membership.ts.
 */
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody, parseQuery, repeatedParam } from '../http/validate.ts';
import { MatrixError } from '../../errors.ts';
import { param, roomIdParam, userIdField, type RoomsApiDeps } from './rooms.ts';

const joinSchema = z.object({
  reason: z.string().optional(),
  third_party_signed: z.record(z.string(), z.unknown()).optional(),
});
const reasonSchema = z.object({ reason: z.string().optional() });
/** `via` (repeatable), and the deprecated `server_name` that older clients still send. */
const viaQuery = z.object({ via: repeatedParam.optional(), server_name: repeatedParam.optional() });

/** Servers to join or knock through, when this server is not in the room. */
function viaServers(query: unknown): string[] {
  const q = parseQuery(viaQuery, query);
  return [...new Set([q.via ?? [], q.server_name ?? []].flat())];
}
const targetSchema = z.object({ user_id: z.string(), reason: z.string().optional() });
const inviteSchema = z.object({
  user_id: z.string().optional(),
  reason: z.string().optional(),
  id_server: z.string().optional(),
  medium: z.string().optional(),
  address: z.string().optional(),
});

export function register(r: ApiRouter, deps: RoomsApiDeps): void {
  const m = deps.rooms.membership;

  r.client('POST', '/join/:roomIdOrAlias', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(joinSchema, req.body ?? {});
      const { roomId } = await m.join(requester(req).userId, param(req, 'roomIdOrAlias'), body.reason, viaServers(req.query));
      res.json({ room_id: roomId });
    },
  ]);

  r.client('POST', '/rooms/:roomId/join', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(joinSchema, req.body ?? {});
      const { roomId } = await m.join(requester(req).userId, roomIdParam(req), body.reason);
      res.json({ room_id: roomId });
    },
  ]);

  r.client('POST', '/knock/:roomIdOrAlias', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(reasonSchema, req.body ?? {});
      const { roomId } = await m.knock(requester(req).userId, param(req, 'roomIdOrAlias'), body.reason, viaServers(req.query));
      res.json({ room_id: roomId });
    },
  ], { versions: ['v3'] });

  r.client('POST', '/rooms/:roomId/invite', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(inviteSchema, req.body);
      if (body.user_id === undefined) {
        if (body.medium !== undefined || body.address !== undefined) {
          // TODO(issue 3pid-invites): needs an identity server.
          throw new MatrixError(400, 'M_UNKNOWN', 'Third-party invites are not supported');
        }
        throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: user_id');
      }
      await m.invite(requester(req).userId, roomIdParam(req), userIdField(body.user_id), body.reason);
      res.json({});
    },
  ]);

  r.client('POST', '/rooms/:roomId/leave', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(reasonSchema, req.body ?? {});
      await m.leave(requester(req).userId, roomIdParam(req), body.reason);
      res.json({});
    },
  ]);

  r.client('POST', '/rooms/:roomId/forget', [
    deps.auth,
    async (req, res) => {
      await m.forget(requester(req).userId, roomIdParam(req));
      res.json({});
    },
  ]);

  r.client('POST', '/rooms/:roomId/kick', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(targetSchema, req.body);
      await m.kick(requester(req).userId, roomIdParam(req), userIdField(body.user_id), body.reason);
      res.json({});
    },
  ]);

  r.client('POST', '/rooms/:roomId/ban', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(targetSchema, req.body);
      await m.ban(requester(req).userId, roomIdParam(req), userIdField(body.user_id), body.reason);
      res.json({});
    },
  ]);

  r.client('POST', '/rooms/:roomId/unban', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(targetSchema, req.body);
      await m.unban(requester(req).userId, roomIdParam(req), userIdField(body.user_id), body.reason);
      res.json({});
    },
  ]);
}
