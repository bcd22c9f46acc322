/**
 * Synapse's media admin API (Synapse docs admin_api/media_admin_api.md and user_admin_api.md
 * "User media"): v1/room/{roomId}/media, v1/users/{userId}/media (list, delete),
 * v1/media/{serverName}/{mediaId} (delete), v1/media/{serverName}/delete (by age and size),
 * v1/media/quarantine|unquarantine/{serverName}/{mediaId} and v1/purge_media_cache. Admins only.
 * The room listing reads room events; the rest calls the media repository (services/media/).
 */
import type { Request, RequestHandler } from 'express';
import { z } from '../../../validation/schema.ts';
import { MatrixError, notFound } from '../../../errors.ts';
import type { ListUserMediaOptions, MediaRecord, MediaRepository } from '../../../services/media/store.ts';
import { requester, requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseQuery } from '../../http/validate.ts';
import { boolParam, dirParam, limitParam, nextToken, offsetParam } from './params.ts';

/** What the admin API needs of the media repository. */
export type MediaAdmin = Pick<
  MediaRepository,
  'listUserMedia' | 'deleteMedia' | 'deleteUserMedia' | 'deleteLocalMediaBefore' | 'purgeRemoteMedia' | 'quarantine'
>;

export interface MediaAdminApiDeps {
  tokens: TokenResolver;
  serverName: string;
  /** mxc URIs used in a room (404 for an unknown room). */
  roomMedia(roomId: string): { local: string[]; remote: string[] };
  media: MediaAdmin;
}

const A = '/_synapse/admin/v1';

/** Synapse's order_by names → the media store's. */
const ORDERS: Record<string, ListUserMediaOptions['orderBy']> = {
  media_id: 'media_id',
  upload_name: 'upload_name',
  created_ts: 'created_ts',
  last_access_ts: 'last_access_ts',
  media_length: 'size',
  media_type: 'content_type',
};

const userMediaQuery = z.object({
  from: offsetParam,
  limit: limitParam(),
  order_by: z.enum(Object.keys(ORDERS) as [string, ...string[]]).optional(),
  dir: dirParam.optional(),
});
const deleteBeforeQuery = z.object({
  before_ts: z.coerce.number().int().min(0),
  size_gt: z.coerce.number().int().min(0).default(0),
  // Accepted, not honoured yet: avatars in use are not spared (Synapse's default keeps them).
  keep_profiles: boolParam.optional(),
});
const purgeCacheQuery = z.object({ before_ts: z.coerce.number().int().min(0) });

function shape(m: MediaRecord): Record<string, unknown> {
  return {
    created_ts: m.createdTs,
    last_access_ts: m.lastAccessTs,
    media_id: m.mediaId,
    media_length: m.size ?? 0,
    media_type: m.contentType,
    quarantined_by: m.quarantinedBy,
    safe_from_quarantine: m.safeFromQuarantine,
    upload_name: m.uploadName,
  };
}

function userMediaOptions(req: Request): ListUserMediaOptions {
  const q = parseQuery(userMediaQuery, req.query);
  // Neither given: newest first, as Synapse lists them.
  const dir = q.dir ?? (q.order_by === undefined ? 'b' : 'f');
  return { from: q.from, limit: q.limit, orderBy: ORDERS[q.order_by ?? 'created_ts']!, dir };
}

export function register(r: ApiRouter, deps: MediaAdminApiDeps): void {
  const admin = requireAdmin(deps.tokens);
  const local = (req: Request): void => {
    if (String(req.params.serverName) !== deps.serverName) throw new MatrixError(400, 'M_UNKNOWN', 'Can only delete local media');
  };
  const { media } = deps;
  const route = (method: 'GET' | 'POST' | 'DELETE', path: string, handler: RequestHandler): void => r.route(method, `${A}${path}`, [admin, handler]);

  route('GET', '/room/:roomId/media', (req, res) => void res.json(deps.roomMedia(String(req.params.roomId))));

  route('GET', '/users/:userId/media', (req, res) => {
    const opts = userMediaOptions(req);
    const page = media.listUserMedia(String(req.params.userId), opts);
    const body: Record<string, unknown> = { media: page.media.map(shape), total: page.total };
    const next = nextToken(opts.from, page.media.length, page.total);
    if (next !== undefined) body.next_token = next;
    res.json(body);
  });

  route('DELETE', '/users/:userId/media', async (req, res) => {
    const deleted = await media.deleteUserMedia(String(req.params.userId));
    res.json({ deleted_media: deleted, total: deleted.length });
  });

  route('POST', '/media/:serverName/delete', async (req, res) => {
    local(req);
    const q = parseQuery(deleteBeforeQuery, req.query);
    const deleted = await media.deleteLocalMediaBefore(q.before_ts, q.size_gt);
    res.json({ deleted_media: deleted, total: deleted.length });
  });

  route('DELETE', '/media/:serverName/:mediaId', async (req, res) => {
    local(req);
    const mediaId = String(req.params.mediaId);
    if (!(await media.deleteMedia({ origin: deps.serverName, mediaId }))) throw notFound('Unknown media');
    res.json({ deleted_media: [mediaId], total: 1 });
  });

  route('POST', '/media/quarantine/:serverName/:mediaId', async (req, res) => {
    await media.quarantine({ origin: String(req.params.serverName), mediaId: String(req.params.mediaId) }, requester(req).userId);
    res.json({});
  });

  route('POST', '/media/unquarantine/:serverName/:mediaId', async (req, res) => {
    await media.quarantine({ origin: String(req.params.serverName), mediaId: String(req.params.mediaId) }, null);
    res.json({});
  });

  route('POST', '/purge_media_cache', async (req, res) => {
    const q = parseQuery(purgeCacheQuery, req.query);
    res.json({ deleted: await media.purgeRemoteMedia(q.before_ts) });
  });
}
