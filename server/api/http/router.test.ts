// ApiRouter's own dispatch keeps Express's routing rules: case-insensitive paths, an optional
// trailing slash, decoded parameters (a malformed escape is 400), HEAD served by GET, OPTIONS on
// a known path answered with Allow, routes tried in order with next() falling through, errors
// and rejected promises reaching the error handler, and 404/405 for unknown paths and methods.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { MatrixError } from '../../errors.ts';
import { createLogger } from '../../logger.ts';
import { errorHandler, unrecognizedEndpoint } from './errors.ts';
import { ApiRouter } from './router.ts';

async function serve(mount: (r: ApiRouter) => void): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  const routes = new ApiRouter(1 << 20);
  mount(routes);
  app.use(routes.router);
  app.use(unrecognizedEndpoint(routes));
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('ApiRouter dispatch follows Express routing rules', async (t) => {
  const seen: string[] = [];
  const s = await serve((r) => {
    r.route('GET', '/_matrix/client/v3/rooms/:roomId/state/:type{/:stateKey}', [(req, res) => void res.json({ params: req.params })]);
    r.route('PUT', '/_matrix/client/v3/rooms/:roomId/send/:type/:txnId', [(req, res) => void res.json({ params: req.params, body: req.body })]);
    // Two routes on one path: the first passes, the second answers.
    r.route('GET', '/_matrix/client/v3/fallthrough/here', [(_req, _res, next) => (seen.push('first'), next())]);
    r.route('GET', '/_matrix/client/v3/fallthrough/here', [(_req, res) => (seen.push('second'), void res.json({ ok: true }))]);
    r.route('GET', '/_matrix/client/v3/throws/sync', [() => {
      throw new MatrixError(403, 'M_FORBIDDEN', 'no');
    }]);
    r.route('GET', '/_matrix/client/v3/throws/async', [async () => {
      await Promise.resolve();
      throw new MatrixError(409, 'M_CONFLICT', 'later');
    }]);
    r.route('GET', '/outside/:any', [(req, res) => void res.json({ rest: req.params.any })]);
  });
  t.after(() => s.close());
  const call = (method: string, path: string, body?: unknown) =>
    fetch(s.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const expectError = async (method: string, path: string, status: number, errcode: string) => {
    const res = await call(method, path);
    assert.equal(res.status, status);
    assert.equal((await res.json()).errcode, errcode);
  };

  const state = await call('GET', '/_matrix/client/v3/rooms/!a%3Aexample.org/state/m.room.name');
  assert.equal(state.status, 200);
  assert.deepEqual((await state.json()).params, { roomId: '!a:example.org', type: 'm.room.name' }, 'parameters decoded; optional one absent');
  const keyed = await call('GET', '/_MATRIX/client/V3/rooms/!a:x/state/m.room.member/%40u%3Ax/');
  assert.equal(keyed.status, 200, 'case-insensitive, trailing slash allowed');
  assert.deepEqual((await keyed.json()).params, { roomId: '!a:x', type: 'm.room.member', stateKey: '@u:x' });

  const sent = await call('PUT', '/_matrix/client/v3/rooms/!r:x/send/m.room.message/t1', { body: 'hi' });
  assert.equal(sent.status, 200);
  assert.deepEqual(await sent.json(), { params: { roomId: '!r:x', type: 'm.room.message', txnId: 't1' }, body: { body: 'hi' } });

  const bad = await call('GET', '/_matrix/client/v3/rooms/%E0%A4%A/state/x');
  assert.equal(bad.status, 400, 'a malformed escape is the client error Express makes it');

  const head = await call('HEAD', '/_matrix/client/v3/rooms/!a:x/state/m.room.name');
  assert.equal(head.status, 200, 'HEAD is served by the GET route');

  const options = await call('OPTIONS', '/_matrix/client/v3/rooms/!a:x/send/m.room.message/t2');
  assert.equal(options.status, 200);
  assert.equal(options.headers.get('allow'), 'PUT');
  const optionsGet = await call('OPTIONS', '/_matrix/client/v3/rooms/!a:x/state/m.room.name');
  assert.equal(optionsGet.headers.get('allow'), 'GET, HEAD');

  const through = await call('GET', '/_matrix/client/v3/fallthrough/here');
  assert.equal(through.status, 200);
  assert.deepEqual(seen, ['first', 'second']);

  await expectError('GET', '/_matrix/client/v3/throws/sync', 403, 'M_FORBIDDEN');
  await expectError('GET', '/_matrix/client/v3/throws/async', 409, 'M_CONFLICT');

  const rest = await call('GET', '/outside/thing');
  assert.deepEqual(await rest.json(), { rest: 'thing' }, 'routes outside any bucket');

  await expectError('DELETE', '/_matrix/client/v3/rooms/!a:x/send/m.room.message/t3', 405, 'M_UNRECOGNIZED');
  await expectError('GET', '/_matrix/client/v3/rooms/!a:x/nothing', 404, 'M_UNRECOGNIZED');
});
