/**
 * Where Hearth's own files are (migrations, the built admin pages, package.json), found from the
 * install's root rather than from this file's folder: the same code runs from server/*.ts under
 * tsx and bundled into dist/hearth.mjs by `npm start`, and the two sit at different depths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'hearth') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find Hearth's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const HEARTH_ROOT = findRoot();
export const HEARTH_VERSION = (JSON.parse(readFileSync(join(HEARTH_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
export const MIGRATIONS_DIR = join(HEARTH_ROOT, 'server', 'storage', 'sqljs', 'migrations');
export const GUI_DIR = join(HEARTH_ROOT, 'renderer', 'dist');
