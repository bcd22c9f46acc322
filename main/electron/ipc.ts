/**
 * One ipcMain.handle per verb of ipc-contract.ts. Each checks that the request comes from the
 * admin GUI's origin (never another page that got into the window) and validates its arguments.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { isAbsolute } from 'node:path';
import { isAdminOrigin } from '../admin-session.ts';
import type { IpcChannel, IpcVerb, IpcVerbs } from '../ipc-contract.ts';

export type IpcHandlers = { [V in IpcVerb]: (...args: IpcVerbs[V]['args']) => Promise<IpcVerbs[V]['result']> };

const VALIDATE: { [V in IpcVerb]: (args: unknown[]) => args is IpcVerbs[V]['args'] } = {
  getAdminSession: (a): a is [] => a.length === 0,
  pickFolder: (a): a is ['backups' | 'data'] => a.length === 1 && (a[0] === 'backups' || a[0] === 'data'),
  openDataFolder: (a): a is [] => a.length === 0,
  getAutoStart: (a): a is [] => a.length === 0,
  setAutoStart: (a): a is [boolean] => a.length === 1 && typeof a[0] === 'boolean',
  getNotifyProblems: (a): a is [] => a.length === 0,
  setNotifyProblems: (a): a is [boolean] => a.length === 1 && typeof a[0] === 'boolean',
  pickBackupFile: (a): a is [] => a.length === 0,
  // An absolute path, as the file picker returns; restore.ts verifies the file itself.
  restoreBackup: (a): a is [string] => a.length === 1 && typeof a[0] === 'string' && isAbsolute(a[0]) && a[0].length < 4096 && !a[0].includes('\0'),
};

export function registerIpc(handlers: IpcHandlers, adminBaseUrl: () => string | undefined): () => void {
  const verbs = Object.keys(VALIDATE) as IpcVerb[];
  for (const verb of verbs) {
    const channel: IpcChannel = `hearth:${verb}`;
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const from = event.senderFrame?.url ?? event.sender.getURL();
      if (!isAdminOrigin(from, adminBaseUrl())) throw new Error(`${channel}: refused a request from outside the admin pages`);
      if (!VALIDATE[verb](args)) throw new Error(`${channel}: invalid arguments`);
      return (handlers[verb] as (...a: unknown[]) => Promise<unknown>)(...args);
    });
  }
  return () => verbs.forEach((v) => ipcMain.removeHandler(`hearth:${v}`));
}
