/**
 * Electron entry: single instance, then app events → lifecycle.ts. Thin on purpose: decisions live
 * in the PLAIN modules (settings, tray-model, admin-session, lifecycle, alerts, autostart,
 * restore), which are unit-tested without the Electron binary. Closing the window keeps the
 * server running in the tray; Quit stops it, which flushes storage.
 */
import { app, dialog, shell, type BrowserWindow } from 'electron';
import { homedir } from 'node:os';
import { AdminSessionBroker } from './admin-session.ts';
import { autoStart } from './autostart.ts';
import { AlertPoller, alertPagePath, readHealth, type AlertPage } from './alerts.ts';
import { createMainWindow, showGui } from './electron/window.ts';
import { registerIpc } from './electron/ipc.ts';
import { notificationSink } from './electron/notifications.ts';
import { createTray } from './electron/tray.ts';
import type { DesktopServerStatus } from './ipc-contract.ts';
import { ServerLifecycle, type ShellStatus } from './lifecycle.ts';
import { restoreFromBackup } from './restore.ts';
import { loadPreferences, serverOverrides, updatePreferences } from './settings.ts';
import { trayModel } from './tray-model.ts';
import { tuneRuntimeForServer } from '../server/index.ts';

if (!app.requestSingleInstanceLock()) {
  app.exit(0);
} else {
  void main();
}

