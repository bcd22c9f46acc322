/**
 * The preload bridge: `window.hearth`, one function per verb of ipc-contract.ts and nothing else
 * (never a raw ipcRenderer, send or invoke). Runs sandboxed, with context isolation.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { DesktopServerStatus, HearthBridge, IpcChannel, IpcVerb, IpcVerbs, StatusChannel } from '../ipc-contract.ts';

function invoke<V extends IpcVerb>(verb: V, ...args: IpcVerbs[V]['args']): Promise<IpcVerbs[V]['result']> {
  const channel: IpcChannel<V> = `hearth:${verb}`;
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcVerbs[V]['result']>;
}

const STATUS: StatusChannel = 'hearth:status';

const bridge: HearthBridge = {
  getAdminSession: () => invoke('getAdminSession'),
  pickFolder: (purpose) => invoke('pickFolder', purpose),
  openDataFolder: () => invoke('openDataFolder'),
  getAutoStart: () => invoke('getAutoStart'),
  setAutoStart: (enabled) => invoke('setAutoStart', enabled),
  getNotifyProblems: () => invoke('getNotifyProblems'),
  setNotifyProblems: (enabled) => invoke('setNotifyProblems', enabled),
  pickBackupFile: () => invoke('pickBackupFile'),
  restoreBackup: (file) => invoke('restoreBackup', file),
  onStatus(listener) {
    const wrapped = (_event: unknown, status: unknown): void => listener(status as DesktopServerStatus);
    ipcRenderer.on(STATUS, wrapped);
    return () => ipcRenderer.removeListener(STATUS, wrapped);
  },
};

contextBridge.exposeInMainWorld('hearth', bridge);
