/**
 * PLAIN (no Electron): "start Hearth when I sign in". macOS and Windows have Electron's login item
 * settings; Linux desktops have none, so there it is an XDG autostart entry
 * (~/.config/autostart/hearth.desktop, the freedesktop "Desktop Application Autostart"
 * specification) that starts the app hidden in the tray. An AppImage is started through its own
 * file ($APPIMAGE), since the binary inside it lives in a temporary mount.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LoginItems {
  get(): boolean;
  set(enabled: boolean): void;
}

export interface AutoStartOptions {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  /** The running executable (process.execPath). */
  execPath: string;
  /** Electron's app.getLoginItemSettings/setLoginItemSettings, for macOS and Windows. */
  loginItems: LoginItems;
}

export interface AutoStart {
  enabled(): boolean;
  /** Turns it on or off; returns what the system now says. */
  set(enabled: boolean): boolean;
}

/** Desktop entry Exec quoting: inside double quotes, `"`, `` ` ``, `$` and `\` are escaped. */
function quoteExec(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function desktopEntry(command: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Hearth',
    "Comment=Your family's Matrix server, started in the tray",
    `Exec=${quoteExec(command)} --hidden`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function autoStart(opts: AutoStartOptions): AutoStart {
  if (opts.platform !== 'linux') {
    return {
      enabled: () => opts.loginItems.get(),
      set: (enabled) => {
        opts.loginItems.set(enabled);
        return opts.loginItems.get();
      },
    };
  }
  const dir = join(opts.env.XDG_CONFIG_HOME || join(opts.home, '.config'), 'autostart');
  const file = join(dir, 'hearth.desktop');
  const enabled = (): boolean => {
    if (!existsSync(file)) return false;
    const text = readFileSync(file, 'utf8');
    return !/^Hidden\s*=\s*true\s*$/im.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/im.test(text);
  };
  return {
    enabled,
    set: (on) => {
      if (on) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, desktopEntry(opts.env.APPIMAGE || opts.execPath));
      } else {
        rmSync(file, { force: true });
      }
      return enabled();
    },
  };
}
