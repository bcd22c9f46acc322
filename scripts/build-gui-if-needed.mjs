// Builds the admin GUI (renderer/) before `npm start` when its bundle is missing or older than
// its sources, so a fresh clone's first start serves the setup wizard without a separate step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const out = join('renderer', 'dist', 'index.html');
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'node_modules') continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}
if (!existsSync(out) || statSync(out).mtimeMs < newest('renderer')) {
  process.stdout.write('Building the admin pages (first start only)…\n');
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'renderer', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('Could not build the admin pages; the server still starts, without them.\n');
  }
}
