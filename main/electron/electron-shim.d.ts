/**
 * The few Electron APIs the shell uses, declared locally: the electron package (and its binary)
 * cannot be installed on these machines, yet `tsc` must check main/. Delete this file once
 * `electron` is a devDependency; its own types then apply.
 */
declare module 'electron' {
  interface Event {
    preventDefault(): void;
  }
  interface WebContents {
    getURL(): string;
    send(channel: string, ...args: unknown[]): void;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
    on(event: 'will-navigate', listener: (event: Event, url: string) => void): this;
    session: Session;
  }
  interface Session {
    setPermissionRequestHandler(handler: ((wc: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null): void;
  }
  interface BrowserWindowOptions {
    width?: number;
    height?: number;
    x?: number;
    y?: number;
    minWidth?: number;
    minHeight?: number;
    show?: boolean;
    title?: string;
    backgroundColor?: string;
    webPreferences?: {
      preload?: string;
      sandbox?: boolean;
      contextIsolation?: boolean;
      nodeIntegration?: boolean;
      webSecurity?: boolean;
      spellcheck?: boolean;
    };
  }
  export class BrowserWindow {
    constructor(options?: BrowserWindowOptions);
    webContents: WebContents;
    loadURL(url: string): Promise<void>;
    loadFile(path: string, options?: { query?: Record<string, string> }): Promise<void>;
    show(): void;
    hide(): void;
    focus(): void;
    isMinimized(): boolean;
    restore(): void;
    isDestroyed(): boolean;
    getBounds(): { x: number; y: number; width: number; height: number };
    on(event: 'close', listener: (event: Event) => void): this;
    on(event: 'closed' | 'ready-to-show', listener: () => void): this;
    once(event: 'ready-to-show', listener: () => void): this;
  }
  export interface IpcMainInvokeEvent {
    sender: WebContents;
    senderFrame: { url: string } | null;
  }
  export const ipcMain: {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
    removeHandler(channel: string): void;
  };
  export const ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  };
  export const contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  export interface MenuItemConstructorOptions {
    label?: string;
    type?: 'normal' | 'separator';
    enabled?: boolean;
    click?: () => void;
  }
  export class Menu {
    static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
  }
  export class NativeImage {}
  export const nativeImage: { createFromPath(path: string): NativeImage };
  export class Tray {
    constructor(image: NativeImage);
    setToolTip(text: string): void;
    setContextMenu(menu: Menu): void;
    setImage(image: NativeImage): void;
    on(event: 'click', listener: () => void): this;
  }
  export const app: {
    requestSingleInstanceLock(): boolean;
    quit(): void;
    exit(code?: number): void;
    whenReady(): Promise<void>;
    getPath(name: 'userData'): string;
    on(event: 'second-instance' | 'window-all-closed' | 'activate', listener: () => void): void;
    on(event: 'before-quit', listener: (event: Event) => void): void;
    getLoginItemSettings(): { openAtLogin: boolean };
    setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
  };
  export interface NotificationConstructorOptions {
    title: string;
    body?: string;
    silent?: boolean;
    /** Path of an image file. */
    icon?: string;
    /** Linux only. */
    urgency?: 'normal' | 'critical' | 'low';
  }
  export class Notification {
    static isSupported(): boolean;
    constructor(options?: NotificationConstructorOptions);
    show(): void;
    close(): void;
    on(event: 'click' | 'close' | 'show', listener: () => void): this;
  }
  export const shell: { openPath(path: string): Promise<string>; openExternal(url: string): Promise<void> };
  export const dialog: {
    showOpenDialog(
      window: BrowserWindow | undefined,
      options: { properties: string[]; title?: string; buttonLabel?: string; filters?: { name: string; extensions: string[] }[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
  };
}
