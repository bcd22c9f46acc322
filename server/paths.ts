/**
 * Where Hearth's own files are (migrations, the built admin pages, package.json), found from the
 * install's root rather than from this file's folder: the same code runs from server/*.ts under
 * tsx and bundled into dist/hearth.mjs by `npm start`, and the two sit at different depths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): { dir: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    const pkg = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string }) : undefined;
    if (pkg?.name === 'hearth') return { dir, version: pkg.version };
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find Hearth's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const root = findRoot();
export const HEARTH_ROOT = root.dir;
export const HEARTH_VERSION = root.version;
export const MIGRATIONS_DIR = join(HEARTH_ROOT, 'server', 'storage', 'sqljs', 'migrations');
export const GUI_DIR = join(HEARTH_ROOT, 'renderer', 'dist');
