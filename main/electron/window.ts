/**
 * The desktop window: the same GUI bundle a browser gets, loaded from the admin listener, with
 * Electron's protections on (sandbox, context isolation, no Node in the page). New windows and
 * navigation away from the admin origin are refused (links to clients open in the real browser),
 * and so are permission requests (camera, notifications...): the admin pages need none.
 */
import { BrowserWindow, shell } from 'electron';
import { join } from 'node:path';
import { isAdminOrigin } from '../admin-session.ts';
import type { WindowBounds } from '../settings.ts';
import { HEARTH_ROOT } from '../../server/paths.ts';
// Where scripts/build-desktop.mjs puts the preload bundle.
import { DESKTOP_DIR, DESKTOP_PRELOAD_FILE } from '../../scripts/desktop-paths.mjs';

export function createMainWindow(opts: { bounds: WindowBounds; adminBaseUrl: () => string | undefined; show: boolean }): BrowserWindow {
  const win = new BrowserWindow({
    ...opts.bounds,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'Hearth',
    backgroundColor: '#f7f4ef',
    webPreferences: {
      preload: join(HEARTH_ROOT, DESKTOP_DIR, DESKTOP_PRELOAD_FILE),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAdminOrigin(url, opts.adminBaseUrl())) event.preventDefault();
  });
  win.webContents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  if (opts.show) win.once('ready-to-show', () => win.show());
  return win;
}

/** Shows the GUI, or the static "could not start" page with the reason. */
export async function showGui(win: BrowserWindow, adminBaseUrl: string | undefined, failure?: string): Promise<void> {
  if (adminBaseUrl) await win.loadURL(`${adminBaseUrl}/_hearth/admin/`);
  else await win.loadFile(join(HEARTH_ROOT, 'assets', 'startup-failed.html'), { query: { reason: failure ?? 'Hearth is not running.' } });
}
