/**
 * Draws alerts.ts's problems as native notifications with Electron's Notification; a click opens
 * the window at the problem's page. No decisions here.
 */
import { Notification } from 'electron';
import { join } from 'node:path';
import type { AlertPage, Problem } from '../alerts.ts';
import { HEARTH_ROOT } from '../../server/paths.ts';

const ICON = join(HEARTH_ROOT, 'assets', 'icon.png');

export function notificationSink(onClick: (page: AlertPage | null) => void): (p: Problem) => void {
  // Held until closed or clicked: a Notification that is garbage-collected loses its click handler.
  const live = new Set<Notification>();
  return (p) => {
    if (!Notification.isSupported()) return;
    const n = new Notification({ title: p.title, body: p.body, icon: ICON, urgency: p.urgent ? 'critical' : 'normal' });
    live.add(n);
    n.on('click', () => {
      live.delete(n);
      onClick(p.page);
    });
    n.on('close', () => live.delete(n));
    n.show();
  };
}
