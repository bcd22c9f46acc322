/**
 * Serves the admin GUI (renderer/dist, built by Vite) at /_hearth/admin/ on the admin listener,
 * never on the client origin. Every response carries a strict Content-Security-Policy: the bundle
 * loads nothing from elsewhere, so it works offline and an injected script has nowhere to go.
 * Unknown paths under /_hearth/admin/ get index.html, so the GUI's own routes survive a reload.
 */
import express, { type Express, type RequestHandler } from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const GUI_PREFIX = '/_hearth/admin/';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/** Headers for every response of the admin listener. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  next();
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hearth</title></head>
<body><h1>The Hearth admin pages are not built</h1><p>Run <code>npm run build:renderer</code>, then reload this page.</p></body></html>`;

export function mountGui(app: Express, opts: { dir: string }): void {
  const dir = resolve(opts.dir);
  const index = join(dir, 'index.html');

  app.get('/', (_req, res) => res.redirect(302, GUI_PREFIX));
  // Exact match only: Express's non-strict routing would also match the prefix with its slash.
  app.use((req, res, next) => (req.method === 'GET' && req.originalUrl.split('?')[0] === '/_hearth/admin' ? res.redirect(301, GUI_PREFIX) : next()));
  app.use(
    GUI_PREFIX,
    express.static(dir, {
      index: false,
      fallthrough: true,
      redirect: false,
      setHeaders(res, path) {
        // Vite names built assets by content hash, so they never change; index.html always may.
        if (path.includes(`${join(dir, 'assets')}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        else res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  app.get(`${GUI_PREFIX}{*rest}`, (req, res) => {
    // A missing asset is a 404, not the page (a stale tab asking for an old bundle).
    if (/^\/_hearth\/admin\/assets\//.test(req.path)) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
