/**
 * CORS headers the client-server spec requires on every response ("Web Browser Clients"),
 * and the answer to preflight OPTIONS requests.
 */
import type { RequestHandler } from 'express';

/** Where the headers go: the Matrix APIs and their discovery documents, not the admin GUI. */
const CORS_MOUNTS = ['/_matrix', '/.well-known/matrix', '/_synapse'] as const;

/** Whether `path` is one of those mount points or below one, compared as Express compares a mount
 * path: case-insensitively, whole segments only. */
export function wantsCors(path: string): boolean {
  for (const mount of CORS_MOUNTS) {
    if (path.length < mount.length || (path.length > mount.length && path[mount.length] !== '/')) continue;
    const start = path.slice(0, mount.length);
    if (start === mount || start.toLowerCase() === mount) return true;
  }
  return false;
}

const cors: RequestHandler = (req, res, next) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'X-Requested-With, Content-Type, Authorization');
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
};

/** Mounted at the root: a path check here costs less than an Express mount, which rewrites
 * `req.url` for each request it passes and restores it afterwards. */
export const corsForMatrix: RequestHandler = (req, res, next) => (wantsCors(req.path) ? cors(req, res, next) : next());
