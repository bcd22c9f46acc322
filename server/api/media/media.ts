/**
 * The content repository over HTTP (spec: client-server authed-content-repo.yaml and
 * content-repo.yaml): the authenticated /_matrix/client/v1/media/* endpoints current clients use,
 * and the legacy /_matrix/media/{v3,r0}/* ones. Uploads stream (no JSON body parsing). Hearth froze
 * unauthenticated media from its first day (spec v1.11, "Client Behaviour"), so the legacy
 * download and thumbnail endpoints answer 404 M_NOT_FOUND; upload, create, config and
 * preview_url stay where the spec keeps them. Every file response carries the headers that stop
 * an uploaded HTML or SVG file from running script, and honours single byte ranges.
 */
import type { Request, RequestHandler, Response } from 'express';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { z } from '../../validation/schema.ts';
import type { ApiRouter } from '../http/router.ts';
import { requester } from '../http/auth.ts';
import { parseQuery } from '../http/validate.ts';
import { notFound } from '../../errors.ts';
import type { MediaFile, MediaRepository } from '../../services/media/store.ts';
import type { UrlPreviewer } from '../../services/media/url-preview.ts';
import { contentDisposition, MEDIA_SECURITY_HEADERS, servedContentType } from '../../services/media/content-types.ts';

export interface MediaApiDeps {
  auth: RequestHandler;
  media: Pick<MediaRepository, 'config' | 'upload' | 'create' | 'uploadTo' | 'download' | 'thumbnail'>;
  previews: Pick<UrlPreviewer, 'preview'>;
}

const LEGACY = ['v3', 'r0'].map((v) => `/_matrix/media/${v}`);
const legacy = (path: string): string[] => LEGACY.map((p) => p + path);

const uploadQuery = z.object({ filename: z.string().max(1024).optional() });
const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const downloadQuery = z.object({
  timeout_ms: z.coerce.number().int().min(0).optional(),
  allow_remote: boolParam.optional(),
});
const thumbnailQuery = downloadQuery.extend({
  width: z.coerce.number().int().min(1).max(100_000),
  height: z.coerce.number().int().min(1).max(100_000),
  method: z.enum(['crop', 'scale']).default('scale'),
  animated: boolParam.optional(),
});
const previewQuery = z.object({ url: z.string().min(1), ts: z.coerce.number().int().optional() });

function uploadInput(req: Request) {
  const { filename } = parseQuery(uploadQuery, req.query);
  const length = req.headers['content-length'];
  return {
    body: req,
    contentType: req.headers['content-type'] ?? null,
    filename: filename || null,
    contentLength: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
  };
}

const mediaKey = (req: Request) => ({ origin: String(req.params.serverName), mediaId: String(req.params.mediaId) });

/**
 * Streams a media file: safe headers, inline only for safe types, and one byte range when asked
 * (206, or 416 with `Content-Range: bytes *\/size`). Several ranges are answered with the whole file,
 * which RFC 9110 allows.
 */
export async function sendMediaFile(req: Request, res: Response, file: MediaFile, filename?: string): Promise<void> {
  let fh;
  try {
    fh = await open(file.path, 'r');
  } catch {
    throw notFound('Media not found');
  }
  try {
    res.setHeader('Content-Type', servedContentType(file.contentType));
    res.setHeader('Content-Disposition', contentDisposition(file.contentType, filename ?? file.filename));
    for (const [k, v] of Object.entries(MEDIA_SECURITY_HEADERS)) res.setHeader(k, v);
    // mxc:// content never changes.
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    res.setHeader('Accept-Ranges', 'bytes');
    let start = 0;
    let end = file.size - 1;
    const ranges = req.headers.range !== undefined ? req.range(file.size, { combine: true }) : undefined;
    if (ranges === -1) {
      res.status(416).setHeader('Content-Range', `bytes */${file.size}`);
      res.end();
      return;
    }
    if (Array.isArray(ranges) && ranges.length === 1 && ranges.type === 'bytes') {
      start = ranges[0]!.start;
      end = ranges[0]!.end;
      res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
    }
    res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
    if (file.size === 0 || req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(fh.createReadStream({ start, end, autoClose: false }), res);
  } finally {
    await fh.close();
  }
}

export function register(r: ApiRouter, deps: MediaApiDeps): void {
  const { auth, media } = deps;

  // ---- Uploads (content-repo.yaml; still served under /_matrix/media) ----
  r.route('POST', legacy('/upload'), [
    auth,
    async (req, res) => {
      res.json({ content_uri: await media.upload(requester(req).userId, uploadInput(req)) });
    },
  ], { rawBody: true });
  r.route('PUT', legacy('/upload/:serverName/:mediaId'), [
    auth,
    async (req, res) => {
      await media.uploadTo(requester(req).userId, mediaKey(req), uploadInput(req));
      res.json({});
    },
  ], { rawBody: true });
  r.route('POST', '/_matrix/media/v1/create', [
    auth,
    async (req, res) => {
      res.json(await media.create(requester(req).userId));
    },
  ]);

  // ---- Authenticated media (authed-content-repo.yaml) and the legacy config/preview_url ----
  const config: RequestHandler[] = [auth, (_req, res) => void res.json(media.config())];
  r.client('GET', '/media/config', config, { versions: ['v1'] });
  r.route('GET', legacy('/config'), config);

  const preview: RequestHandler[] = [
    auth,
    async (req, res) => {
      const { url } = parseQuery(previewQuery, req.query);
      res.json(await deps.previews.preview(url));
    },
  ];
  r.client('GET', '/media/preview_url', preview, { versions: ['v1'] });
  r.route('GET', legacy('/preview_url'), preview);

  r.client('GET', '/media/download/:serverName/:mediaId{/:fileName}', [
    auth,
    async (req, res) => {
      const q = parseQuery(downloadQuery, req.query);
      const file = await media.download(mediaKey(req), { timeoutMs: q.timeout_ms, allowRemote: true });
      await sendMediaFile(req, res, file, req.params.fileName === undefined ? undefined : String(req.params.fileName));
    },
  ], { versions: ['v1'] });
  r.client('GET', '/media/thumbnail/:serverName/:mediaId', [
    auth,
    async (req, res) => {
      const q = parseQuery(thumbnailQuery, req.query);
      const spec = { width: q.width, height: q.height, method: q.method, animated: q.animated ?? false };
      await sendMediaFile(req, res, await media.thumbnail(mediaKey(req), spec, { timeoutMs: q.timeout_ms, allowRemote: true }));
    },
  ], { versions: ['v1'] });

  // ---- Frozen legacy downloads ----
  const frozen: RequestHandler = () => {
    throw notFound('Unauthenticated media is not served here: use /_matrix/client/v1/media/');
  };
  r.route('GET', [...legacy('/download/:serverName/:mediaId{/:fileName}'), ...legacy('/thumbnail/:serverName/:mediaId')], [frozen]);
}
