/**
 * Events and state for other servers (spec: server-server events.yaml (/event, /state,
 * /state_ids, /get_missing_events, /timestamp_to_event), event_auth.yaml, backfill.yaml).
 * X-Matrix authenticated; the requesting server must be in the room and sees events through
 * history visibility for servers (services/federation/receiver/history.ts).
 */
import type { Request, RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { federationOrigin } from './auth.ts';
import { isValidEventId, isValidRoomId } from '../../core/ids.ts';
import { invalidParam } from '../../errors.ts';
import type { FederationHistory } from '../../services/federation/receiver/history.ts';

const eventQuery = z.object({ event_id: z.string().min(1) });
const backfillQuery = z.object({
  v: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  limit: z.coerce.number().int().min(1),
});
const missingBody = z.object({
  earliest_events: z.array(z.string()),
  latest_events: z.array(z.string()).min(1),
  limit: z.number().int().min(1).optional(),
  min_depth: z.number().int().min(0).optional(),
});
const timestampQuery = z.object({ ts: z.coerce.number().int().min(0), dir: z.enum(['f', 'b']) });

export interface EventsApiDeps {
  fed: RequestHandler;
  history: FederationHistory;
}

function roomParam(req: Request): string {
  const roomId = String(req.params.roomId);
  if (!isValidRoomId(roomId)) throw invalidParam('Invalid room id');
  return roomId;
}

function eventParam(value: unknown): string {
  const id = String(value);
  if (!isValidEventId(id)) throw invalidParam('Invalid event id');
  return id;
}

export function register(r: ApiRouter, deps: EventsApiDeps): void {
  const { fed, history } = deps;
  r.route('GET', '/_matrix/federation/v1/event/:eventId', [
    fed,
    (req, res) => void res.json(history.event(federationOrigin(req), eventParam(req.params.eventId))),
  ]);
  r.route('GET', '/_matrix/federation/v1/state/:roomId', [
    fed,
    (req, res) => {
      const q = parseQuery(eventQuery, req.query);
      res.json(history.state(federationOrigin(req), roomParam(req), eventParam(q.event_id)));
    },
  ]);
  r.route('GET', '/_matrix/federation/v1/state_ids/:roomId', [
    fed,
    (req, res) => {
      const q = parseQuery(eventQuery, req.query);
      res.json(history.stateIds(federationOrigin(req), roomParam(req), eventParam(q.event_id)));
    },
  ]);
  r.route('GET', '/_matrix/federation/v1/event_auth/:roomId/:eventId', [
    fed,
    (req, res) => void res.json(history.eventAuth(federationOrigin(req), roomParam(req), eventParam(req.params.eventId))),
  ]);
  r.route('GET', '/_matrix/federation/v1/backfill/:roomId', [
    fed,
    (req, res) => {
      const q = parseQuery(backfillQuery, req.query);
      const from = (typeof q.v === 'string' ? [q.v] : q.v).map(eventParam);
      res.json(history.backfill(federationOrigin(req), roomParam(req), from, q.limit));
    },
  ]);
  r.route('POST', '/_matrix/federation/v1/get_missing_events/:roomId', [
    fed,
    (req, res) => {
      const b = parseBody(missingBody, req.body);
      res.json(
        history.missingEvents(federationOrigin(req), roomParam(req), {
          earliest_events: b.earliest_events,
          latest_events: b.latest_events,
          limit: b.limit ?? 10,
          min_depth: b.min_depth ?? 0,
        }),
      );
    },
  ]);
  r.route('GET', '/_matrix/federation/v1/timestamp_to_event/:roomId', [
    fed,
    (req, res) => {
      const q = parseQuery(timestampQuery, req.query);
      res.json(history.timestampToEvent(federationOrigin(req), roomParam(req), q.ts, q.dir));
    },
  ]);
}
