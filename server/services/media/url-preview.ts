/**
 * URL previews (spec: client-server authed-content-repo.yaml GET /media/preview_url): fetch the
 * page through safeFetch (SSRF guard), read its OpenGraph tags (falling back to <title> and the
 * description meta tag), store the page's image (or the URL itself when it is an image) as media
 * so clients get an mxc:// URI, and cache the answer per URL. Off unless the admin turns on
 * urlPreviewEnabled; the fetches happen on behalf of users, so every limit is strict.
 */
import { loadSharp } from './sharp.ts';
import { MatrixError } from '../../errors.ts';
import type { MediaRecord, MediaStore } from '../../storage/media.ts';
import { essence } from './content-types.ts';
import { safeFetch, type SafeFetchOptions, type SafeFetchResult } from './safe-fetch.ts';

export interface UrlPreviewSettings {
  urlPreviewEnabled?: boolean;
  urlPreviewIpRangeAllowlist?: string[];
}

export interface UrlPreviewDeps {
  store: Pick<MediaStore, 'getPreview' | 'putPreview'>;
  settings: () => UrlPreviewSettings;
  /** Stores bytes as a new local media item owned by the server. */
  storeImage(body: Buffer, contentType: string): Promise<MediaRecord>;
  serverName: string;
  now: () => number;
}

/** A cached preview is reused for an hour (Synapse keeps them about as long). */
export const PREVIEW_CACHE_MS = 3600_000;
const PAGE_LIMITS = { maxBytes: 2 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 5, userAgent: 'Hearth URL preview (Matrix homeserver)' };
const IMAGE_MAX_BYTES = 10 * 1024 * 1024;
const MAX_URL_LENGTH = 2048;
const MAX_TEXT = 1000;

export class UrlPreviewer {
  private readonly inflight = new Map<string, Promise<Record<string, unknown>>>();

  constructor(private readonly deps: UrlPreviewDeps) {}

  async preview(rawUrl: string): Promise<Record<string, unknown>> {
    // Off means absent, as on Synapse with url_preview_enabled: false.
    if (!this.deps.settings().urlPreviewEnabled) throw new MatrixError(404, 'M_UNRECOGNIZED', 'URL previews are disabled on this server');
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid URL');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || rawUrl.length > MAX_URL_LENGTH) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Only http and https URLs can be previewed');
    }
    url.hash = '';
    const key = url.toString();
    const cached = this.deps.store.getPreview(key);
    if (cached && this.deps.now() - cached.fetchedTs < PREVIEW_CACHE_MS) return cached.og;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.build(key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async build(url: string): Promise<Record<string, unknown>> {
    const fetchOpts: SafeFetchOptions = { ...PAGE_LIMITS, allowlist: this.deps.settings().urlPreviewIpRangeAllowlist ?? [] };
    const page = await safeFetch(url, { ...fetchOpts, maxBytes: IMAGE_MAX_BYTES });
    if (page.status < 200 || page.status >= 300) throw new MatrixError(502, 'M_UNKNOWN', `The page answered HTTP ${page.status}`);
    let og: Record<string, unknown> = {};
    const type = essence(page.contentType);
    if (type.startsWith('image/')) {
      og = await this.imageFields(page);
    } else if (type === 'text/html' || type === 'application/xhtml+xml') {
      if (page.body.length > PAGE_LIMITS.maxBytes) throw new MatrixError(502, 'M_TOO_LARGE', 'The page is too large to preview');
      const meta = parseHtmlMeta(decodeHtml(page.body, page.contentType));
      og = { ...meta };
      delete og['og:image'];
      const image = meta['og:image'];
      if (typeof image === 'string') {
        try {
          const res = await safeFetch(new URL(image, page.url).toString(), { ...fetchOpts, maxBytes: IMAGE_MAX_BYTES });
          if (res.status >= 200 && res.status < 300 && essence(res.contentType).startsWith('image/')) Object.assign(og, await this.imageFields(res));
        } catch {
          // A page whose image cannot be fetched still gets a text preview.
        }
      }
    }
    await this.deps.store.putPreview(url, this.deps.now(), og);
    return og;
  }

  private async imageFields(res: SafeFetchResult): Promise<Record<string, unknown>> {
    const contentType = essence(res.contentType);
    const rec = await this.deps.storeImage(res.body, contentType);
    const fields: Record<string, unknown> = {
      'og:image': `mxc://${this.deps.serverName}/${rec.mediaId}`,
      'og:image:type': contentType,
      'matrix:image:size': rec.size,
    };
    try {
      const sharp = await loadSharp();
      const meta = await sharp(res.body, { limitInputPixels: 100_000_000 }).metadata();
      if (meta.format !== 'svg') {
        fields['og:image:width'] = meta.width;
        fields['og:image:height'] = meta.pageHeight ?? meta.height;
      }
    } catch {
      // Not decodable: the image is still offered, without dimensions.
    }
    return fields;
  }
}

/** Decodes a page with the charset its Content-Type or <meta charset> names (UTF-8 by default). */
function decodeHtml(body: Buffer, contentType: string | null): string {
  const fromHeader = /charset=["']?([\w-]+)/i.exec(contentType ?? '')?.[1];
  const fromMeta = /<meta[^>]+charset=["']?([\w-]+)/i.exec(body.subarray(0, 4096).toString('latin1'))?.[1];
  try {
    return new TextDecoder(fromHeader ?? fromMeta ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    out[m[1]!.toLowerCase()] = decodeEntities(m[3] ?? m[4] ?? m[5] ?? '');
  }
  return out;
}

const clean = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);

/** OpenGraph `og:*` meta tags, with og:title from <title> and og:description from the description
 * meta tag when the page has none. Only the document's head is read. */
export function parseHtmlMeta(html: string): Record<string, string> {
  const headEnd = html.search(/<\/head\s*>|<body[\s>]/i);
  const head = headEnd >= 0 ? html.slice(0, headEnd) : html.slice(0, 200_000);
  const og: Record<string, string> = {};
  let description: string | undefined;
  for (const m of head.matchAll(/<meta\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    const name = (a.property ?? a.name ?? '').toLowerCase();
    const content = a.content;
    if (content === undefined) continue;
    if (name.startsWith('og:') && !(name in og)) og[name] = clean(content);
    else if (name === 'description') description ??= clean(content);
  }
  if (!og['og:title']) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(head)?.[1];
    if (title) og['og:title'] = clean(decodeEntities(title));
  }
  if (!og['og:description'] && description) og['og:description'] = description;
  return og;
}
