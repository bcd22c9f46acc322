/** The GUI's pages and their addresses under /_hearth/admin/. */
import type { SetupStateResponse } from '../../server/api/admin/hearth/types.ts';
import type { Session } from './api/session.ts';

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

export type View =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'setup'; setup: SetupStateResponse }
  | { kind: 'sign-in'; notice?: string }
  | { kind: 'dashboard'; session: Session; notes?: string[]; page: PageId };

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

export function routePath(view: View): string | undefined {
  switch (view.kind) {
    case 'setup':
      return `${BASE}setup`;
    case 'sign-in':
      return `${BASE}sign-in`;
    case 'dashboard':
      return pagePath(view.page);
    default:
      return undefined;
  }
}
