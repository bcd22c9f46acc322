// Builds the desktop app's JavaScript from main/ (Electron cannot run TypeScript):
//  - dist/desktop/main.mjs: the main process with the homeserver it runs in-process (ESM; npm
//    packages and electron stay external, electron-builder ships node_modules);
//  - dist/desktop/preload.cjs: the preload bridge. A sandboxed preload must be one CommonJS file
//    whose only import is electron.
// Also builds the admin pages when stale (scripts/build-if-needed.mjs does the same for npm start).
// `npm run build:desktop`, then `electron .` or `electron-builder --config electron.config.ts`
// where the Electron binary can be downloaded.
import { build } from 'esbuild';
import { join } from 'node:path';
import { DESKTOP_DIR, DESKTOP_MAIN_FILE, DESKTOP_PRELOAD_FILE } from './desktop-paths.mjs';

export async function buildDesktop(outDir = DESKTOP_DIR) {
  const common = { bundle: true, platform: 'node', target: 'node22', logLevel: 'warning', external: ['electron'] };
  await build({ ...common, entryPoints: [join('main', 'index.ts')], outfile: join(outDir, DESKTOP_MAIN_FILE), format: 'esm', packages: 'external' });
  await build({ ...common, entryPoints: [join('main', 'preload', 'index.ts')], outfile: join(outDir, DESKTOP_PRELOAD_FILE), format: 'cjs' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await import('./build-if-needed.mjs');
  await buildDesktop();
  process.stdout.write(`desktop app built: ${join(DESKTOP_DIR, DESKTOP_MAIN_FILE)}, ${join(DESKTOP_DIR, DESKTOP_PRELOAD_FILE)}\n`);
}
