/**
 * Which content types a browser may show inline, and the Content-Disposition that follows
 * (spec: client-server "Content repository", security considerations). Anything that could run
 * script in a browser (HTML, SVG, XML, JavaScript, PDF...) is served as an attachment; the list is
 * Synapse's INLINE_CONTENT_TYPES, so clients see the same behaviour on both servers.
 */

const INLINE_CONTENT_TYPES = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

/** The bare media type, lowercased, without parameters. */
export function essence(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isInlineSafe(contentType: string | null | undefined): boolean {
  return INLINE_CONTENT_TYPES.has(essence(contentType));
}

/** The Content-Type to serve: the stored one (octet-stream when absent), with a UTF-8 charset added
 * to text types that lack one so browsers do not guess. */
export function servedContentType(contentType: string | null | undefined): string {
  const t = contentType?.trim() || 'application/octet-stream';
  if (essence(t).startsWith('text/') && !/;\s*charset=/i.test(t)) return `${t}; charset=UTF-8`;
  return t;
}

/** RFC 6266 Content-Disposition: inline only for safe types; the filename in both the plain form
 * (ASCII, quoted) and the RFC 5987 `filename*` form when it has other characters. */
export function contentDisposition(contentType: string | null | undefined, filename: string | null | undefined): string {
  const kind = isInlineSafe(contentType) ? 'inline' : 'attachment';
  if (!filename) return kind;
  const ascii = /^[\x20-\x7e]*$/.test(filename);
  const quoted = filename.replace(/[\\"]/g, '\\$&');
  if (ascii) return `${kind}; filename="${quoted}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename*=utf-8''${encoded}`;
}

/** Headers every media response carries so an uploaded HTML or SVG file cannot run script even if
 * a browser is tricked into rendering it (Synapse's set). */
export const MEDIA_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};
