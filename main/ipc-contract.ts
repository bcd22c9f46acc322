/**
 * TYPES ONLY: every IPC verb between the desktop window and the main process — its channel name,
 * arguments and result. The preload exposes exactly these as `window.hearth`; electron/ipc.ts
 * handles exactly these. Only what a browser cannot do goes through here (ARCHITECTURE.md,
 * principle 6): everything else is the admin HTTP API.
 */

/** Status of the homeserver as the shell sees it (mirrors lifecycle.ts ShellStatus). */
export type DesktopServerStatus =
  | { state: 'stopped' }
  | { state: 'starting' }
  | { state: 'running'; clientUrl: string; adminUrl?: string }
  | { state: 'stopping' }
  | { state: 'failed'; reason: string };

export interface DesktopAdminSession {
  /** The admin listener's base URL (the window's own origin). */
  baseUrl: string;
  userId: string;
  accessToken: string;
  /** ms since epoch; the renderer asks again before then. */
  expiresTs: number;
}

/** Each invoke-style verb: arguments and result. The channel is `hearth:<verb>`. */
export interface IpcVerbs {
  getAdminSession: { args: []; result: DesktopAdminSession | null };
  pickFolder: { args: [purpose: 'backups' | 'data']; result: string | null };
  openDataFolder: { args: []; result: void };
  getAutoStart: { args: []; result: boolean };
  setAutoStart: { args: [enabled: boolean]; result: boolean };
  getNotifyProblems: { args: []; result: boolean };
  setNotifyProblems: { args: [enabled: boolean]; result: boolean };
  pickBackupFile: { args: []; result: string | null };
  restoreBackup: { args: [file: string]; result: RestoreBackupResult };
}

/** What restoring a backup did (main/restore.ts); an expected failure is a result, not a rejection. */
export type RestoreBackupResult = { ok: true; movedAsideTo: string } | { ok: false; error: string };

export type IpcVerb = keyof IpcVerbs;
export type IpcChannel<V extends IpcVerb = IpcVerb> = `hearth:${V}`;
/** Pushed from main to the window whenever the status changes. */
export type StatusChannel = 'hearth:status';

/** What `window.hearth` offers in the desktop window. Absent in a browser. */
export interface HearthBridge {
  /** A short-lived admin session for the window, or null before setup created an admin. */
  getAdminSession(): Promise<DesktopAdminSession | null>;
  /** A native folder picker (backups, data folder); null when cancelled. */
  pickFolder(purpose: 'backups' | 'data'): Promise<string | null>;
  openDataFolder(): Promise<void>;
  /** Start at sign-in; set resolves to what the system now has (it may refuse). */
  getAutoStart(): Promise<boolean>;
  setAutoStart(enabled: boolean): Promise<boolean>;
  /** Native notifications for problems (main/alerts.ts); set resolves to the saved preference. */
  getNotifyProblems(): Promise<boolean>;
  setNotifyProblems(enabled: boolean): Promise<boolean>;
  /** A native file picker for a backup file; null when cancelled. */
  pickBackupFile(): Promise<string | null>;
  /**
   * Replaces the server's data with the backup's: verified first, the server stopped, the current
   * data folder moved aside (its path in the result), one-time keys cleared, the server started.
   */
  restoreBackup(file: string): Promise<RestoreBackupResult>;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: DesktopServerStatus) => void): () => void;
}
