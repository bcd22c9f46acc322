// Where `npm run build:desktop` (build-desktop.mjs) puts the desktop app's JavaScript, relative
// to the install's root; main/electron/window.ts loads the preload from there. Plain JS so the
// build script runs under node without tsx; desktop-paths.d.mts types it for main/.
import { join } from 'node:path';

export const DESKTOP_DIR = join('dist', 'desktop');
export const DESKTOP_MAIN_FILE = 'main.mjs';
export const DESKTOP_PRELOAD_FILE = 'preload.cjs';
