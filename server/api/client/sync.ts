/**
 * GET /sync (client-server sync.yaml): query parsing and the client-disconnect abort; the
 * service (services/sync/sync.ts) does the rest. `filter` is inline JSON (starts with `{`) or the
 * id of a filter uploaded with POST /user/{userId}/filter.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseQuery } from '../http/validate.ts';
import type { FilterService } from '../../services/sync/filters.ts';
import type { SyncService } from '../../services/sync/sync.ts';

export interface SyncApiDeps {
  auth: RequestHandler;
  sync: SyncService;
  filters: Pick<FilterService, 'resolve'>;
}

/** Longest a client may make the server hold a /sync open. */
export const MAX_SYNC_TIMEOUT_MS = 5 * 60_000;

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const syncQuery = z.object({
  filter: z.string().optional(),
  since: z.string().optional(),
  full_state: bool.optional(),
  set_presence: z.enum(['offline', 'online', 'unavailable']).optional(),
  timeout: z
    .string()
    .regex(/^\d{1,15}$/, 'timeout must be a non-negative integer')
    .transform(Number)
    .optional(),
  use_state_after: bool.optional(),
});

export function register(r: ApiRouter, deps: SyncApiDeps): void {
  r.client('GET', '/sync', [
    deps.auth,
    async (req, res) => {
      const q = parseQuery(syncQuery, req.query);
      const viewer = requester(req);
      const filter = deps.filters.resolve(viewer.userId, q.filter);
      const abort = new AbortController();
      const onClose = (): void => abort.abort();
      res.on('close', onClose);
      try {
        const body = await deps.sync.sync(
          { userId: viewer.userId, deviceId: viewer.deviceId },
          {
            since: q.since,
            timeoutMs: Math.min(q.timeout ?? 0, MAX_SYNC_TIMEOUT_MS),
            fullState: q.full_state ?? false,
            filter,
            setPresence: q.set_presence,
            useStateAfter: q.use_state_after ?? false,
          },
          abort.signal,
        );
        if (!abort.signal.aborted) res.json(body);
      } finally {
        res.off('close', onClose);
      }
    },
  ]);
}
