/**
 * Rooms (spec: client-server create_room.yaml, rooms.yaml (GET /event, /state, /state/{type}/{key},
 * /members, /joined_members), room_upgrades.yaml, list_joined_rooms.yaml, event_context.yaml).
 * Also the helpers the other rooms API files share (membership.ts, messages.ts, relations.ts,
 * directory.ts): their dependencies, path-parameter checks and the RoomEventFilter query encoding.
 */
import type { Request, RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import { isValidRoomId, isValidUserId } from '../../core/ids.ts';
import { MatrixError } from '../../errors.ts';
import type { RoomsServices } from '../../services/rooms/rooms.ts';
import type { EventFilter, Viewer } from '../../services/rooms/reader.ts';
import { requester } from '../http/auth.ts';
import { parsePositionToken } from '../../services/sync/tokens.ts';
import type { JsonObject } from '../../core/events/types.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';

export interface RoomsApiDeps {
  /** requireAuth(tokens). */
  auth: RequestHandler;
  rooms: RoomsServices;
}

export function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | undefined>)[name];
  return v ?? '';
}

export function roomIdParam(req: Request, name = 'roomId'): string {
  const v = param(req, name);
  if (!isValidRoomId(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room id: ${v}`);
  return v;
}

export function eventIdParam(req: Request, name = 'eventId'): string {
  const v = param(req, name);
  // Only the sigil is checked: an id in another room version's format is simply not found (404).
  if (!v.startsWith('$') || Buffer.byteLength(v) > 255) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid event id: ${v}`);
  return v;
}

export function userIdField(v: string): string {
  if (!isValidUserId(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id: ${v}`);
  return v;
}

export function viewerOf(req: Request): Viewer {
  const r = requester(req);
  return { userId: r.userId, deviceId: r.deviceId };
}

/** A non-negative integer query parameter. */
export const intParam = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a non-negative integer')
  .transform(Number);

const roomEventFilterSchema = z.object({
  types: z.array(z.string()).optional(),
  not_types: z.array(z.string()).optional(),
  senders: z.array(z.string()).optional(),
  not_senders: z.array(z.string()).optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  limit: z.number().int().optional(),
});

/** The `filter` query parameter: a JSON-encoded RoomEventFilter. */
export function parseFilterParam(raw: unknown): (EventFilter & { limit?: number }) | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'filter must be a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not valid JSON');
  }
  const r = roomEventFilterSchema.safeParse(parsed);
  if (!r.success) throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not a valid RoomEventFilter');
  return r.data;
}

const createRoomSchema = z.object({
  visibility: z.enum(['public', 'private']).optional(),
  room_alias_name: z.string().optional(),
  name: z.string().optional(),
  topic: z.string().optional(),
  invite: z.array(z.string()).optional(),
  invite_3pid: z.array(z.unknown()).optional(),
  room_version: z.string().optional(),
  creation_content: z.record(z.string(), z.unknown()).optional(),
  initial_state: z
    .array(z.object({ type: z.string().min(1), state_key: z.string().optional(), content: z.record(z.string(), z.unknown()) }))
    .optional(),
  preset: z.enum(['private_chat', 'public_chat', 'trusted_private_chat']).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: z.record(z.string(), z.unknown()).optional(),
});

const membersQuery = z.object({
  at: z.string().optional(),
  membership: z.enum(['join', 'invite', 'knock', 'leave', 'ban']).optional(),
  not_membership: z.enum(['join', 'invite', 'knock', 'leave', 'ban']).optional(),
});

const stateQuery = z.object({ format: z.enum(['content', 'event']).optional() });

const contextQuery = z.object({ limit: intParam.optional(), filter: z.string().optional() });

const upgradeSchema = z.object({
  new_version: z.string(),
  additional_creators: z.array(z.string()).optional(),
});

export function register(r: ApiRouter, deps: RoomsApiDeps): void {
  const { rooms } = deps;

  r.client('POST', '/createRoom', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(createRoomSchema, req.body);
      for (const u of body.invite ?? []) userIdField(u);
      if (body.invite_3pid && body.invite_3pid.length > 0) {
        // TODO(issue 3pid-invites): needs an identity server.
        throw new MatrixError(400, 'M_UNKNOWN', 'Third-party invites are not supported');
      }
      const { roomId } = await rooms.creator.createRoom(requester(req).userId, {
        ...body,
        creation_content: body.creation_content as JsonObject | undefined,
        initial_state: body.initial_state as { type: string; state_key?: string; content: JsonObject }[] | undefined,
        power_level_content_override: body.power_level_content_override as JsonObject | undefined,
      });
      res.json({ room_id: roomId });
    },
  ]);

  r.client('GET', '/joined_rooms', [
    deps.auth,
    (req, res) => {
      res.json({ joined_rooms: rooms.state.joinedRooms(requester(req).userId) });
    },
  ]);

  r.client('GET', '/rooms/:roomId/event/:eventId', [
    deps.auth,
    (req, res) => {
      res.json(rooms.timeline.event(viewerOf(req), roomIdParam(req), eventIdParam(req)));
    },
  ]);

  r.client('GET', '/rooms/:roomId/state', [
    deps.auth,
    (req, res) => {
      res.json(rooms.state.getState(viewerOf(req), roomIdParam(req)));
    },
  ]);

  const getStateEvent: RequestHandler = (req, res) => {
    const q = parseQuery(stateQuery, req.query);
    const ev = rooms.state.getStateEvent(viewerOf(req), roomIdParam(req), param(req, 'eventType'), param(req, 'stateKey'));
    res.json(q.format === 'event' ? ev : ev.content);
  };
  r.client('GET', '/rooms/:roomId/state/:eventType', [deps.auth, getStateEvent]);
  r.client('GET', '/rooms/:roomId/state/:eventType/:stateKey', [deps.auth, getStateEvent]);

  r.client('GET', '/rooms/:roomId/members', [
    deps.auth,
    (req, res) => {
      const q = parseQuery(membersQuery, req.query);
      let at: number | undefined;
      if (q.at !== undefined) {
        try {
          at = parsePositionToken(q.at);
        } catch {
          throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid at token');
        }
      }
      const chunk = rooms.state.members(viewerOf(req), roomIdParam(req), { at, membership: q.membership, notMembership: q.not_membership });
      res.json({ chunk });
    },
  ]);

  r.client('GET', '/rooms/:roomId/joined_members', [
    deps.auth,
    (req, res) => {
      res.json({ joined: rooms.state.joinedMembers(viewerOf(req), roomIdParam(req)) });
    },
  ]);

  r.client('GET', '/rooms/:roomId/context/:eventId', [
    deps.auth,
    (req, res) => {
      const q = parseQuery(contextQuery, req.query);
      const filter = parseFilterParam(q.filter);
      const limit = Math.min(q.limit ?? 10, 100);
      res.json(rooms.timeline.context(viewerOf(req), roomIdParam(req), eventIdParam(req), limit, filter));
    },
  ]);

  r.client('POST', '/rooms/:roomId/upgrade', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(upgradeSchema, req.body);
      const replacement = await rooms.upgrade.upgrade(requester(req).userId, roomIdParam(req), body.new_version, body.additional_creators);
      res.json({ replacement_room: replacement });
    },
  ]);
}
