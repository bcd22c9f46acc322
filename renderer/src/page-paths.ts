/**
 * The GUI's pages and their addresses under /_hearth/admin/. Plain TypeScript with no DOM and
 * no imports, so the desktop shell's notifications (main/alerts.ts) open the same addresses the
 * GUI's own router uses.
 */

export const BASE = '/_hearth/admin/';

/** The pages after setup, in the order the navigation lists them. */
export const PAGES = [
  { id: 'dashboard', title: 'Dashboard', nav: 'Dashboard', group: 'Overview' },
  { id: 'users', title: 'Users', nav: 'Users', group: 'People' },
  { id: 'registration', title: 'Registration', nav: 'Registration', group: 'People' },
  { id: 'rooms', title: 'Rooms', nav: 'Rooms', group: 'Conversations' },
  { id: 'reports', title: 'Reports', nav: 'Reports', group: 'Conversations' },
  { id: 'federation', title: 'Federation', nav: 'Federation', group: 'Server' },
  { id: 'tls', title: 'HTTPS & certificates', nav: 'HTTPS', group: 'Server' },
  { id: 'backups', title: 'Backups', nav: 'Backups', group: 'Server' },
  { id: 'storage', title: 'Storage', nav: 'Storage', group: 'Server' },
  { id: 'logs', title: 'Logs', nav: 'Logs', group: 'Server' },
] as const;
export type PageId = (typeof PAGES)[number]['id'];

export function pagePath(page: PageId): string {
  return page === 'dashboard' ? BASE : `${BASE}${page}`;
}

/** The page named by the address bar (the dashboard for anything else). */
export function pageFromPath(pathname: string): PageId {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/$/, '') : '';
  return PAGES.find((p) => p.id === rest)?.id ?? 'dashboard';
}

export function pageTitle(page: PageId): string {
  return PAGES.find((p) => p.id === page)!.title;
}
