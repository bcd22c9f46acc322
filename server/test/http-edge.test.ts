/** The HTTP edge: versions, well-known, CORS, 404/405, JSON errors and body limits. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer({ maxJsonBodyBytes: 4096, publicBaseUrl: 'https://matrix.example.org' });
});
after(async () => {
  await s.close();
});

test('GET /_matrix/client/versions lists spec versions', async () => {
  const r = await s.request('GET', '/_matrix/client/versions');
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json.versions) && r.json.versions.length > 0);
  assert.ok(r.json.versions.some((v: string) => /^v1\.(1[0-3]?|[1-9])$/.test(v)), 'Element Web needs one of v1.1–v1.13');
  assert.equal(typeof r.json.unstable_features, 'object');
});

test('well-known client discovery announces the public base URL', async () => {
  const r = await s.request('GET', '/.well-known/matrix/client');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { 'm.homeserver': { base_url: 'https://matrix.example.org' } });
});

test('CORS headers on responses and preflight', async () => {
  const r = await s.request('GET', '/_matrix/client/versions');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const pre = await fetch(s.url + '/_matrix/client/v3/login', { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /PUT/);
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
});

test('unknown endpoint → 404 M_UNRECOGNIZED', async () => {
  const r = await s.request('GET', '/_matrix/client/v3/no/such/thing');
  assert.equal(r.status, 404);
  assert.equal(r.json.errcode, 'M_UNRECOGNIZED');
  const other = await s.request('GET', '/elsewhere');
  assert.equal(other.status, 404);
  assert.equal(other.json.errcode, 'M_UNRECOGNIZED');
});

test('known path, wrong method → 405 M_UNRECOGNIZED', async () => {
  const r = await s.request('DELETE', '/_matrix/client/versions');
  assert.equal(r.status, 405);
  assert.equal(r.json.errcode, 'M_UNRECOGNIZED');
});

test('a body that is not JSON → 400 M_NOT_JSON', async () => {
  const r = await s.request('POST', '/_matrix/client/v3/login', { rawBody: '{not json', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.errcode, 'M_NOT_JSON');
});

test('an oversized body → 413 M_TOO_LARGE', async () => {
  const big = JSON.stringify({ type: 'm.login.password', padding: 'x'.repeat(8000) });
  const r = await s.request('POST', '/_matrix/client/v3/login', { rawBody: big, headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 413);
  assert.equal(r.json.errcode, 'M_TOO_LARGE');
});

test('malformed percent-encoding does not crash the server', async () => {
  const r = await s.request('GET', '/_matrix/client/v3/rooms/%E0%A4%A/state');
  assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  const again = await s.request('GET', '/_matrix/client/versions');
  assert.equal(again.status, 200);
});
