/**
 * The desktop app's "This computer" card on the dashboard (issue 4, "One GUI, two shells"),
 * against a headless Hearth with a fake preload bridge: `window.hearth` injected before the page
 * loads, as main/preload/index.ts exposes it, recording each call. The card shows only with the
 * bridge; each switch calls it with the new value and shows what it answered; the folder button
 * calls openDataFolder; a rejected call is shown. The Backups page's "Restore from a backup…"
 * picks a file, asks, then restores that file and shows where the old data went, or the error;
 * cancelling calls nothing. No Electron binary is needed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DesktopAdminSession, HearthBridge, RestoreBackupResult } from '../main/ipc-contract.ts';
import { CHROMIUM, launchChromium, matrix, screenshot, startHearth, watchConsole, type Hearth } from './fixtures/hearth.ts';

const PASSWORD = 'kettle-orchard-lantern-42';
const AUTO_START = 'Start Hearth when I sign in to this computer';
const NOTIFY = 'Tell me about problems (certificate expiring, backups failing, disk nearly full)';
let hearth: Hearth;
let browser: Browser | undefined;
let session: DesktopAdminSession;

const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

interface FakeOptions {
  session: DesktopAdminSession;
  /** Verbs that reject, with their message (as Electron words a rejected ipcRenderer.invoke). */
  fail: Partial<Record<keyof HearthBridge, string>>;
  /** setAutoStart keeps false, as on a system without login items. */
  refuseAutoStart: boolean;
  /** What the backup file picker answers (null: cancelled). */
  pickedBackup: string | null;
  /** What restoreBackup answers, after a short wait (so its progress shows). */
  restoreResult: RestoreBackupResult;
}

/**
 * The fake `window.hearth`, run in the page before its scripts; calls go to `window.bridgeCalls`.
 * Plain JavaScript source: a function handed to addInitScript would carry tsx's `__name` helper.
 */
function fakeBridgeScript(o: FakeOptions): string {
  return `(() => {
    const o = ${JSON.stringify(o)};
    const state = { autoStart: false, notifyProblems: true };
    window.bridgeCalls = [];
    const verb = (name, fn) => async (...a) => {
      window.bridgeCalls.push([name, ...a]);
      const failure = o.fail[name];
      if (failure) throw new Error("Error invoking remote method 'hearth:" + name + "': Error: " + failure);
      return fn(...a);
    };
    window.hearth = {
      getAdminSession: verb('getAdminSession', () => o.session),
      pickFolder: verb('pickFolder', () => null),
      openDataFolder: verb('openDataFolder', () => undefined),
      getAutoStart: verb('getAutoStart', () => state.autoStart),
      setAutoStart: verb('setAutoStart', (v) => (state.autoStart = v && !o.refuseAutoStart)),
      getNotifyProblems: verb('getNotifyProblems', () => state.notifyProblems),
      setNotifyProblems: verb('setNotifyProblems', (v) => (state.notifyProblems = v)),
      pickBackupFile: verb('pickBackupFile', () => o.pickedBackup),
      restoreBackup: verb('restoreBackup', () => new Promise((done) => setTimeout(() => done(o.restoreResult), 300))),
      onStatus: () => () => undefined,
    };
  })();`;
}

/** A fresh page in its own context (its own sessionStorage), with the fake bridge unless told. */
async function openDashboard(fake: Partial<Omit<FakeOptions, 'session'>> | undefined, path = ''): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchConsole(page);
  const defaults = { session, fail: {}, refuseAutoStart: false, pickedBackup: null, restoreResult: { ok: false, error: 'not expected' } } as const;
  if (fake) await page.addInitScript({ content: fakeBridgeScript({ ...defaults, ...fake }) });
  await page.goto(`${hearth.adminUrl}/_hearth/admin/${path}`);
  return { context, page, problems };
}

const calls = (page: Page): Promise<unknown[][]> => page.evaluate(() => (window as unknown as { bridgeCalls: unknown[][] }).bridgeCalls.filter((c) => c[0] !== 'getAdminSession'));
const card = (page: Page) => page.getByRole('region', { name: 'This computer' });

