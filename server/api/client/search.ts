/**
 * Server-side search (spec: client-server search.yaml): POST /search with the `room_events`
 * category. The body is validated here; the search itself is services/rooms/search.ts. A request
 * without room_events gets an empty `search_categories`.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import type { SearchService } from '../../services/rooms/search.ts';

export interface SearchApiDeps {
  auth: RequestHandler;
  search: Pick<SearchService, 'search' | 'flushNow'>;
}

const stringList = z.array(z.string());

// RoomEventFilter (filter.yaml); fields search does not use are accepted and ignored.
const roomEventFilter = z.object({
  limit: z.number().int().optional(),
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
  types: stringList.optional(),
  not_types: stringList.optional(),
  contains_url: z.boolean().optional(),
});

const roomEventsCriteria = z.object({
  search_term: z.string().max(10_000),
  keys: z.array(z.enum(['content.body', 'content.name', 'content.topic'])).optional(),
  filter: roomEventFilter.optional(),
  order_by: z.enum(['recent', 'rank']).optional(),
  event_context: z
    .object({
      before_limit: z.number().int().min(0).optional(),
      after_limit: z.number().int().min(0).optional(),
      include_profile: z.boolean().optional(),
    })
    .optional(),
  include_state: z.boolean().optional(),
  groupings: z.object({ group_by: z.array(z.object({ key: z.enum(['room_id', 'sender']) })).optional() }).optional(),
});

const searchBody = z.object({
  search_categories: z.object({ room_events: roomEventsCriteria.optional() }),
});

const searchQuery = z.object({ next_batch: z.string().optional() });

export function register(r: ApiRouter, deps: SearchApiDeps): void {
  r.client('POST', '/search', [
    deps.auth,
    async (req, res) => {
      const { next_batch } = parseQuery(searchQuery, req.query);
      const body = parseBody(searchBody, req.body);
      const me = requester(req);
      const criteria = body.search_categories.room_events;
      if (!criteria) {
        res.json({ search_categories: {} });
        return;
      }
      await deps.search.flushNow();
      const roomEvents = deps.search.search({ userId: me.userId, deviceId: me.deviceId }, criteria, next_batch);
      res.json({ search_categories: { room_events: roomEvents } });
    },
  ]);
}
