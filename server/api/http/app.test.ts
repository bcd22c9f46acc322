// The client API app's own dispatch and its lean res.json, checked against Express itself: an
// Express app with the same handlers must put the same status, headers and bytes on the wire,
// and every way a handler can fail must end in the one error middleware.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import express, { type RequestHandler } from 'express';
import { MatrixError } from '../../errors.ts';
import { createLogger } from '../../logger.ts';
import { apiServerClasses, createApp } from './app.ts';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `classes`: the server as homeserver.ts makes it, whose requests have Express's methods from
 * birth; without, as `app.listen()` makes it, and the app switches their prototypes. */
async function listen(t: TestContext, app: express.Express, classes = false): Promise<string> {
  const server: Server = classes ? createServer(apiServerClasses, app).listen(0, '127.0.0.1') : app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Handlers answering in each way `res.json` has to get right. */
const answers: Record<string, RequestHandler> = {
  '/object': (_req, res) => void res.json({ event_id: '$abc', n: 1, nested: { list: [true, null] } }),
  '/unicode': (_req, res) => void res.json({ body: 'Grüße, 日本 🔥' }),
  '/null': (_req, res) => void res.json(null),
  '/number': (_req, res) => void res.json(42),
  '/string': (_req, res) => void res.json('text'),
  '/undefined': (_req, res) => void res.json(undefined),
  '/large': (_req, res) => void res.json({ events: Array.from({ length: 200 }, (_, i) => ({ i, body: 'x'.repeat(20) })) }),
  '/status-201': (_req, res) => void res.status(201).json({ created: true }),
  '/status-204': (_req, res) => void res.status(204).json({ ignored: true }),
  '/status-205': (_req, res) => void res.status(205).json({ ignored: true }),
  '/preset-type': (_req, res) => void res.type('application/json').json({ a: 1 }),
  '/preset-etag': (_req, res) => void res.set('ETag', '"v1"').json({ a: 1 }),
};

test('res.json puts the same status, headers and bytes on the wire as Express', async (t) => {
  const { app } = createApp({
    log: createLogger('warn', () => undefined),
    maxJsonBodyBytes: 1 << 16,
    mount: (r) => {
      for (const [path, h] of Object.entries(answers)) r.route('GET', path, [h]);
    },
  });
  const plain = express();
  plain.disable('x-powered-by');
  plain.set('etag', false);
  for (const [path, h] of Object.entries(answers)) plain.get(path, h);
  const ours = await listen(t, app, true);
  const oursPlain = await listen(t, app);
  const theirs = await listen(t, plain);

  const requests: [string, Record<string, string>][] = [
    ['GET', {}],
    ['HEAD', {}],
    ['GET', { 'If-None-Match': '*' }],
    ['GET', { 'If-None-Match': '"v1"' }],
    ['GET', { 'If-Modified-Since': new Date(Date.now() + 60_000).toUTCString() }],
  ];
  for (const path of Object.keys(answers)) {
    for (const [method, headers] of requests) {
      const b = await raw(theirs, method, path, headers);
      for (const base of [ours, oursPlain]) {
        const a = await raw(base, method, path, headers);
        const what = `${base === ours ? 'ApiRequest' : 'app.listen'}: ${method} ${path} ${JSON.stringify(headers)}`;
        assert.equal(a.status, b.status, what);
        assert.equal(a.body, b.body, what);
        for (const h of ['content-type', 'content-length', 'etag', 'transfer-encoding']) assert.equal(a.headers[h], b.headers[h], `${what}: ${h}`);
      }
    }
  }
});

test('every way a handler fails ends in a Matrix error, and the next request is served', async (t) => {
  const logged: string[] = [];
  const { app } = createApp({
    log: createLogger('warn', (line) => logged.push(line)),
    maxJsonBodyBytes: 1 << 16,
    mount: (r) => {
      r.client('GET', '/throws', [() => {
        throw new MatrixError(403, 'M_FORBIDDEN', 'no');
      }]);
      r.client('GET', '/rejects', [async () => {
        throw new MatrixError(404, 'M_NOT_FOUND', 'gone');
      }]);
      r.client('GET', '/rejects-nothing', [() => Promise.reject(undefined)]);
      r.client('GET', '/next-error', [(_req, _res, next) => next(new MatrixError(400, 'M_INVALID_PARAM', 'bad'))]);
      r.client('GET', '/bug', [() => {
        throw new TypeError('a bug');
      }]);
      r.client('GET', '/after-headers', [(_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"partial":');
        throw new Error('failed half way');
      }]);
      r.client('GET', '/ok', [(_req, res) => void res.json({ ok: true })]);
    },
  });
  const base = await listen(t, app, true);
  const get = async (path: string): Promise<{ status: number; json: any }> => {
    const r = await fetch(`${base}/_matrix/client/v3${path}`);
    return { status: r.status, json: await r.json() };
  };
  assert.deepEqual(await get('/throws'), { status: 403, json: { errcode: 'M_FORBIDDEN', error: 'no' } });
  assert.deepEqual(await get('/rejects'), { status: 404, json: { errcode: 'M_NOT_FOUND', error: 'gone' } });
  assert.deepEqual(await get('/next-error'), { status: 400, json: { errcode: 'M_INVALID_PARAM', error: 'bad' } });
  const nothing = await get('/rejects-nothing');
  assert.equal(nothing.status, 500);
  assert.equal(nothing.json.errcode, 'M_UNKNOWN');
  const bug = await get('/bug');
  assert.equal(bug.status, 500);
  assert.equal(bug.json.errcode, 'M_UNKNOWN');
  assert.doesNotMatch(bug.json.error, /a bug/, 'the stack stays in the log');
  assert.ok(logged.some((l) => l.includes('a bug')));
  await assert.rejects(fetch(`${base}/_matrix/client/v3/after-headers`).then((r) => r.text()), 'the half-sent answer is cut off');
  assert.deepEqual(await get('/ok'), { status: 200, json: { ok: true } });
  assert.equal((await get('/unknown')).json.errcode, 'M_UNRECOGNIZED');
});