before(async () => {
  if (skip) return;
  hearth = await startHearth();
  const setup = await matrix(hearth.adminUrl!, 'POST', '/_hearth/api/v1/setup', {
    serverName: 'smith.family',
    admin: { username: 'mum', password: PASSWORD },
    tlsMode: 'none',
    registration: 'closed',
    federationEnabled: false,
  });
  assert.equal(setup.status, 200, JSON.stringify(setup.json));
  session = { baseUrl: hearth.adminUrl!, userId: setup.json.user_id, accessToken: setup.json.access_token, expiresTs: Date.now() + 3_600_000 };
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hearth?.close();
});

test('in a browser (no bridge) the dashboard has no "This computer" card', { skip }, async () => {
  const { context, page, problems } = await openDashboard(undefined);
  await page.getByLabel('Username').fill('mum');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Hearth is running' }).waitFor();
  await page.getByRole('heading', { name: 'Addresses' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'This computer' }).count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test('in the desktop window: switches call the bridge and show its answer; the folder button opens the data folder', { skip }, async () => {
  const { context, page, problems } = await openDashboard({});
  const autoStart = card(page).getByRole('switch', { name: AUTO_START });
  const notify = card(page).getByRole('switch', { name: NOTIFY });
  await autoStart.waitFor();
  assert.equal(await autoStart.getAttribute('aria-checked'), 'false');
  assert.equal(await notify.getAttribute('aria-checked'), 'true');
  assert.deepEqual((await calls(page)).map((c) => c[0]).sort(), ['getAutoStart', 'getNotifyProblems'], 'the card reads both preferences');

  await autoStart.click();
  await page.waitForSelector(`role=switch[name="${AUTO_START}"][checked=true]`);
  // Keyboard: Space toggles a focused switch.
  await notify.focus();
  await page.keyboard.press('Space');
  await page.waitForSelector(`role=switch[name="${NOTIFY}"][checked=false]`);
  await card(page).getByRole('button', { name: 'Open the data folder' }).click();
  await page.waitForFunction(() => (window as unknown as { bridgeCalls: unknown[][] }).bridgeCalls.some((c) => c[0] === 'openDataFolder'));
  assert.deepEqual((await calls(page)).slice(2), [['setAutoStart', true], ['setNotifyProblems', false], ['openDataFolder']]);
  assert.equal(await card(page).getByRole('alert').count(), 0, 'no error so far');
  await screenshot(page, '60-desktop-this-computer');
  assert.deepEqual(problems, []);
  await context.close();
});

test('in the desktop window: a rejected call is shown and the switch keeps its state; a refused start at sign-in is explained', { skip }, async () => {
  const { context, page } = await openDashboard({ fail: { setNotifyProblems: 'could not write preferences.json: disk full', openDataFolder: 'no file manager' }, refuseAutoStart: true });
  const notify = card(page).getByRole('switch', { name: NOTIFY });
  await notify.click();
  await card(page).getByRole('alert').getByText('Couldn’t change problem notifications: could not write preferences.json: disk full').waitFor();
  assert.equal(await notify.getAttribute('aria-checked'), 'true', 'unchanged: the preference was not saved');

  await card(page).getByRole('button', { name: 'Open the data folder' }).click();
  await card(page).getByRole('alert').getByText('Couldn’t open the data folder: no file manager').waitFor();
  await screenshot(page, '61-desktop-this-computer-error');

  const autoStart = card(page).getByRole('switch', { name: AUTO_START });
  await autoStart.click();
  await card(page).getByText('This computer did not accept the change.', { exact: false }).waitFor();
  assert.equal(await autoStart.getAttribute('aria-checked'), 'false', 'shows what the system kept');
  assert.equal(await card(page).getByRole('alert').count(), 0, 'the earlier error is cleared by a call that worked');
  await context.close();
});

test('in the desktop window: preferences that cannot be read show an error with "Try again"', { skip }, async () => {
  const { context, page } = await openDashboard({ fail: { getNotifyProblems: 'the main process is busy' } });
  await card(page).getByRole('alert').getByText('Couldn’t read this computer’s settings').waitFor();
  await card(page).getByText('the main process is busy', { exact: false }).waitFor();
  await card(page).getByRole('button', { name: 'Try again' }).waitFor();
  assert.equal(await card(page).getByRole('switch').count(), 0);
  await card(page).getByRole('button', { name: 'Open the data folder' }).waitFor();
  await context.close();
});

const BACKUP = '/media/usb/hearth-backups/hearth-backup-20261120T030000000Z.tar';
const restoreSection = (page: Page) => page.getByRole('region', { name: 'Restoring a backup' });

test('backups in the desktop window: pick a file, confirm, restore; the result says where the old data went', { skip }, async () => {
  const movedAsideTo = '/home/mum/.config/Hearth/hearth-data.before-restore-20261127T040506Z';
  const { context, page, problems } = await openDashboard({ pickedBackup: BACKUP, restoreResult: { ok: true, movedAsideTo } }, 'backups');
  await restoreSection(page).getByRole('button', { name: 'Restore from a backup…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore this backup?' });
  await dialog.getByText('Hearth stops for a moment', { exact: false }).waitFor();
  await dialog.getByText('Devices upload new encryption keys', { exact: false }).waitFor();
  await dialog.getByText(BACKUP).waitFor();
  await screenshot(page, '62-desktop-restore-confirm');
  assert.deepEqual(await calls(page), [['pickBackupFile']], 'nothing restored before confirming');
  await dialog.getByRole('button', { name: 'Restore' }).click();
  await restoreSection(page).getByText('Restoring…').waitFor();
  await restoreSection(page).getByRole('status').getByText(movedAsideTo).waitFor();
  assert.deepEqual(await calls(page), [['pickBackupFile'], ['restoreBackup', BACKUP]]);
  assert.equal(await page.getByRole('dialog').count(), 0);
  await screenshot(page, '63-desktop-restore-done');
  assert.deepEqual(problems, []);
  await context.close();
});

test('backups in the desktop window: a failed restore shows its error; cancelling the picker or the dialog restores nothing', { skip }, async () => {
  const error = 'This file cannot be restored, so nothing was changed: The backup is cut short.';
  const { context, page } = await openDashboard({ pickedBackup: BACKUP, restoreResult: { ok: false, error } }, 'backups');
  const button = restoreSection(page).getByRole('button', { name: 'Restore from a backup…' });
  await button.click();
  await page.getByRole('dialog', { name: 'Restore this backup?' }).getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.deepEqual(await calls(page), [['pickBackupFile']], 'cancel restores nothing');

  await button.click();
  await page.getByRole('dialog', { name: 'Restore this backup?' }).getByRole('button', { name: 'Restore' }).click();
  await restoreSection(page).getByRole('alert').getByText(error).waitFor();
  assert.deepEqual((await calls(page)).slice(1), [['pickBackupFile'], ['restoreBackup', BACKUP]]);
  await screenshot(page, '64-desktop-restore-failed');
  await context.close();

  const cancelled = await openDashboard({ pickedBackup: null }, 'backups');
  await restoreSection(cancelled.page).getByRole('button', { name: 'Restore from a backup…' }).click();
  await cancelled.page.waitForFunction(() => (window as unknown as { bridgeCalls: unknown[][] }).bridgeCalls.some((c) => c[0] === 'pickBackupFile'));
  assert.equal(await cancelled.page.getByRole('dialog').count(), 0, 'a cancelled picker asks nothing');
  assert.deepEqual(await calls(cancelled.page), [['pickBackupFile']]);
  await cancelled.context.close();
});

test('backups in a browser (no bridge): no restore button, the command-line way is explained', { skip }, async () => {
  const { context, page } = await openDashboard(undefined);
  await page.getByLabel('Username').fill('mum');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('navigation', { name: 'Admin pages' }).getByRole('link', { name: 'Backups', exact: true }).click();
  await restoreSection(page).getByText('--restore-backup', { exact: false }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Restore from a backup…' }).count(), 0);
  await context.close();
});
