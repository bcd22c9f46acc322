/**
 * Storage care for the admin GUI (issue 4, "Storage care"), under /_hearth/api/v1/storage,
 * admins only: GET the current sizes and their hourly history; POST purge-history (a room's old
 * history: everything but state before a time, or all but the latest N events), purge-remote-media
 * (cached media from other servers not used for N days) and compact. Purges end with a compaction,
 * so the disk space really comes back; each answer says how much.
 */
import { z } from '../../../validation/schema.ts';
import { MatrixError } from '../../../errors.ts';
import type { HistoryCutoff } from '../../../services/admin/storage-care.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody, parseQuery } from '../../http/validate.ts';
import type { AdminApiDeps } from './deps.ts';

const P = '/_hearth/api/v1/storage';

const historyQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
const purgeHistoryBody = z
  .object({
    roomId: z.string().startsWith('!', 'must be a room id'),
    /** Events sent before this time (ms since the epoch) go. */
    beforeTs: z.number().int().min(0).optional(),
    /** All but the latest N timeline events go. */
    keepLatest: z.number().int().min(0).optional(),
    /** Also events this server's users sent (default true: at home nearly all are). */
    deleteLocalEvents: z.boolean().default(true),
  })
  .refine((b) => (b.beforeTs === undefined) !== (b.keepLatest === undefined), 'give exactly one of beforeTs and keepLatest');
const purgeMediaBody = z.object({ olderThanDays: z.number().min(0).max(36_500) });
const compactBody = z.object({});

export function register(r: ApiRouter, deps: Pick<AdminApiDeps, 'storageCare' | 'effective'>, tokens: TokenResolver): void {
  const admin = requireAdmin(tokens);
  const care = () => {
    const c = deps.storageCare?.();
    if (!c) throw new MatrixError(503, 'M_UNKNOWN', 'Storage care is not available until the server is running');
    return c;
  };

  r.route('GET', P, [
    admin,
    async (req, res) => {
      const q = parseQuery(historyQuery, req.query);
      const c = care();
      const eff = deps.effective();
      res.json({
        current: await c.sizes(),
        history: c.history(q.days),
        remoteMediaRetentionMs: eff.remoteMediaRetentionMs ?? null,
        maxRemoteRoomComplexity: eff.maxRemoteRoomComplexity ?? null,
      });
    },
  ]);

  r.route('POST', `${P}/purge-history`, [
    admin,
    async (req, res) => {
      const b = parseBody(purgeHistoryBody, req.body);
      const cutoff: HistoryCutoff = b.beforeTs !== undefined ? { kind: 'beforeTs', ts: b.beforeTs } : { kind: 'keepLatest', count: b.keepLatest! };
      res.json(await care().purgeHistory(b.roomId, cutoff, { deleteLocalEvents: b.deleteLocalEvents, compact: true }));
    },
  ]);

  r.route('POST', `${P}/purge-remote-media`, [
    admin,
    async (req, res) => {
      const b = parseBody(purgeMediaBody, req.body);
      res.json(await care().purgeRemoteMedia(b.olderThanDays, { compact: true }));
    },
  ]);

  r.route('POST', `${P}/compact`, [
    admin,
    async (req, res) => {
      parseBody(compactBody, req.body);
      res.json(await care().compact());
    },
  ]);
}
