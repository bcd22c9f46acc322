/**
 * fetch for Hearth's admin API: JSON in and out, and the server's `{errcode, error}` turned into
 * an ApiError the pages can show. Same origin only (the CSP allows nothing else).
 */
import type { MatrixErrorBody } from '../../../server/api/admin/hearth/types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A request that never reached the server, or came back unreadable. */
export const NETWORK_ERROR = 'HEARTH_NETWORK';

export interface RequestOptions {
  body?: unknown;
  token?: string;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined || method === 'POST' || method === 'PUT') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body ?? {});
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, NETWORK_ERROR, 'Hearth is not answering. Is the server still running?');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, NETWORK_ERROR, `Unexpected answer from the server (HTTP ${res.status}).`);
  }
  if (!res.ok) {
    const e = json as Partial<MatrixErrorBody>;
    throw new ApiError(res.status, e.errcode ?? 'M_UNKNOWN', e.error ?? `Request failed (HTTP ${res.status}).`);
  }
  return json as T;
}

/** A file download that needs the session (an <a href> cannot send the Authorization header). */
export async function requestBlob(path: string, token: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, NETWORK_ERROR, 'Hearth is not answering. Is the server still running?');
  }
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as Partial<MatrixErrorBody>;
    throw new ApiError(res.status, e.errcode ?? 'M_UNKNOWN', e.error ?? `Download failed (HTTP ${res.status}).`);
  }
  return res.blob();
}