async function main(): Promise<void> {
  // The server runs in this process, so it gets the heap-growth limit the headless CLI sets at
  // run time; npm start's command-line flags (--max-semi-space-size, --v8-pool-size) do not
  // reach Electron, so those stay at V8's defaults here.
  tuneRuntimeForServer();
  await app.whenReady();
  const userData = app.getPath('userData');
  const startAtLogin = autoStart({
    platform: process.platform,
    env: process.env,
    home: homedir(),
    execPath: process.execPath,
    loginItems: {
      get: () => app.getLoginItemSettings().openAtLogin,
      set: (on) => app.setLoginItemSettings({ openAtLogin: on, args: on ? ['--hidden'] : [] }),
    },
  });
  let prefs = loadPreferences(userData);
  // While a restore restarts the server, the admin listener keeps its port and the window is not
  // reloaded, so the page that asked for the restore stays on a live origin and shows the result.
  let restoring: { adminPort: number | undefined } | undefined;
  const lifecycle = new ServerLifecycle(() => {
    const o = serverOverrides(prefs);
    return restoring?.adminPort ? { ...o, adminListen: { host: '127.0.0.1', port: restoring.adminPort } } : o;
  });
  let win: BrowserWindow | undefined;
  let quitting = false;

  const adminUrl = (s: ShellStatus = lifecycle.status): string | undefined =>
    s.state === 'running' ? (s as ShellStatus & { adminUrl?: string }).adminUrl : undefined;
  const toDesktop = (s: ShellStatus): DesktopServerStatus => (s.state === 'running' ? { ...s, adminUrl: adminUrl(s) } : s);
  /** The GUI for status `s`, or the "could not start" page with its reason. */
  const showStatus = (w: BrowserWindow, s: ShellStatus = lifecycle.status): Promise<void> =>
    showGui(w, adminUrl(s), s.state === 'failed' ? s.reason : undefined);

  // The homeserver mints short-lived tokens on the first admin (null before setup: the wizard shows).
  const sessions = new AdminSessionBroker({ mint: () => lifecycle.mintAdminSession(), baseUrl: () => adminUrl() });

  /** Shows the window; `page` (a notification's) loads that GUI page when the server runs. */
  const openWindow = async (page?: AlertPage | null): Promise<void> => {
    const base = adminUrl();
    const pageUrl = base && page ? `${base}${alertPagePath(page)}` : undefined;
    if (win && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
      if (pageUrl) await win.loadURL(pageUrl);
      return;
    }
    win = createMainWindow({ bounds: prefs.window, adminBaseUrl: () => adminUrl(), show: true });
    win.on('close', (event) => {
      prefs = updatePreferences(userData, prefs, { window: win!.getBounds() });
      if (!quitting && prefs.closeToTray) {
        event.preventDefault();
        win!.hide();
      }
    });
    win.on('closed', () => (win = undefined));
    if (pageUrl) await win.loadURL(pageUrl);
    else await showStatus(win);
  };

  // Problem notifications: checked every few minutes, and at once when the server starts or fails.
  const alerts = new AlertPoller({
    read: () => readHealth(lifecycle.status, lifecycle.running, Date.now()),
    sink: notificationSink((page) => void openWindow(page)),
    enabled: prefs.notifyProblems,
  });

  const tray = createTray(trayModel(toDesktop(lifecycle.status)), (action) => {
    if (action === 'open') void openWindow();
    else if (action === 'start') void lifecycle.start();
    else if (action === 'stop') void lifecycle.stop();
    else if (action === 'restart') void lifecycle.restart();
    else if (action === 'quit') app.quit();
  });

  lifecycle.onStatus((s) => {
    tray.update(trayModel(toDesktop(s)));
    sessions.invalidate();
    if (s.state === 'running' || s.state === 'failed') void alerts.checkNow();
    if (win && !win.isDestroyed()) {
      win.webContents.send('hearth:status', toDesktop(s));
      if (!restoring && (s.state === 'running' || s.state === 'failed')) void showStatus(win, s);
    }
  });

  registerIpc(
    {
      getAdminSession: () => sessions.get(),
      pickFolder: async (purpose) => {
        const r = await dialog.showOpenDialog(win, { properties: ['openDirectory', 'createDirectory'], title: purpose === 'backups' ? 'Choose a folder for backups' : 'Choose a data folder' });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      openDataFolder: async () => {
        // openPath resolves to an error message instead of rejecting: the window shows it.
        const failed = await shell.openPath(prefs.dataDir);
        if (failed) throw new Error(`Could not open ${prefs.dataDir}: ${failed}`);
      },
      getAutoStart: async () => startAtLogin.enabled(),
      setAutoStart: async (enabled) => {
        const now = startAtLogin.set(enabled);
        prefs = updatePreferences(userData, prefs, { autoStart: now });
        return now;
      },
      getNotifyProblems: async () => prefs.notifyProblems,
      setNotifyProblems: async (enabled) => {
        prefs = updatePreferences(userData, prefs, { notifyProblems: enabled });
        alerts.setEnabled(prefs.notifyProblems);
        return prefs.notifyProblems;
      },
      pickBackupFile: async () => {
        const r = await dialog.showOpenDialog(win, {
          properties: ['openFile'],
          title: 'Choose a Hearth backup to restore',
          buttonLabel: 'Choose',
          filters: [{ name: 'Hearth backups', extensions: ['tar'] }],
        });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      restoreBackup: async (file) => {
        if (restoring) return { ok: false, error: 'A restore is already running.' };
        const before = adminUrl();
        restoring = { adminPort: before ? Number(new URL(before).port) : undefined };
        try {
          return await restoreFromBackup({ lifecycle, dataDir: prefs.dataDir, file, now: Date.now() });
        } finally {
          restoring = undefined;
          // Reload only if the window's origin changed (the port could not be kept) or the server is down.
          if (adminUrl() !== before && win && !win.isDestroyed()) void showStatus(win);
        }
      },
    },
    () => adminUrl(),
  );

  app.on('second-instance', () => void openWindow());
  app.on('activate', () => void openWindow());
  // The server keeps running with every window closed; only Quit ends it.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    alerts.stop();
    void lifecycle.stop().finally(() => app.exit(0));
  });

  await lifecycle.start();
  alerts.setEnabled(prefs.notifyProblems);
  if (!(prefs.startHidden || process.argv.includes('--hidden'))) await openWindow();
}
