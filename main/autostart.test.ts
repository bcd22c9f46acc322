import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoStart, desktopEntry, type LoginItems } from './autostart.ts';

const noLoginItems: LoginItems = {
  get: () => assert.fail('Linux has no login items'),
  set: () => assert.fail('Linux has no login items'),
};

test('Linux: an XDG autostart entry that starts the app hidden, removed when turned off', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'hearth-autostart-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const a = autoStart({ platform: 'linux', env: {}, home, execPath: '/opt/Hearth/hearth', loginItems: noLoginItems });
  assert.equal(a.enabled(), false);
  assert.equal(a.set(true), true);
  const file = join(home, '.config', 'autostart', 'hearth.desktop');
  const entry = readFileSync(file, 'utf8');
  assert.match(entry, /^\[Desktop Entry\]\nType=Application\nName=Hearth\n/);
  assert.match(entry, /^Exec=\/opt\/Hearth\/hearth --hidden$/m);
  assert.equal(a.set(false), false);
  assert.equal(a.enabled(), false);
  assert.equal(a.set(false), false, 'turning off twice is fine');
  // An entry the desktop's own settings switched off counts as off.
  a.set(true);
  writeFileSync(file, readFileSync(file, 'utf8').replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'));
  assert.equal(a.enabled(), false);
});

test('Linux: XDG_CONFIG_HOME is honoured, and an AppImage starts through its own file', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'hearth-autostart-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const config = join(home, 'cfg');
  const a = autoStart({
    platform: 'linux',
    env: { XDG_CONFIG_HOME: config, APPIMAGE: '/home/mum/Apps/Hearth 1.0.AppImage' },
    home,
    execPath: '/tmp/.mount_Hearth/hearth',
    loginItems: noLoginItems,
  });
  assert.equal(a.set(true), true);
  assert.match(readFileSync(join(config, 'autostart', 'hearth.desktop'), 'utf8'), /^Exec="\/home\/mum\/Apps\/Hearth 1.0.AppImage" --hidden$/m);
});

test('desktop entry quoting escapes what the specification reserves', () => {
  assert.match(desktopEntry('/a b/$x"y`z\\w'), /^Exec="\/a b\/\\\$x\\"y\\`z\\\\w" --hidden$/m);
});

test('macOS and Windows use the login item settings', () => {
  let openAtLogin = false;
  const calls: boolean[] = [];
  const loginItems: LoginItems = { get: () => openAtLogin, set: (on) => void (calls.push(on), (openAtLogin = on)) };
  for (const platform of ['darwin', 'win32'] as const) {
    const a = autoStart({ platform, env: {}, home: '/nonexistent', execPath: 'x', loginItems });
    assert.equal(a.set(true), true);
    assert.equal(a.enabled(), true);
    assert.equal(a.set(false), false);
  }
  assert.deepEqual(calls, [true, false, true, false]);
});
