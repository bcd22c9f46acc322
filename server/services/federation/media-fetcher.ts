/**
 * Fetching another server's media (spec: server-server content_repository.yaml, v1.11+): a signed
 * GET of /_matrix/federation/v1/media/download/{mediaId} whose multipart/mixed answer is parsed as
 * it streams (a JSON metadata part, then either the bytes with their Content-Type and
 * Content-Disposition, or a `Location` to fetch with a plain GET through the same connector, so
 * the private-address policy holds for it too). Servers older than v1.11 answer that endpoint with
 * M_UNRECOGNIZED; for them the legacy /_matrix/media/v3/download/{serverName}/{mediaId}
 * (allow_remote=false, allow_redirect=true) is used instead, as Synapse does. The bytes are never
 * held in memory: the RemoteMediaCache streams them to disk within the size limit.
 */
import { Readable } from 'node:stream';
import { MatrixError, notFound } from '../../errors.ts';
import type { RemoteMedia, RemoteMediaFetcher } from '../media/remote.ts';
import { FederationError, fedPath, type FederationClient, type StreamedFederationResponse } from './client.ts';

/** Preamble, metadata part and the media part's headers together may not exceed this. */
const MULTIPART_HEAD_LIMIT = 64 * 1024;
/** Connection to last byte; media can be large, so longer than the JSON requests' minute. */
const DEFAULT_TIMEOUT_MS = 120_000;

export interface FederationMediaFetcherDeps {
  client: Pick<FederationClient, 'requestStream' | 'getUrlStream'>;
  /** The largest media accepted (the upload limit). */
  maxBytes: () => number;
  timeoutMs?: number;
}

export class FederationMediaFetcher implements RemoteMediaFetcher {
  constructor(private readonly deps: FederationMediaFetcherDeps) {}

  async fetch(serverName: string, mediaId: string): Promise<RemoteMedia> {
    const mxc = `mxc://${serverName}/${mediaId}`;
    try {
      try {
        return await this.viaFederation(serverName, mediaId);
      } catch (e) {
        if (!endpointUnknown(e)) throw e;
      }
      return await this.viaLegacy(serverName, mediaId);
    } catch (e) {
      if (isRemoteNotFound(e)) throw notFound(`Remote media ${mxc} not found`);
      if (e instanceof FederationError && e.remote?.errcode === 'M_TOO_LARGE') throw tooLarge();
      if (e instanceof MatrixError && !(e instanceof FederationError)) throw e;
      throw new MatrixError(e instanceof FederationError && e.kind === 'timeout' ? 504 : 502, 'M_UNKNOWN', `Could not fetch ${mxc}: ${(e as Error).message}`);
    }
  }

  private async viaFederation(serverName: string, mediaId: string): Promise<RemoteMedia> {
    const res = await this.deps.client.requestStream(serverName, fedPath`/_matrix/federation/v1/media/download/${mediaId}`, { timeoutMs: this.timeoutMs() });
    const boundary = multipartBoundary(res.headers['content-type']);
    if (res.status !== 200 || boundary === undefined) {
      res.body.destroy();
      throw new FederationError(serverName, 'bad_response', `expected a multipart/mixed answer, got HTTP ${res.status} ${res.headers['content-type'] ?? ''}`);
    }
    const part = await readMultipartMedia(res.body, boundary, this.deps.maxBytes());
    const location = part.headers.get('location');
    if (location === undefined) return remoteMedia(part.headers, part.body);
    part.body.destroy();
    return this.fromUrl(location);
  }

  private async viaLegacy(serverName: string, mediaId: string): Promise<RemoteMedia> {
    const path = fedPath`/_matrix/media/v3/download/${serverName}/${mediaId}`;
    const opts = { timeoutMs: this.timeoutMs(), query: { allow_remote: false, allow_redirect: true } };
    const res = await this.deps.client.requestStream(serverName, path, opts);
    if (res.status >= 300) return this.fromUrl(res.headers.location!); // allow_redirect=true
    return this.fromResponse(res);
  }

  /** A plain GET of where a remote sent us. */
  private async fromUrl(location: string): Promise<RemoteMedia> {
    let url: string;
    try {
      url = new URL(location).toString();
    } catch {
      throw new MatrixError(502, 'M_UNKNOWN', 'The remote server redirected to an invalid URL');
    }
    return this.fromResponse(await this.deps.client.getUrlStream(url, { timeoutMs: this.timeoutMs() }));
  }

  private fromResponse(res: StreamedFederationResponse): RemoteMedia {
    const maxBytes = this.deps.maxBytes();
    const declared = Number(res.headers['content-length']);
    if (declared > maxBytes) {
      res.body.destroy();
      throw tooLarge();
    }
    const headers = new Map<string, string>();
    for (const name of ['content-type', 'content-disposition'] as const) {
      const v = res.headers[name];
      if (typeof v === 'string') headers.set(name, v);
    }
    return remoteMedia(headers, Readable.from(bounded(res.body, maxBytes), { objectMode: false }));
  }

  private timeoutMs(): number {
    return this.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }
}

/** The remote does not know the federation endpoint (a server before v1.11). */
function endpointUnknown(e: unknown): boolean {
  if (!(e instanceof FederationError) || e.kind !== 'remote' || !e.remote) return false;
  const { status, errcode } = e.remote;
  if (errcode === 'M_UNRECOGNIZED') return status === 404 || status === 400 || status === 405;
  // No Matrix error body at all: a proxy or server that does not route the path.
  return errcode === undefined && (status === 404 || status === 405);
}

