/**
 * Serving our media to other servers (spec: server-server content_repository.yaml, v1.11):
 * GET /_matrix/federation/v1/media/download/{mediaId} and /thumbnail/{mediaId}, each answered as
 * multipart/mixed with two parts: a JSON metadata object (always `{}` today) and the bytes with
 * their Content-Type and Content-Disposition. Only local media is served (never the remote cache:
 * servers ask the origin). The X-Matrix check is the injected `federationAuth` middleware.
 */
import type { RequestHandler, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { parseQuery } from '../http/validate.ts';
import { notFound } from '../../errors.ts';
import type { MediaFile, MediaRepository } from '../../services/media/store.ts';
import { contentDisposition, MEDIA_SECURITY_HEADERS, servedContentType } from '../../services/media/content-types.ts';

export interface FederationMediaDeps {
  /** Verifies the X-Matrix Authorization header (api/federation/auth.ts). */
  federationAuth: RequestHandler;
  serverName: string;
  media: Pick<MediaRepository, 'download' | 'thumbnail'>;
}

const timeoutQuery = z.object({ timeout_ms: z.coerce.number().int().min(0).optional() });
const thumbnailQuery = timeoutQuery.extend({
  width: z.coerce.number().int().min(1).max(100_000),
  height: z.coerce.number().int().min(1).max(100_000),
  method: z.enum(['crop', 'scale']).default('scale'),
  animated: z.enum(['true', 'false']).optional(),
});

async function sendMultipart(res: Response, file: MediaFile): Promise<void> {
  let fh;
  try {
    fh = await open(file.path, 'r');
  } catch {
    throw notFound('Media not found');
  }
  try {
    const boundary = randomBytes(16).toString('hex');
    const head =
      `--${boundary}\r\nContent-Type: application/json\r\n\r\n{}\r\n` +
      `--${boundary}\r\nContent-Type: ${servedContentType(file.contentType)}\r\n` +
      `Content-Disposition: ${contentDisposition(file.contentType, file.filename)}\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    res.setHeader('Content-Type', `multipart/mixed; boundary=${boundary}`);
    for (const [k, v] of Object.entries(MEDIA_SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Length', String(Buffer.byteLength(head) + file.size + Buffer.byteLength(tail)));
    res.write(head);
    if (file.size > 0) await pipeline(fh.createReadStream({ autoClose: false }), res, { end: false });
    res.end(tail);
  } finally {
    await fh.close();
  }
}

export function register(r: ApiRouter, deps: FederationMediaDeps): void {
  const local = (mediaId: string) => ({ origin: deps.serverName, mediaId });
  r.route('GET', '/_matrix/federation/v1/media/download/:mediaId', [
    deps.federationAuth,
    async (req, res) => {
      const q = parseQuery(timeoutQuery, req.query);
      await sendMultipart(res, await deps.media.download(local(String(req.params.mediaId)), { timeoutMs: q.timeout_ms, allowRemote: false }));
    },
  ]);
  r.route('GET', '/_matrix/federation/v1/media/thumbnail/:mediaId', [
    deps.federationAuth,
    async (req, res) => {
      const q = parseQuery(thumbnailQuery, req.query);
      const spec = { width: q.width, height: q.height, method: q.method, animated: q.animated === 'true' };
      await sendMultipart(res, await deps.media.thumbnail(local(String(req.params.mediaId)), spec, { timeoutMs: q.timeout_ms, allowRemote: false }));
    },
  ]);
}
