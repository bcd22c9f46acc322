/**
 * The m.login.recaptcha stage (services/users/captcha.ts) and its fallback page
 * (api/client/captcha-fallback.ts) against a fake siteverify server on 127.0.0.1: registration
 * through the fallback page completes; a direct `{type, response}` works; wrong answers are
 * refused; the admin endpoints (api/admin/hearth/captcha.ts) store keys and test the secret.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startTestServer, type TestServer } from './harness.ts';
import { createApp } from '../api/http/app.ts';
import { createLogger } from '../logger.ts';
import * as captchaApi from '../api/admin/hearth/captcha.ts';
import { CaptchaService, type CaptchaSettings } from '../services/users/captcha.ts';

const C = '/_matrix/client/v3';
const FALLBACK = `${C}/auth/m.login.recaptcha/fallback/web`;
const SECRET = 'sekrit';
const GOOD = 'good-token';

describe('reCAPTCHA registration', () => {
  let fake: Server;
  let siteverifyUrl: string;
  const seen: URLSearchParams[] = [];
  let srv: TestServer;

  before(async () => {
    fake = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      seen.push(form);
      const codes = form.get('secret') !== SECRET ? ['invalid-input-secret'] : form.get('response') !== GOOD ? ['invalid-input-response'] : [];
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ success: codes.length === 0, 'error-codes': codes, hostname: 'localhost' }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    siteverifyUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}/recaptcha/api/siteverify`;
    srv = await startTestServer({ registration: 'captcha', recaptchaSiteKey: 'site-key-1', recaptchaSecretKey: SECRET, recaptchaSiteverifyUrl: siteverifyUrl });
  });
  after(async () => {
    await srv?.close();
    await new Promise((r) => fake.close(r));
  });

  const postForm = (session: string, fields: Record<string, string>): Promise<Response> =>
    fetch(`${srv.url}${FALLBACK}?session=${encodeURIComponent(session)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session, ...fields }),
    });

  it('registration through the fallback page completes', async () => {
    const first = await srv.request('POST', `${C}/register`, { body: { username: 'carol', password: 'a long password' } });
    assert.equal(first.status, 401);
    assert.deepEqual(first.json.flows, [{ stages: ['m.login.recaptcha'] }]);
    assert.deepEqual(first.json.params, { 'm.login.recaptcha': { public_key: 'site-key-1' } });
    const session = first.json.session as string;

    const page = await fetch(`${srv.url}${FALLBACK}?session=${encodeURIComponent(session)}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'nonce-/);
    const html = await page.text();
    assert.match(html, /data-sitekey="site-key-1"/);
    assert.match(html, new RegExp(`name="session" value="${session}"`));

    // A wrong answer keeps the form up with a message, and the session is not completed.
    const wrong = await postForm(session, { 'g-recaptcha-response': 'bad-token' });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /role="alert"/);
    const notYet = await srv.request('POST', `${C}/register`, { body: { username: 'carol', password: 'a long password', auth: { session } } });
    assert.equal(notYet.status, 401);
    assert.deepEqual(notYet.json.completed, []);

    const ok = await postForm(session, { 'g-recaptcha-response': GOOD });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /postMessage\("authDone", "\*"\)/);
    const check = seen.at(-1)!;
    assert.equal(check.get('secret'), SECRET);
    assert.equal(check.get('response'), GOOD);

    // Spec: the client retries with just the session id.
    const done = await srv.request('POST', `${C}/register`, { body: { username: 'carol', password: 'a long password', auth: { session } } });
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.equal(done.json.user_id, '@carol:localhost');
    const login = await srv.request('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password: 'a long password' } });
    assert.equal(login.status, 200);
  });

  it('a client with its own widget sends the response directly; wrong ones are refused', async () => {
    const first = await srv.request('POST', `${C}/register`, { body: { username: 'dave', password: 'a long password' } });
    const session = first.json.session as string;
    const bad = await srv.request('POST', `${C}/register`, { body: { username: 'dave', password: 'a long password', auth: { type: 'm.login.recaptcha', response: 'nope', session } } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.errcode, 'M_UNAUTHORIZED');
    assert.equal(bad.json.session, session);
    const missing = await srv.request('POST', `${C}/register`, { body: { username: 'dave', password: 'a long password', auth: { type: 'm.login.recaptcha', session } } });
    assert.equal(missing.status, 401);
    const good = await srv.request('POST', `${C}/register`, { body: { username: 'dave', password: 'a long password', auth: { type: 'm.login.recaptcha', response: GOOD, session } } });
    assert.equal(good.status, 200);
  });

  it('the fallback page handles unknown sessions and bad input without crashing', async () => {
    const unknown = await postForm('no-such-session', { 'g-recaptcha-response': GOOD });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /expired/);
    assert.equal((await fetch(`${srv.url}${FALLBACK}`)).status, 400);
    const empty = await postForm('x', {});
    assert.equal(empty.status, 400);
    const huge = await fetch(`${srv.url}${FALLBACK}?session=x`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(20_000, 'x') });
    assert.equal(huge.status, 413);
  });

  it('admin endpoints: keys are stored, the secret is write-only, and the test button asks siteverify', async () => {
    const s: CaptchaSettings = { recaptchaSiteverifyUrl: siteverifyUrl };
    const captcha = new CaptchaService({ settings: () => s });
    const tokens = { resolve: (t: string) => ({ userId: `@${t}:localhost`, deviceId: 'D', isAdmin: t === 'admin', accessTokenId: 1 }) };
    const { app } = createApp({
      log: createLogger('error', () => {}),
      maxJsonBodyBytes: 65536,
      mount: (r) => captchaApi.register(r, { captcha, effective: () => s, settings: { update: async (p) => Object.assign(s, p) } }, tokens),
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/_hearth/api/v1/captcha`;
    const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    try {
      assert.equal((await call('GET', '', 'someone')).status, 403);
      assert.deepEqual((await call('POST', '/test', 'admin')).json.ok, false);
      const put = await call('PUT', '', 'admin', { siteKey: 'site', secretKey: 'wrong' });
      assert.deepEqual(put.json, { siteKey: 'site', secretKeySet: true, siteverifyUrl });
      const wrong = await call('POST', '/test', 'admin');
      assert.deepEqual([wrong.json.ok, wrong.json.message], [false, 'reCAPTCHA does not accept this secret key.']);
      await call('PUT', '', 'admin', { secretKey: SECRET });
      assert.equal((await call('POST', '/test', 'admin')).json.ok, true);
      assert.equal((await call('PUT', '', 'admin', { siteverifyUrl: 'not a url' })).json.errcode, 'M_BAD_JSON');
    } finally {
      server.close();
    }
  });
});
