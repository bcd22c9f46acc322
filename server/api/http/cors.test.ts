// CORS headers go on the Matrix APIs and their discovery documents (client-server spec, "Web
// Browser Clients"), matched as Express matched the mount paths they replaced: case-insensitively
// and by whole segments. The admin GUI's pages get none.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../logger.ts';
import { createApp } from './app.ts';
import { wantsCors } from './cors.ts';

test('which paths get CORS headers', () => {
  for (const path of ['/_matrix', '/_matrix/', '/_matrix/client/versions', '/_MATRIX/client/v3/sync', '/.well-known/matrix/client', '/.Well-Known/Matrix/server', '/_synapse/admin/v1/users']) {
    assert.equal(wantsCors(path), true, path);
  }
  for (const path of ['/', '/_matrixx', '/_matrix-x/y', '/.well-known/matrixfoo', '/.well-known/other', '/_synapsex', '/admin', '/_hearth/admin/v1/setup']) {
    assert.equal(wantsCors(path), false, path);
  }
});

test('answers carry CORS headers on Matrix paths, and preflight requests get 204', async (t) => {
  const { app } = createApp({
    log: createLogger('warn', () => undefined),
    maxJsonBodyBytes: 1 << 16,
    mount: (r) => {
      r.client('GET', '/ping', [(_req, res) => void res.json({})]);
      r.route('GET', '/elsewhere', [(_req, res) => void res.json({})]);
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const matrix = await fetch(`${base}/_matrix/client/v3/ping`);
  assert.equal(matrix.status, 200);
  assert.equal(matrix.headers.get('access-control-allow-origin'), '*');
  assert.match(matrix.headers.get('access-control-allow-headers') ?? '', /Authorization/);

  const unknown = await fetch(`${base}/_matrix/client/v3/nothing-here`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('access-control-allow-origin'), '*', 'errors carry them too');

  const preflight = await fetch(`${base}/_matrix/client/v3/ping`, { method: 'OPTIONS' });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, POST, PUT, DELETE, OPTIONS');

  const elsewhere = await fetch(`${base}/elsewhere`);
  assert.equal(elsewhere.status, 200);
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
});
