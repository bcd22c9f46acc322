// The request log (createApp's first middleware): at debug, one line per request with method,
// path without its access token, status and duration; at any other level, nothing, and the
// level is read per request, so changing it takes effect at once.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../logger.ts';
import { createApp } from './app.ts';

test('requests are logged at debug only, without access tokens', async (t) => {
  const lines: string[] = [];
  const log = createLogger('info', (line) => lines.push(line));
  const { app } = createApp({ log, maxJsonBodyBytes: 1 << 16, mount: (r) => r.client('GET', '/ping', [(_req, res) => void res.json({})]) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/client/v3/ping?access_token=secret-token`;

  assert.equal((await fetch(url)).status, 200);
  assert.deepEqual(lines, [], 'info: no request lines');

  log.level = 'debug';
  assert.equal((await fetch(url)).status, 200);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /GET \/_matrix\/client\/v3\/ping\?access_token=<redacted> 200 [0-9.]+ms/);
  assert.doesNotMatch(lines[0]!, /secret-token/);
});
