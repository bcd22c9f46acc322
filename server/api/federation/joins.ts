/**
 * The resident side of joins (spec: server-server joins-v2.yaml; joins-v1.yaml's make_join):
 * GET /v1/make_join/{roomId}/{userId}?ver=… and PUT /v2/send_join/{roomId}/{eventId}, for every
 * room version including restricted joins. X-Matrix authenticated; the logic is in
 * services/federation/resident.ts.
 */
import type { Request, RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery, repeatedParam } from '../http/validate.ts';
import { federationOrigin } from './auth.ts';
import { isValidEventId, isValidRoomId, isValidUserId } from '../../core/ids.ts';
import { badJson, invalidParam } from '../../errors.ts';
import type { ResidentMembership, ResidentMemberships } from '../../services/federation/resident.ts';

const verQuery = z.object({ ver: repeatedParam.optional() });

export interface MembershipApiDeps {
  fed: RequestHandler;
  resident: ResidentMemberships;
}

/** The path parameters of make_* and send_* (shared by joins, leaves and knocks). */
export function membershipParams(req: Request, second: 'userId' | 'eventId'): { roomId: string; id: string } {
  const roomId = String(req.params.roomId);
  const id = String(req.params[second]);
  if (!isValidRoomId(roomId)) throw invalidParam('Invalid room id');
  if (second === 'userId' ? !isValidUserId(id) : !isValidEventId(id)) throw invalidParam(`Invalid ${second === 'userId' ? 'user' : 'event'} id`);
  return { roomId, id };
}

/** Registers make_{membership} (GET) and send_{membership} (PUT) for one membership. */
export function registerMembership(r: ApiRouter, deps: MembershipApiDeps, membership: ResidentMembership, sendVersion: 'v1' | 'v2'): void {
  r.route('GET', `/_matrix/federation/v1/make_${membership}/:roomId/:userId`, [
    deps.fed,
    (req, res) => {
      const { roomId, id } = membershipParams(req, 'userId');
      const versions = parseQuery(verQuery, req.query).ver;
      res.json(deps.resident.makeMembership(federationOrigin(req), roomId, id, membership, versions));
    },
  ]);
  r.route('PUT', `/_matrix/federation/${sendVersion}/send_${membership}/:roomId/:eventId`, [
    deps.fed,
    async (req, res) => {
      const { roomId, id } = membershipParams(req, 'eventId');
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw badJson('The body must be an event');
      res.json(await deps.resident.sendMembership(federationOrigin(req), roomId, id, req.body, membership));
    },
  ]);
}

export function register(r: ApiRouter, deps: MembershipApiDeps): void {
  registerMembership(r, deps, 'join', 'v2');
}
