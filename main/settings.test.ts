import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPreferences, loadPreferences, PREFERENCES_FILE, savePreferences, serverOverrides, updatePreferences } from './settings.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-main-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaults put the data folder under the user-data folder', () => {
  withDir((dir) => {
    const p = loadPreferences(dir);
    assert.deepEqual(p, defaultPreferences(dir));
    assert.equal(p.dataDir, join(dir, 'hearth-data'));
    assert.equal(p.closeToTray, true, 'closing the window keeps the server running');
  });
});

test('save then load round-trips, atomically', () => {
  withDir((dir) => {
    const p = { ...defaultPreferences(dir), autoStart: true, window: { width: 1000, height: 700, x: 10, y: 20 } };
    savePreferences(dir, p);
    assert.equal(existsSync(join(dir, `${PREFERENCES_FILE}.tmp`)), false);
    assert.deepEqual(loadPreferences(dir), p);
    assert.equal(JSON.parse(readFileSync(join(dir, PREFERENCES_FILE), 'utf8')).autoStart, true);
  });
});

test('a broken or hostile file falls back field by field', () => {
  withDir((dir) => {
    writeFileSync(join(dir, PREFERENCES_FILE), '{not json');
    assert.deepEqual(loadPreferences(dir), defaultPreferences(dir));
    writeFileSync(join(dir, PREFERENCES_FILE), JSON.stringify({ dataDir: 'relative/path', autoStart: 'yes', closeToTray: false, window: { width: 5, height: 99999 } }));
    const p = loadPreferences(dir);
    assert.equal(p.dataDir, join(dir, 'hearth-data'), 'relative data folders are refused');
    assert.equal(p.autoStart, false);
    assert.equal(p.closeToTray, false);
    assert.deepEqual(p.window, { width: 720, height: 10000 });
    writeFileSync(join(dir, PREFERENCES_FILE), '[1,2]');
    assert.deepEqual(loadPreferences(dir), defaultPreferences(dir));
  });
});

test('the server gets the data folder and a free loopback admin port', () => {
  const o = serverOverrides(defaultPreferences('/home/anna/.config/Hearth')) as Record<string, unknown>;
  assert.equal(o.dataDir, '/home/anna/.config/Hearth/hearth-data');
  assert.deepEqual(o.adminListen, { host: '127.0.0.1', port: 0 });
});

test('updatePreferences saves the change and returns it; the old object is left as it was', () => {
  withDir((dir) => {
    const before = defaultPreferences(dir);
    const after = updatePreferences(dir, before, { notifyProblems: false });
    assert.equal(after.notifyProblems, false);
    assert.equal(before.notifyProblems, true);
    assert.deepEqual(loadPreferences(dir), after);
  });
});
