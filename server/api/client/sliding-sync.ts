/**
 * Simplified sliding sync (MSC4186; no spec yaml yet): `POST
 * /_matrix/client/unstable/org.matrix.simplified_msc3575/sync`, advertised in /versions as
 * `org.matrix.simplified_msc3575`. Validates the body and query, and normalises the two wire
 * forms the MSC has had (Synapse's and matrix-rust-sdk's: `ranges`, `required_state` as
 * `[[type, state_key]]` with `$LAZY`, `is_invite`, query `pos`/`timeout`; the MSC's later: `range`,
 * `{include, exclude, lazy_members}`, `is_invited`, `pos`/`timeout` in the body). The service
 * (services/sync/sliding-sync.ts) does the rest.
 */
import type { RequestHandler } from 'express';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseBody, parseQuery } from '../http/validate.ts';
import type { SlidingSyncService } from '../../services/sync/sliding-sync.ts';
import {
  LAZY,
  WILDCARD,
  type ExtensionsRequest,
  type ListConfig,
  type RequiredState,
  type RoomConfig,
  type ScopedExtension,
  type StatePair,
} from '../../services/sync/sliding-sync-config.ts';
import { MAX_SYNC_TIMEOUT_MS } from './sync.ts';

export interface SlidingSyncApiDeps {
  auth: RequestHandler;
  slidingSync: SlidingSyncService;
}

const MEMBER = 'm.room.member';
const count = z.number().int().min(0).max(2 ** 31);
const digits = z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer').transform(Number);
const presence = z.enum(['offline', 'online', 'unavailable']);

const pairs = z.array(z.tuple([z.string(), z.string()])).max(1000);
const element = z.object({ type: z.string().optional(), state_key: z.string().optional() });
const elements = z.array(element).max(1000).optional();
const toPair = (e: z.infer<typeof element>): StatePair => [e.type ?? WILDCARD, e.state_key ?? WILDCARD];

const requiredState = z
  .union([pairs, z.object({ include: elements, exclude: elements, lazy_members: z.boolean().optional() })])
  .transform((rs): RequiredState => {
    if (!Array.isArray(rs)) {
      return { include: (rs.include ?? []).map(toPair), exclude: (rs.exclude ?? []).map(toPair), lazyMembers: rs.lazy_members ?? false };
    }
    const lazy = (p: readonly [string, string]): boolean => p[0] === MEMBER && p[1] === LAZY;
    return { include: rs.filter((p) => !lazy(p)), exclude: [], lazyMembers: rs.some(lazy) };
  });

const roomConfig = {
  timeline_limit: count,
  required_state: requiredState,
};

const roomTypes = z.array(z.string().nullable()).max(100).optional();
const strings = z.array(z.string()).max(1000).optional();

const filters = z.object({
  is_dm: z.boolean().optional(),
  is_encrypted: z.boolean().optional(),
  is_invite: z.boolean().optional(),
  is_invited: z.boolean().optional(),
  room_types: roomTypes,
  not_room_types: roomTypes,
  spaces: strings,
  tags: strings,
  not_tags: strings,
});

const range = z.tuple([count, count]);

const subscription = z.object(roomConfig).transform((s): RoomConfig => ({ timelineLimit: s.timeline_limit, requiredState: s.required_state }));

const list = z
  .object({
    ...roomConfig,
    ranges: z.array(range).max(100).optional(),
    range: range.optional(),
    filters: filters.optional(),
  })
  .transform(
    (l): ListConfig => ({
      timelineLimit: l.timeline_limit,
      requiredState: l.required_state,
      ranges: l.ranges ?? (l.range ? [l.range] : null),
      filters: {
        isDm: l.filters?.is_dm,
        isEncrypted: l.filters?.is_encrypted,
        isInvite: l.filters?.is_invited ?? l.filters?.is_invite,
        roomTypes: l.filters?.room_types,
        notRoomTypes: l.filters?.not_room_types,
        spaces: l.filters?.spaces,
        tags: l.filters?.tags,
        notTags: l.filters?.not_tags,
      },
    }),
  );

const scoped = z
  .object({ enabled: z.boolean().optional(), lists: strings, rooms: strings })
  .transform((x): ScopedExtension => ({ enabled: x.enabled ?? false, lists: x.lists, rooms: x.rooms }))
  .optional();

const body = z.object({
  conn_id: z.string().max(255).optional(),
  pos: z.string().max(255).optional(),
  timeout: count.optional(),
  set_presence: presence.optional(),
  lists: z
    .record(z.string().max(255), list)
    .refine((l) => Object.keys(l).length <= 100, 'at most 100 lists')
    .optional(),
  room_subscriptions: z.record(z.string().max(255), subscription).optional(),
  extensions: z
    .object({
      to_device: z.object({ enabled: z.boolean().optional(), since: digits.optional(), limit: count.optional() }).optional(),
      e2ee: z.object({ enabled: z.boolean().optional() }).optional(),
      account_data: scoped,
      receipts: scoped,
      typing: scoped,
    })
    .transform(
      (e): ExtensionsRequest => ({
        toDevice: e.to_device && { enabled: e.to_device.enabled ?? false, since: e.to_device.since, limit: e.to_device.limit },
        e2ee: e.e2ee && { enabled: e.e2ee.enabled ?? false },
        accountData: e.account_data,
        receipts: e.receipts,
        typing: e.typing,
      }),
    )
    .optional(),
});

const query = z.object({
  pos: z.string().max(255).optional(),
  timeout: digits.optional(),
  set_presence: presence.optional(),
});

export function register(r: ApiRouter, deps: SlidingSyncApiDeps): void {
  r.client(
    'POST',
    '/org.matrix.simplified_msc3575/sync',
    [
      deps.auth,
      async (req, res) => {
        const q = parseQuery(query, req.query);
        const b = parseBody(body, req.body);
        const viewer = requester(req);
        const abort = new AbortController();
        const onClose = (): void => abort.abort();
        res.on('close', onClose);
        try {
          const result = await deps.slidingSync.sync(
            { userId: viewer.userId, deviceId: viewer.deviceId },
            {
              connId: b.conn_id ?? '',
              pos: q.pos ?? b.pos,
              timeoutMs: Math.min(q.timeout ?? b.timeout ?? 0, MAX_SYNC_TIMEOUT_MS),
              setPresence: q.set_presence ?? b.set_presence,
              lists: b.lists ?? {},
              roomSubscriptions: b.room_subscriptions ?? {},
              extensions: b.extensions ?? {},
            },
            abort.signal,
          );
          if (!abort.signal.aborted) res.json(result);
        } finally {
          res.off('close', onClose);
        }
      },
    ],
    { versions: ['unstable'] },
  );
}
