/**
 * The desktop app's build, without the Electron binary: main/ bundles into ESM for the main
 * process and a single CommonJS preload that needs nothing but electron (a sandboxed preload
 * cannot load anything else), and every file the shell and the installers name exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { HEARTH_ROOT } from '../server/paths.ts';
import config from '../electron.config.ts';
import type { TrayIcon } from './tray-model.ts';

test('main/ builds: an ESM main process and a CommonJS preload that requires only electron', async () => {
  const { buildDesktop } = (await import(join(HEARTH_ROOT, 'scripts', 'build-desktop.mjs'))) as { buildDesktop(outDir: string): Promise<void> };
  const out = mkdtempSync(join(tmpdir(), 'hearth-desktop-build-'));
  try {
    await buildDesktop(out);
    const main = readFileSync(join(out, 'main.mjs'), 'utf8');
    assert.match(main, /from "electron"/);
    assert.match(main, /requestSingleInstanceLock/);
    const preload = readFileSync(join(out, 'preload.cjs'), 'utf8');
    assert.doesNotThrow(() => new Script(preload), 'the preload parses as a classic script');
    assert.deepEqual([...new Set(preload.match(/require\("[^"]+"\)/g))], ['require("electron")']);
    assert.match(preload, /exposeInMainWorld\("hearth"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the package points Electron at the built main process, and the installers ship what it reads', () => {
  const pkg = JSON.parse(readFileSync(join(HEARTH_ROOT, 'package.json'), 'utf8')) as { main: string };
  assert.equal(pkg.main, 'dist/desktop/main.mjs');
  for (const pattern of ['dist/desktop/**', 'renderer/dist/**', 'assets/**', 'server/storage/sqljs/migrations/**', 'package.json']) {
    assert.ok(config.files.includes(pattern), `electron.config.ts ships ${pattern}`);
  }
});

test('the icons the tray, notifications and installers name exist', () => {
  const tray: TrayIcon[] = ['running', 'busy', 'stopped', 'error'];
  for (const icon of tray) assert.ok(existsSync(join(HEARTH_ROOT, 'assets', `tray-${icon}.png`)), `tray-${icon}.png`);
  for (const icon of [config.linux.icon, config.win.icon, config.mac.icon]) assert.ok(existsSync(join(HEARTH_ROOT, icon)), icon);
  assert.ok(existsSync(join(HEARTH_ROOT, 'assets', 'startup-failed.html')));
});
