// Temporary data folders for the storage tests, removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDataDir(t: { after(fn: () => void): void }, label = 'storage'): string {
  const dir = mkdtempSync(join(tmpdir(), `hearth-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
