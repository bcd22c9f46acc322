/**
 * PLAIN (no Electron): turns the server's status into what the tray shows — icon, tooltip and
 * menu items with their enabled state. electron/tray.ts only draws this model.
 */
import type { DesktopServerStatus } from './ipc-contract.ts';

export type TrayIcon = 'running' | 'busy' | 'stopped' | 'error';
export type TrayAction = 'open' | 'start' | 'stop' | 'restart' | 'quit';

export type TrayItem = { kind: 'action'; action: TrayAction; label: string; enabled: boolean } | { kind: 'label'; label: string } | { kind: 'separator' };

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  items: TrayItem[];
}

export function trayModel(status: DesktopServerStatus, serverName?: string): TrayModel {
  const name = serverName ? ` (${serverName})` : '';
  let icon: TrayIcon;
  let line: string;
  switch (status.state) {
    case 'running':
      icon = 'running';
      line = `Running${name}`;
      break;
    case 'starting':
      icon = 'busy';
      line = 'Starting…';
      break;
    case 'stopping':
      icon = 'busy';
      line = 'Stopping…';
      break;
    case 'stopped':
      icon = 'stopped';
      line = 'Stopped';
      break;
    case 'failed':
      icon = 'error';
      line = `Could not start: ${truncate(status.reason, 80)}`;
      break;
  }
  const busy = status.state === 'starting' || status.state === 'stopping';
  const running = status.state === 'running';
  return {
    icon,
    tooltip: `Hearth — ${line}`,
    items: [
      { kind: 'label', label: line },
      { kind: 'separator' },
      { kind: 'action', action: 'open', label: 'Open Hearth', enabled: true },
      running
        ? { kind: 'action', action: 'stop', label: 'Stop server', enabled: true }
        : { kind: 'action', action: 'start', label: status.state === 'failed' ? 'Try starting again' : 'Start server', enabled: !busy },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit Hearth', enabled: status.state !== 'stopping' },
    ],
  };
}

/** `s` cut to at most `n` characters, an ellipsis marking the cut. */
export function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
