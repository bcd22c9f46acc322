/**
 * Messages (spec: client-server room_send.yaml, room_state.yaml (PUT), redaction.yaml,
 * message_pagination.yaml, room_event_by_timestamp.yaml). Send and redact are idempotent per
 * (user, device, txnId): a repeat returns the first event_id.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { JsonObject } from '../../core/events/types.ts';
import { MatrixError } from '../../errors.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import { eventIdParam, intParam, param, parseFilterParam, roomIdParam, viewerOf, type RoomsApiDeps } from './rooms.ts';

/** Any JSON object: event content is the client's own. */
const contentSchema = z.record(z.string(), z.unknown());
const redactSchema = z.object({ reason: z.string().optional() });
const messagesQuery = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  dir: z.enum(['b', 'f']).optional(),
  limit: intParam.optional(),
  filter: z.string().optional(),
});
const timestampQuery = z.object({
  ts: z.string().regex(/^\d{1,15}$/, 'must be a timestamp in milliseconds').transform(Number),
  dir: z.enum(['b', 'f']),
});

function eventType(v: string): string {
  if (v.length === 0 || Buffer.byteLength(v) > 255) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid event type');
  return v;
}

function txnId(v: string): string {
  if (v.length === 0 || v.length > 255) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid transaction id');
  return v;
}

export function register(r: ApiRouter, deps: RoomsApiDeps): void {
  const { rooms } = deps;

  r.client('PUT', '/rooms/:roomId/send/:eventType/:txnId', [
    deps.auth,
    async (req, res) => {
      const content = parseBody(contentSchema, req.body) as JsonObject;
      const eventId = await rooms.timeline.send(viewerOf(req), roomIdParam(req), eventType(param(req, 'eventType')), content, txnId(param(req, 'txnId')));
      res.json({ event_id: eventId });
    },
  ]);

  const putState: RequestHandler = async (req, res) => {
    const content = parseBody(contentSchema, req.body) as JsonObject;
    const eventId = await rooms.state.putState(viewerOf(req), roomIdParam(req), eventType(param(req, 'eventType')), param(req, 'stateKey'), content);
    res.json({ event_id: eventId });
  };
  r.client('PUT', '/rooms/:roomId/state/:eventType', [deps.auth, putState]);
  r.client('PUT', '/rooms/:roomId/state/:eventType/:stateKey', [deps.auth, putState]);

  r.client('PUT', '/rooms/:roomId/redact/:eventId/:txnId', [
    deps.auth,
    async (req, res) => {
      const body = parseBody(redactSchema, req.body ?? {});
      const eventId = await rooms.timeline.redact(viewerOf(req), roomIdParam(req), eventIdParam(req), txnId(param(req, 'txnId')), body.reason);
      res.json({ event_id: eventId });
    },
  ]);

  r.client('GET', '/rooms/:roomId/messages', [
    deps.auth,
    async (req, res) => {
      const q = parseQuery(messagesQuery, req.query);
      const filter = parseFilterParam(q.filter);
      const limit = Math.min(q.limit ?? filter?.limit ?? 10, 1000);
      // Synapse's default when dir is absent; the spec requires clients to send it.
      const dir = q.dir ?? 'f';
      let out;
      try {
        out = await rooms.timeline.paginate(viewerOf(req), roomIdParam(req), { from: q.from, to: q.to, dir, limit, filter });
      } catch (e) {
        if (e instanceof MatrixError && e.errcode === 'M_INVALID_PARAM') throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid from or to token');
        throw e;
      }
      res.json(out);
    },
  ]);

  r.client('GET', '/rooms/:roomId/timestamp_to_event', [
    deps.auth,
    (req, res) => {
      const q = parseQuery(timestampQuery, req.query);
      res.json(rooms.timeline.timestampToEvent(viewerOf(req), roomIdParam(req), q.ts, q.dir));
    },
  ], { versions: ['v1'] });
}
