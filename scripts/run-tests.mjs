// Runs every *.test.ts under server/, main/ and bench/ with Node's own test runner (through tsx),
// so `npm test` and `.ci/run` end with the runner's summary. Pass paths to run a subset.
// e2e/**/*.spec.ts (Chromium against a headless Hearth) run in the same node:test run; the admin
// GUI is built once first when any of them is included.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['server', 'main'];
function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts') || (dir.startsWith('e2e') && name.endsWith('.spec.ts'))) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const files = args.length > 0 ? args : [...roots, 'e2e'].flatMap((r) => collect(r, [])).sort();
if (files.some((f) => f.endsWith('.spec.ts'))) {
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'renderer', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write('run-tests: building the admin GUI (renderer/) failed\n');
    process.exit(build.status ?? 1);
  }
}
const concurrency = process.env.HEARTH_TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
