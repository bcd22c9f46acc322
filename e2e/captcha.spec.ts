/**
 * CAPTCHA registration through the reCAPTCHA fallback page in Chromium (spec: client-server
 * "Fallback" for m.login.recaptcha), against a fake siteverify server on 127.0.0.1. Google's
 * widget script cannot be fetched here, so the browser is given a stand-in at its address that
 * does what the real widget does once a person passes it: put the response token in the form's
 * `g-recaptcha-response` field. Everything else is real: the page, its CSP, the form post, the
 * server's siteverify call and the client's retry of /register with only the session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, matrix, screenshot, startHearth, watchConsole, type Hearth } from './fixtures/hearth.ts';

const SECRET = 'e2e-recaptcha-secret';
const GOOD = 'token-from-the-widget';
const C = '/_matrix/client/v3';
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

let siteverify: Server;
let hearth: Hearth;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  siteverify = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const form = new URLSearchParams(body);
    const success = form.get('secret') === SECRET && form.get('response') === GOOD;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ success, 'error-codes': success ? [] : ['invalid-input-response'] }));
  });
  await new Promise<void>((r) => siteverify.listen(0, '127.0.0.1', r));
  const port = (siteverify.address() as { port: number }).port;
  hearth = await startHearth({
    serverName: 'localhost',
    registration: 'captcha',
    recaptchaSiteKey: 'e2e-site-key',
    recaptchaSecretKey: SECRET,
    recaptchaSiteverifyUrl: `http://127.0.0.1:${port}/recaptcha/api/siteverify`,
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hearth?.close();
  if (siteverify) await new Promise((r) => siteverify.close(r));
});

test('registration through the CAPTCHA fallback page in the browser', { skip }, async () => {
  const body = { username: 'grandpa', password: 'a long family password' };
  const first = await matrix(hearth.clientUrl, 'POST', `${C}/register`, body);
  assert.equal(first.status, 401);
  assert.deepEqual(first.json.flows, [{ stages: ['m.login.recaptcha'] }]);
  const session: string = first.json.session;

  const page = await browser!.newPage();
  const problems = watchConsole(page);
  let widgetRequested = false;
  await page.route('https://www.google.com/recaptcha/api.js**', (route) => {
    widgetRequested = true;
    return route.fulfill({
      contentType: 'text/javascript',
      body: `for (const el of document.querySelectorAll('.g-recaptcha')) {
  const t = document.createElement('textarea');
  t.name = 'g-recaptcha-response'; t.hidden = true; t.value = ${JSON.stringify(GOOD)};
  el.appendChild(t); el.dataset.ready = el.dataset.sitekey;
}`,
    });
  });
  await page.goto(`${hearth.clientUrl}${C}/auth/m.login.recaptcha/fallback/web?session=${encodeURIComponent(session)}`);
  // The stand-in ran under the page's CSP (its script tag carries the nonce) and saw the site key.
  await page.locator('.g-recaptcha[data-ready="e2e-site-key"]').waitFor({ state: 'attached' });
  assert.ok(widgetRequested);
  await screenshot(page, '50-captcha-fallback');

  // Not yet passed: /register still asks for the stage.
  const early = await matrix(hearth.clientUrl, 'POST', `${C}/register`, { ...body, auth: { session } });
  assert.equal(early.status, 401);

  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Thank you' }).waitFor();
  await screenshot(page, '51-captcha-done');

  // As a client does once the fallback page says it is done: retry with just the session.
  const done = await matrix(hearth.clientUrl, 'POST', `${C}/register`, { ...body, auth: { session } });
  assert.equal(done.status, 200, JSON.stringify(done.json));
  assert.equal(done.json.user_id, '@grandpa:localhost');
  const login = await matrix(hearth.clientUrl, 'POST', `${C}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'grandpa' }, password: body.password });
  assert.equal(login.status, 200);
  assert.deepEqual(problems, []);
  await page.close();
});
