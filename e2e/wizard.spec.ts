/**
 * The whole first-run wizard in Chromium against a fresh headless Hearth, then the outcome
 * checked through the Matrix API on the client listener: the admin created in the GUI logs in,
 * the registration choice is in force, and the self-signed TLS chosen in the wizard is what the
 * TLS listener serves (it starts on a throwaway certificate). Also: sign out and in again, wrong
 * password, CSP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, matrix, screenshot, servedFingerprint, startHearth, watchConsole, type Hearth } from './fixtures/hearth.ts';
import { testCa } from '../server/test/federation-harness.ts';

const PASSWORD = 'kettle-orchard-lantern-42';
let hearth: Hearth;
let browser: Browser | undefined;

const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

before(async () => {
  if (skip) return;
  // The federation tests' throwaway CA (removed when the process exits).
  const ca = testCa();
  hearth = await startHearth({ federationListen: { host: '127.0.0.1', port: 0 }, tlsCert: ca.certFile, tlsKey: ca.keyFile });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hearth?.close();
});

async function openAdmin(page: Page, path = ''): Promise<void> {
  await page.goto(`${hearth.adminUrl}/_hearth/admin/${path}`);
}

test('first run: the wizard sets up the server, and the admin can log in over the Matrix API', { skip }, async (t) => {
  if (!hearth.adminUrl) {
    t.skip('the admin listener is not wired into homeserver.ts yet');
    return;
  }
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = watchConsole(page);

  const res = await page.goto(`${hearth.adminUrl}/_hearth/admin/`);
  assert.match(res!.headers()['content-security-policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/);

  // 1. What Hearth is.
  await page.getByRole('heading', { name: 'Welcome to Hearth' }).waitFor();
  await screenshot(page, '01-welcome');
  await page.getByRole('button', { name: 'Get started' }).click();

  // 2. Server name: validation, then a good name.
  await page.getByRole('heading', { name: /server’s name/ }).waitFor();
  const name = page.getByLabel('Server name');
  await name.fill('not a name');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('A server name cannot contain spaces.').waitFor();
  await screenshot(page, '02-server-name-invalid');
  await name.fill('smith.family');
  await page.getByText(/Addresses will look like/).waitFor();
  await screenshot(page, '02-server-name');
  await page.getByRole('button', { name: 'Continue' }).click();

  // 3. First admin, with the strength meter; keyboard only (Enter submits).
  await page.getByRole('heading', { name: 'Create your admin account' }).waitFor();
  await page.getByLabel('Username').fill('mum');
  await page.getByLabel('Password', { exact: true }).fill('password1');
  await page.getByText('Too weak').waitFor();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByText(/Strong|Good/).first().waitFor();
  await page.getByLabel('Password again').fill(PASSWORD + 'x');
  await page.getByLabel('Password again').press('Enter');
  await page.getByText('The two passwords are not the same.').waitFor();
  await page.getByLabel('Password again').fill(PASSWORD);
  await screenshot(page, '03-admin');
  await page.getByLabel('Password again').press('Enter');

  // 4. How devices reach it: the DNS-01 choice asks for its token; then Hearth's own certificate.
  await page.getByRole('heading', { name: 'How will devices connect?' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: /No HTTPS/ }).isChecked(), true);
  await page.getByText('What this means').waitFor();
  await screenshot(page, '04-reach');
  await page.getByRole('radio', { name: /dynamic-DNS service/ }).check();
  await page.getByLabel('Dynamic-DNS service', { exact: true }).selectOption('duckdns');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('Paste the API token from your dynamic-DNS account.').waitFor();
  await screenshot(page, '04-reach-dns-01');
  await page.getByRole('radio', { name: /through your router/ }).check();
  await page.getByLabel('Challenge port').waitFor();
  await page.getByRole('radio', { name: /A certificate made by Hearth/ }).check();
  await page.getByLabel('Extra names and addresses (optional)').fill('hearth.lan');
  await screenshot(page, '04-reach-self-signed');
  await page.getByRole('button', { name: 'Continue' }).click();

  // 5. Who can create accounts.
  await page.getByRole('heading', { name: 'Who can create accounts?' }).waitFor();
  await page.getByRole('radio', { name: /Anyone Not advised/ }).check();
  await page.getByText('Think twice').waitFor();
  await screenshot(page, '05-registration-open-warning');
  await page.getByRole('radio', { name: /Only me/ }).check();
  await page.getByRole('button', { name: 'Continue' }).click();

  // 6. Federation.
  await page.getByRole('heading', { name: 'Talk to other Matrix servers?' }).waitFor();
  await page.getByRole('radio', { name: /Yes, connect/ }).check();
  await screenshot(page, '06-federation');
  await page.getByRole('button', { name: 'Continue' }).click();

  // 7. Summary, then the dashboard.
  await page.getByRole('heading', { name: 'Ready to set up' }).waitFor();
  await page.getByText('@mum:smith.family').waitFor();
  await page.getByText('A certificate made by Hearth, also for hearth.lan').waitFor();
  await screenshot(page, '07-summary');
  const throwaway = await servedFingerprint(hearth.hs.urls.federation!);
  await page.getByRole('button', { name: 'Finish setup' }).click();

  // The TLS choice is applied: the certificate shown is the one the TLS listener serves now.
  await page.getByRole('heading', { name: 'Hearth is set up' }).waitFor({ timeout: 20_000 });
  await page.getByText('HTTPS is on').waitFor({ timeout: 20_000 });
  const shown = (await page.getByTestId('cert-fingerprint').textContent())!.trim();
  assert.notEqual(shown, throwaway);
  assert.equal(await servedFingerprint(hearth.hs.urls.federation!), shown, 'the TLS listener serves the certificate made in the wizard');
  await page.getByRole('listitem').filter({ hasText: 'hearth.lan' }).first().waitFor();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CA certificate' }).click();
  assert.equal((await download).suggestedFilename(), 'hearth-ca.crt');
  await screenshot(page, '07-https-ready');
  const tls = await matrix(hearth.adminUrl!, 'POST', '/_hearth/api/v1/login', { username: 'mum', password: PASSWORD });
  const mode = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/tls', undefined, tls.json.access_token);
  assert.equal(mode.json.mode, 'self-signed');
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.getByRole('heading', { name: 'Hearth is running' }).waitFor({ timeout: 20_000 });
  await page.getByText('@mum:smith.family').first().waitFor();
  await screenshot(page, '08-dashboard');
  assert.equal(await page.locator('img.qr').count(), 1, 'a QR code is drawn');

  // Reloading keeps the session (sessionStorage) and the dashboard.
  await page.reload();
  await page.getByRole('heading', { name: 'Hearth is running' }).waitFor();

  // Outcome through the Matrix API on the client listener.
  const login = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'mum' },
    password: PASSWORD,
  });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  assert.equal(login.json.user_id, '@mum:smith.family');
  const reg = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/register', { username: 'stranger', password: PASSWORD, auth: { type: 'm.login.dummy' } });
  assert.equal(reg.status, 403, 'registration is closed, as chosen');
  const state = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/setup/state');
  assert.deepEqual(state.json, { needsSetup: false, serverName: 'smith.family' });

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await page.close();
});

test('sign out, a wrong password, then sign in again', { skip }, async (t) => {
  if (!hearth.adminUrl) {
    t.skip('the admin listener is not wired into homeserver.ts yet');
    return;
  }
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchConsole(page);
  await openAdmin(page);
  await page.getByRole('heading', { name: 'Sign in to manage smith.family' }).waitFor();
  await screenshot(page, '09-sign-in');
  await page.getByLabel('Username').fill('mum');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/don’t match/).waitFor();
  await screenshot(page, '10-sign-in-wrong-password');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Hearth is running' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  // Only the wrong-password 403 may show up in the console (the browser logs failed fetches).
  assert.deepEqual(problems.filter((p) => !/403/.test(p)), []);
  await page.close();
});

test('small screens: the wizard fits a phone-sized window', { skip }, async (t) => {
  if (!hearth.adminUrl) {
    t.skip('the admin listener is not wired into homeserver.ts yet');
    return;
  }
  const fresh = await startHearth();
  try {
    const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${fresh.adminUrl}/_hearth/admin/`);
    await page.getByRole('button', { name: 'Get started' }).click();
    await page.getByLabel('Server name').waitFor();
    await screenshot(page, '11-server-name-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling');
    await page.close();
  } finally {
    await fresh.close();
  }
});
