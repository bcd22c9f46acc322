/**
 * The pages after setup in Chromium against one headless Hearth (set up through the API, with a
 * TLS listener), each page's main action checked through the Matrix API on the client listener:
 * a user created in the GUI logs in, a reset password works, a deactivated user cannot log in;
 * closing registration makes /register refuse, an invite code lets exactly its number of
 * registrations through; a new self-signed certificate is what the TLS listener serves; a backup
 * made from the GUI is listed; rooms, reports, federation and logs show and act.
 * Users, Registration (invite codes), Rooms and Reports need Synapse's admin API mounted on the
 * admin listener (admin-app.ts `extraRoutes`); they are skipped with a note when it is not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, matrix, screenshot, servedFingerprint, startHearth, watchConsole, type Hearth } from './fixtures/hearth.ts';

const PASSWORD = 'kettle-orchard-lantern-42';
const SERVER = 'smith.family';
let hearth: Hearth;
let browser: Browser | undefined;
let page: Page;
let problems: string[];
let adminToken: string;
let synapseMounted = false;
let backupDir: string;

const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;
const NEEDS_SYNAPSE = 'Synapse’s admin API is not mounted on the admin listener yet (homeserver.ts: extraRoutes)';

before(async () => {
  if (skip) return;
  backupDir = mkdtempSync(join(tmpdir(), 'hearth-e2e-backups-'));
  // Info level, so the Logs page has the sign-in line to find.
  hearth = await startHearth({ federationListen: { host: '127.0.0.1', port: 0 }, tlsMode: 'self-signed', logLevel: 'info' });
  const setup = await matrix(hearth.adminUrl!, 'POST', '/_hearth/api/v1/setup', {
    serverName: SERVER,
    admin: { username: 'mum', password: PASSWORD },
    tlsMode: 'self-signed',
    registration: 'open',
    federationEnabled: true,
  });
  assert.equal(setup.status, 200, JSON.stringify(setup.json));
  adminToken = setup.json.access_token;
  synapseMounted = (await fetch(`${hearth.adminUrl}/_synapse/admin/v1/server_version`, { headers: { Authorization: `Bearer ${adminToken}` } })).status === 200;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = watchConsole(page);
  await page.goto(`${hearth.adminUrl}/_hearth/admin/`);
  await page.getByLabel('Username').fill('mum');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Hearth is running' }).waitFor();
});

after(async () => {
  await browser?.close();
  await hearth?.close();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

async function go(name: string, heading = name): Promise<void> {
  // A test that failed half-way may leave a dialog open; Escape closes it (the native <dialog>).
  while ((await page.locator('dialog[open]').count()) > 0) await page.keyboard.press('Escape');
  await page.getByRole('navigation', { name: 'Admin pages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

const login = (user: string, password: string) =>
  matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

async function register(username: string, token?: string): Promise<number> {
  const first = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/register', { username, password: PASSWORD });
  if (first.status !== 401 || !token) return first.status;
  const r = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/register', {
    username,
    password: PASSWORD,
    auth: { type: 'm.login.registration_token', token, session: first.json.session },
  });
  return r.status;
}

test('navigation: every page is a link, and the address bar follows', { skip }, async () => {
  await screenshot(page, '20-dashboard');
  await go('Logs');
  assert.match(page.url(), /\/_hearth\/admin\/logs$/);
  await page.goBack();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.goto(`${hearth.adminUrl}/_hearth/admin/backups`);
  await page.getByRole('heading', { level: 1, name: 'Backups' }).waitFor();
});

test('users: create with a generated password, reset it, make admin, sign out a session, deactivate', { skip }, async (t) => {
  if (!synapseMounted) return t.skip(NEEDS_SYNAPSE);
  await go('Users');
  await page.getByText('@mum:smith.family').nth(1).waitFor();
  await page.getByRole('button', { name: 'Create account' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an account' });
  await dialog.getByLabel('Username').fill('gran');
  await dialog.getByLabel('Display name (optional)').fill('Grandma');
  await screenshot(page, '21-users-create');
  await dialog.getByRole('button', { name: 'Create account' }).click();
  const done = page.getByRole('dialog', { name: 'Account created' });
  const first = (await done.getByTestId('handover-password').textContent())!.trim();
  assert.match(first, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  await screenshot(page, '22-users-created');
  await done.getByRole('button', { name: 'Done' }).click();

  const firstLogin = await login('gran', first);
  assert.equal(firstLogin.status, 200, 'the account created in the GUI can log in');
  await page.getByRole('cell', { name: /Grandma/ }).waitFor();
  await screenshot(page, '23-users');

  // Search narrows the list.
  await page.getByLabel('Search accounts').fill('gran');
  await page.getByText('@mum:smith.family').nth(1).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Manage @gran:smith.family' }).click();
  await page.getByRole('heading', { level: 1, name: 'Grandma' }).waitFor();
  await page.getByRole('table').getByText(firstLogin.json.device_id).first().waitFor();
  await screenshot(page, '24-user-details');

  // Reset password: the old one stops working, the new one works.
  await page.getByRole('button', { name: 'Reset password' }).click();
  await page.getByRole('dialog', { name: /Reset Grandma’s password/ }).getByRole('button', { name: 'Reset password' }).click();
  const resetDone = page.getByRole('dialog', { name: 'Password reset' });
  const second = (await resetDone.getByTestId('handover-password').textContent())!.trim();
  await screenshot(page, '25-user-password-reset');
  await resetDone.getByRole('button', { name: 'Done' }).click();
  assert.notEqual(second, first);
  assert.equal((await login('gran', first)).status, 403, 'the old password no longer works');
  const secondLogin = await login('gran', second);
  assert.equal(secondLogin.status, 200, 'the reset password works');

  // Make admin, then sign out the session just made.
  await page.getByRole('button', { name: 'Make admin' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Make admin' }).click();
  await page.getByText('Grandma is now an admin.').waitFor();
  const isAdmin = await matrix(hearth.adminUrl!, 'GET', '/_synapse/admin/v1/users/%40gran%3Asmith.family/admin', undefined, adminToken);
  assert.deepEqual(isAdmin.json, { admin: true });
  await page.getByRole('button', { name: `Sign out ${secondLogin.json.device_id}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('The session was signed out.').waitFor();
  assert.equal((await matrix(hearth.clientUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, secondLogin.json.access_token)).status, 401);

  // Deactivate (with erase): the account can no longer log in.
  await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
  await page.getByRole('dialog').getByLabel('Also erase their messages').check();
  await screenshot(page, '26-user-deactivate');
  await page.getByRole('dialog').getByRole('button', { name: 'Deactivate account' }).click();
  await page.getByText('Grandma’s account is deactivated.').waitFor();
  assert.equal((await login('gran', second)).status, 403, 'a deactivated user cannot log in');
  await page.getByRole('button', { name: '← All accounts' }).click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
});

test('registration: closing it makes /register refuse; an invite code lets exactly its uses through', { skip }, async (t) => {
  await go('Registration');
  assert.equal(await register('early'), 401, 'open registration asks for the dummy stage');
  await page.getByRole('radio', { name: /Only me/ }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved. New sign-ups follow this choice').waitFor();
  assert.equal(await register('stranger'), 403, 'closed registration refuses');

  if (!synapseMounted) return t.skip(NEEDS_SYNAPSE);
  await page.getByRole('radio', { name: /invite code/ }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved. New sign-ups follow this choice').waitFor();
  await page.getByRole('spinbutton', { name: 'Number of uses' }).fill('2');
  await page.getByRole('button', { name: 'Create invite code' }).click();
  const code = (await page.getByTestId('new-invite-code').textContent())!.trim();
  await screenshot(page, '27-registration');
  assert.equal(await register('cousin1', code), 200);
  assert.equal(await register('cousin2', code), 200);
  assert.equal(await register('cousin3', code), 401, 'the third registration is refused');
  await page.reload();
  await page.getByRole('checkbox', { name: 'Show used and expired codes' }).check();
  await page.getByRole('cell', { name: '2 of 2' }).waitFor();
  await page.getByText('Used up').waitFor();
});

test('TLS: a new self-signed certificate is what the TLS listener serves', { skip }, async () => {
  await go('HTTPS', 'HTTPS & certificates');
  const fp = page.getByTestId('cert-fingerprint');
  const before = (await fp.textContent())!.trim();
  assert.equal(await servedFingerprint(hearth.hs.urls.federation!), before, 'the page shows the certificate being served');
  await screenshot(page, '28-tls');
  await page.getByRole('button', { name: 'Make a new certificate' }).click();
  await page.getByText('A new certificate is in use.').waitFor();
  const after = (await fp.textContent())!.trim();
  assert.notEqual(after, before);
  assert.equal(await servedFingerprint(hearth.hs.urls.federation!), after, 'the TLS listener serves the new certificate without a restart');
});

test('rooms and reports: see a room, review a report, dismiss it, block and delete the room', { skip }, async (t) => {
  if (!synapseMounted) return t.skip(NEEDS_SYNAPSE);
  const room = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/createRoom', {
    name: 'Family chat',
    preset: 'private_chat',
    initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  }, adminToken);
  assert.equal(room.status, 200, JSON.stringify(room.json));
  const other = await matrix(hearth.clientUrl, 'POST', '/_matrix/client/v3/createRoom', { name: 'Recipes', preset: 'public_chat' }, adminToken);
  const sent = await matrix(hearth.clientUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(other.json.room_id)}/send/m.room.message/t1`, { msgtype: 'm.text', body: 'Buy cheap watches at spam.example' }, adminToken);
  const cousin = await login('cousin1', PASSWORD);
  const token = cousin.status === 200 ? cousin.json.access_token : adminToken;
  if (cousin.status === 200) await matrix(hearth.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(other.json.room_id)}`, {}, token);
  const report = await matrix(hearth.clientUrl, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(other.json.room_id)}/report/${encodeURIComponent(sent.json.event_id)}`, { reason: 'Looks like spam' }, token);
  assert.equal(report.status, 200, JSON.stringify(report.json));

  await go('Rooms');
  await page.getByText('Family chat', { exact: true }).waitFor();
  await screenshot(page, '29-rooms');
  const row = page.getByRole('row', { name: /Family chat/ });
  assert.match((await row.textContent())!, /Encrypted/);

  await go('Reports');
  await page.getByText('“Looks like spam”').waitFor();
  await screenshot(page, '30-reports');
  await page.getByRole('button', { name: /^Review/ }).first().click();
  await page.getByRole('dialog', { name: 'Reported message' }).getByText('Buy cheap watches').waitFor();
  await screenshot(page, '31-report-review');
  await page.getByRole('button', { name: 'Dismiss report' }).click();
  await page.getByRole('dialog', { name: 'Dismiss this report?' }).getByRole('button', { name: 'Dismiss' }).click();
  await page.getByText('Nothing reported').waitFor();
  const reports = await matrix(hearth.adminUrl!, 'GET', '/_synapse/admin/v1/event_reports', undefined, adminToken);
  assert.equal(reports.json.total, 0);

  await go('Rooms');
  await page.getByRole('button', { name: 'Details of Recipes' }).click();
  const details = page.getByRole('dialog', { name: 'Recipes' });
  await details.locator('.chip', { hasText: '@mum:smith.family' }).waitFor();
  await screenshot(page, '32-room-details');
  await details.getByRole('button', { name: 'Delete room' }).click();
  await page.getByRole('dialog', { name: 'Delete Recipes?' }).getByRole('button', { name: 'Delete room' }).click();
  await page.getByText('Recipes was deleted.').waitFor({ timeout: 30_000 });
  const blocked = await matrix(hearth.adminUrl!, 'GET', `/_synapse/admin/v1/rooms/${encodeURIComponent(other.json.room_id)}/block`, undefined, adminToken);
  assert.equal(blocked.json.block, true, 'deleted and blocked');
});

test('federation: signing key as others see it; turning federation off is stored', { skip }, async () => {
  await go('Federation');
  const keys = await matrix(hearth.clientUrl, 'GET', '/_matrix/key/v2/server');
  const key = Object.values(keys.json.verify_keys as Record<string, { key: string }>)[0]!.key;
  if (synapseMounted) {
    assert.equal((await page.getByTestId('signing-key').textContent())!.replace(/\s/g, ''), key);
    await page.getByText('No federation traffic yet').waitFor();
  }
  await screenshot(page, '33-federation');
  await page.getByRole('switch', { name: 'Federation' }).click();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.').waitFor();
  const s = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/settings', undefined, adminToken);
  assert.equal(s.json.effective.federationEnabled, false);
});

test('backups: choose a folder, back up now, see it listed and verify it', { skip }, async () => {
  await go('Backups');
  await page.getByText('Choose a folder first').waitFor();
  await page.getByLabel('Backup folder').fill(backupDir);
  await page.getByLabel('Back up automatically').selectOption('24');
  await page.getByLabel('Backups to keep').fill('5');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.').waitFor();
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByText(/Backup .* saved/).waitFor({ timeout: 30_000 });
  const list = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/backups', undefined, adminToken);
  assert.equal(list.json.backups.length, 1);
  assert.equal(list.json.keep, 5);
  assert.equal(list.json.intervalHours, 24);
  await page.getByRole('button', { name: `Verify ${list.json.backups[0].name}` }).click();
  await page.getByText(/Intact/).waitFor({ timeout: 30_000 });
  await screenshot(page, '34-backups');
});

test('logs: recent lines, filtered by text', { skip }, async () => {
  await go('Logs');
  await page.getByLabel('Show').selectOption('debug');
  await page.getByLabel('Filter').fill('admin signed in');
  await page.waitForFunction(() => {
    const lines = Array.from(document.querySelectorAll('.log-line'));
    return lines.length > 0 && lines.every((l) => l.textContent!.includes('admin signed in to the GUI'));
  });
  await page.getByLabel('Filter').fill('');
  await screenshot(page, '35-logs');
  const api = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/logs?level=warn&q=x', undefined, adminToken);
  assert.equal(api.status, 200);
  assert.ok(api.json.records.every((r: { level: string }) => r.level === 'warn' || r.level === 'error'));
  const bad = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/logs?level=loud', undefined, adminToken);
  assert.equal(bad.status, 400);
  assert.equal((await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/logs')).status, 401);
});

test('storage: sizes, compaction, old remote media, and the room complexity limit', { skip }, async () => {
  await go('Storage');
  await page.getByRole('heading', { name: 'Disk use' }).waitFor();
  await page.getByRole('button', { name: 'Compact now' }).click();
  await page.getByRole('dialog', { name: 'Compact the database?' }).getByRole('button', { name: 'Compact' }).click();
  await page.getByText(/^Compacted in/).waitFor({ timeout: 30_000 });

  await page.getByLabel('Not used for (days)').fill('7');
  await page.getByRole('button', { name: 'Remove now' }).click();
  await page.getByRole('dialog', { name: 'Remove old media?' }).getByRole('button', { name: 'Remove media' }).click();
  await page.getByText('Nothing to remove: no media from other servers went unused for 7 days.').waitFor({ timeout: 30_000 });

  await page.getByRole('switch', { name: 'Limit the size of rooms people can join' }).click();
  await page.getByLabel('Largest room complexity').fill('0');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Give a number above 0').waitFor();
  await page.getByLabel('Largest room complexity').fill('2.5');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved. Rooms with a complexity above 2.5 can no longer be joined.').waitFor();
  const care = await matrix(hearth.adminUrl!, 'GET', '/_hearth/api/v1/storage', undefined, adminToken);
  assert.equal(care.json.maxRemoteRoomComplexity, 2.5);
  await screenshot(page, '37-storage');

  // The chart over a month of hourly samples (served by a stand-in for the endpoint).
  const now = Date.now();
  const history = Array.from({ length: 30 * 24 }, (_, i) => {
    const ts = now - (30 * 24 - i) * 3_600_000;
    const databaseBytes = Math.round(40e6 + i * 60e3 - (i > 500 ? 12e6 : 0));
    const mediaBytes = Math.round(120e6 + i * 250e3);
    return { ts, databaseBytes, mediaBytes, totalBytes: databaseBytes + mediaBytes + 1e6 };
  });
  await page.route('**/_hearth/api/v1/storage?*', (route) =>
    route.fulfill({ json: { ...care.json, history, current: { ...history.at(-1)!, measuredTs: now } } }),
  );
  await page.reload();
  await page.getByRole('img', { name: 'Database and media sizes' }).waitFor();
  await screenshot(page, '38-storage-chart');
  await page.unroute('**/_hearth/api/v1/storage?*');
});

test('small screens: the pages fit a phone, and nothing broke the CSP', { skip }, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await go('Registration');
  await screenshot(page, '36-registration-phone');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, 'no horizontal scrolling');
  await page.setViewportSize({ width: 1280, height: 900 });
  // The browser logs refused requests (e.g. the old password's 403); CSP violations and script errors never.
  assert.deepEqual(problems.filter((p) => !/Failed to load resource/.test(p)), []);
});