function isRemoteNotFound(e: unknown): boolean {
  return e instanceof FederationError && e.kind === 'remote' && e.remote?.status === 404;
}

const tooLarge = (): MatrixError => new MatrixError(502, 'M_TOO_LARGE', 'Remote content is too large to serve');
const badMultipart = (why: string): MatrixError => new MatrixError(502, 'M_UNKNOWN', `Invalid multipart media response from the remote server: ${why}`);

function remoteMedia(headers: ReadonlyMap<string, string>, stream: Readable): RemoteMedia {
  const contentType = headers.get('content-type')?.trim().slice(0, 255) || null;
  return { stream, contentType, filename: dispositionFilename(headers.get('content-disposition')) };
}

/** The boundary of a `multipart/mixed` Content-Type (RFC 2046 §5.1.1), or undefined for other types. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/mixed\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * The filename of a Content-Disposition (RFC 6266): `filename*` (RFC 8187, UTF-8) when present
 * and decodable, else `filename`; null when there is none.
 */
export function dispositionFilename(disposition: string | undefined): string | null {
  if (!disposition) return null;
  const extended = /;\s*filename\*\s*=\s*utf-8'[^']*'([^\s;]+)/i.exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!).slice(0, 255) || null;
    } catch {
      // Badly encoded: fall back to the plain form.
    }
  }
  const plain = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/i.exec(disposition);
  if (!plain) return null;
  const name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2]!;
  return name.slice(0, 255) || null;
}

export interface MultipartMedia {
  /** The first part, parsed (always `{}` today). */
  metadata: unknown;
  /** The second part's headers, names lowercased. */
  headers: Map<string, string>;
  /** The second part's bytes as they arrive (empty when the part is a `Location`). */
  body: Readable;
}

/**
 * Reads the two parts of a media download (RFC 2046 multipart/mixed) from a stream: the head
 * (preamble, metadata part, media part headers) is buffered within MULTIPART_HEAD_LIMIT; the
 * media bytes are passed on as they come, holding back only as much as could be the start of the
 * closing delimiter. The body stream fails with M_TOO_LARGE past `maxBytes`, and with a 502 when
 * the answer stops before its closing delimiter (a truncated file is never taken for a whole one).
 */
export async function readMultipartMedia(source: Readable, boundary: string, maxBytes: number): Promise<MultipartMedia> {
  const chunks = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A CRLF in front lets the first delimiter (which may open the body) match like the others.
  let buf: Buffer = Buffer.from('\r\n');
  const more = async (): Promise<void> => {
    if (buf.length > MULTIPART_HEAD_LIMIT) throw badMultipart('headers too large');
    const next = await chunks.next();
    if (next.done) throw badMultipart('truncated');
    buf = Buffer.concat([buf, next.value]);
  };
  const find = async (needle: Buffer | string, from: number): Promise<number> => {
    for (;;) {
      const i = buf.indexOf(needle, from);
      if (i >= 0) return i;
      await more();
    }
  };
  /** Reads a part's delimiter line and headers from `at`; returns them and where the part's content starts. */
  const partHead = async (at: number): Promise<{ headers: Map<string, string>; start: number }> => {
    const d = (await find(delimiter, at)) + delimiter.length;
    const eol = await find('\r\n', d);
    const rest = buf.subarray(d, eol).toString('latin1');
    if (rest.startsWith('--')) throw badMultipart('fewer than two parts');
    if (rest.trim() !== '') throw badMultipart('malformed boundary line');
    const headers = new Map<string, string>();
    // The blank line ending the headers; directly after the boundary line when there are none.
    const end = await find('\r\n\r\n', eol);
    for (const line of buf.subarray(eol + 2, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return { headers, start: end + 4 };
  };
  try {
    const meta = await partHead(0);
    const metaEnd = await find(delimiter, meta.start);
    let metadata: unknown;
    try {
      metadata = JSON.parse(buf.subarray(meta.start, metaEnd).toString('utf8'));
    } catch {
      throw badMultipart('the metadata part is not JSON');
    }
    const media = await partHead(metaEnd);
    const first = buf.subarray(media.start);
    const body = async function* (): AsyncGenerator<Buffer> {
      let pending: Buffer = first;
      try {
        for (;;) {
          const end = pending.indexOf(delimiter);
          // The epilogue after the delimiter is ignored; the connection is let go of.
          if (end >= 0) {
            if (end > 0) yield pending.subarray(0, end);
            return;
          }
          // Everything except a tail that could be the start of the delimiter is media.
          const keep = Math.min(pending.length, delimiter.length - 1);
          if (pending.length > keep) yield pending.subarray(0, pending.length - keep);
          pending = pending.subarray(pending.length - keep);
          const next = await chunks.next();
          if (next.done) throw badMultipart('truncated media part');
          pending = pending.length === 0 ? next.value : Buffer.concat([pending, next.value]);
        }
      } finally {
        source.destroy();
      }
    };
    return { metadata, headers: media.headers, body: Readable.from(bounded(body(), maxBytes), { objectMode: false }) };
  } catch (e) {
    source.destroy();
    throw e instanceof MatrixError ? e : badMultipart((e as Error).message);
  }
}

/** Passes bytes on, failing past `maxBytes`; a failure of the connection becomes a clear 502. */
async function* bounded(source: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      if (chunk.length > 0) yield chunk;
    }
  } catch (e) {
    if (e instanceof MatrixError) throw e;
    throw new MatrixError(502, 'M_UNKNOWN', `The remote server's answer was cut short: ${(e as Error).message}`);
  }
}
