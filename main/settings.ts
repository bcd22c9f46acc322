/**
 * PLAIN (no Electron): the desktop shell's own preferences — where the data folder is, window
 * size, tray behaviour, start at login, problem notifications — kept as JSON under the app's
 * user-data folder. Server settings are not here: they belong to the server and are changed
 * through the admin API.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { PartialSettings } from '../server/index.ts';

export interface WindowBounds {
  width: number;
  height: number;
  x?: number;
  y?: number;
}

export interface DesktopPreferences {
  /** The homeserver's data folder (database, media, keys). */
  dataDir: string;
  /** Closing the window keeps the server running in the tray (true), or quits. */
  closeToTray: boolean;
  autoStart: boolean;
  /** Start hidden in the tray (used when started at login). */
  startHidden: boolean;
  /** Native notifications for problems (certificate expiring, backup failed, disk nearly full). */
  notifyProblems: boolean;
  window: WindowBounds;
}

export const PREFERENCES_FILE = 'preferences.json';
const MIN_WIDTH = 720;
const MIN_HEIGHT = 520;

export function defaultPreferences(userDataDir: string): DesktopPreferences {
  return {
    dataDir: join(userDataDir, 'hearth-data'),
    closeToTray: true,
    autoStart: false,
    startHidden: false,
    notifyProblems: true,
    window: { width: 1180, height: 820 },
  };
}

/** Reads preferences, keeping every valid field and defaulting the rest; a broken file is ignored. */
export function loadPreferences(userDataDir: string, file = join(userDataDir, PREFERENCES_FILE)): DesktopPreferences {
  const d = defaultPreferences(userDataDir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return d;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return d;
  const r = raw as Record<string, unknown>;
  const bool = (v: unknown, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);
  return {
    dataDir: typeof r.dataDir === 'string' && isAbsolute(r.dataDir) ? r.dataDir : d.dataDir,
    closeToTray: bool(r.closeToTray, d.closeToTray),
    autoStart: bool(r.autoStart, d.autoStart),
    startHidden: bool(r.startHidden, d.startHidden),
    notifyProblems: bool(r.notifyProblems, d.notifyProblems),
    window: sanitizeBounds(r.window, d.window),
  };
}

function sanitizeBounds(v: unknown, fallback: WindowBounds): WindowBounds {
  if (v === null || typeof v !== 'object') return fallback;
  const w = v as Record<string, unknown>;
  const int = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x) : undefined);
  const width = int(w.width);
  const height = int(w.height);
  if (width === undefined || height === undefined) return fallback;
  const out: WindowBounds = { width: Math.max(MIN_WIDTH, Math.min(width, 10_000)), height: Math.max(MIN_HEIGHT, Math.min(height, 10_000)) };
  const x = int(w.x);
  const y = int(w.y);
  if (x !== undefined && y !== undefined) {
    out.x = x;
    out.y = y;
  }
  return out;
}

/** Writes atomically (temp file, then rename), so a crash never leaves half a file. */
export function savePreferences(userDataDir: string, prefs: DesktopPreferences, file = join(userDataDir, PREFERENCES_FILE)): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(prefs, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Saves `prefs` with `change` applied and returns the result; on a failed write nothing changed. */
export function updatePreferences(userDataDir: string, prefs: DesktopPreferences, change: Partial<DesktopPreferences>): DesktopPreferences {
  const next = { ...prefs, ...change };
  savePreferences(userDataDir, next);
  return next;
}

/**
 * The settings the shell gives the homeserver. The admin listener takes any free loopback port:
 * the window learns the address from the running server, and a headless Hearth on the default
 * port does not get in the way.
 */
export function serverOverrides(prefs: DesktopPreferences): PartialSettings {
  return {
    dataDir: prefs.dataDir,
    adminListen: { host: '127.0.0.1', port: 0 },
  } as PartialSettings;
}
