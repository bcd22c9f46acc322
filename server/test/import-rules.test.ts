// The layering ARCHITECTURE.md describes, checked on every import of the code (tests excepted):
// the protocol core is pure; storage knows nothing above it; services reach the database only
// through the storage interfaces, never sql.js; the API never reaches storage at all; only the
// Electron shell imports 'electron'; the GUI takes only types from the server and main process.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { HEARTH_ROOT } from '../paths.ts';

interface Import {
  file: string;
  /** A repository path for a relative import, else the package name. */
  target: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(HEARTH_ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'test') out.push(...sources(path));
    } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(HEARTH_ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = m[2]!;
    const target = spec.startsWith('.') ? relative(HEARTH_ROOT, join(HEARTH_ROOT, dirname(file), spec)).split('\\').join('/') : spec;
    return { file, target, typeOnly: m[1] !== undefined };
  });
}

const all = ['server', 'main', 'renderer/src'].flatMap(sources).flatMap(importsOf);
const from = (prefix: string): Import[] => all.filter((i) => i.file.startsWith(prefix));
const show = (list: Import[]): string => list.map((i) => `${i.file} → ${i.target}`).join('\n');

test('the import rules hold', () => {
  assert.ok(all.length > 1000, 'the scan finds the code');

  const core = from('server/core/').filter(
    (i) => !i.target.startsWith('server/core/') && !(i.target === 'node:crypto' && i.file.startsWith('server/core/crypto/')),
  );
  assert.equal(show(core), '', 'core imports only core (node:crypto only in core/crypto/)');

  const storage = from('server/storage/').filter((i) => /^server\/(services|api)\//.test(i.target));
  assert.equal(show(storage), '', 'storage imports nothing above it');
  const interfaces = from('server/storage/').filter((i) => !i.file.startsWith('server/storage/sqljs/') && i.target.startsWith('server/storage/sqljs/'));
  assert.equal(show(interfaces), '', 'the storage interfaces do not depend on their sql.js implementation');

  const services = from('server/services/').filter((i) => i.target.startsWith('server/storage/sqljs/') || i.target.startsWith('server/api/') || i.target === 'sql.js');
  assert.equal(show(services), '', 'services reach storage through its interfaces, never sql.js, and never the API');

  const api = from('server/api/').filter((i) => i.target.startsWith('server/storage/') || i.target === 'sql.js');
  assert.equal(show(api), '', 'the API never reaches storage');

  const server = from('server/').filter((i) => i.target === 'electron' || /^(main|renderer)\//.test(i.target));
  assert.equal(show(server), '', 'the server imports neither Electron nor the desktop shell nor the GUI');

  const electron = all.filter((i) => i.target === 'electron' && !(i.file === 'main/index.ts' || i.file.startsWith('main/electron/') || i.file.startsWith('main/preload/')));
  assert.equal(show(electron), '', "only the Electron shell imports 'electron'");

  const gui = from('renderer/').filter(
    (i) =>
      /^(server|main)\//.test(i.target) &&
      !(i.typeOnly && (i.target === 'main/ipc-contract.ts' || i.target === 'server/api/admin/hearth/types.ts')),
  );
  assert.equal(show(gui), '', 'the GUI takes only types, and only from the IPC contract and the admin API types');
});
