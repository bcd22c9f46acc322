/** The GUI's views and the address each one shows (pages and their paths: page-paths.ts). */
import type { SetupStateResponse } from '../../server/api/admin/hearth/types.ts';
import type { Session } from './api/session.ts';
import { BASE, pagePath, type PageId } from './page-paths.ts';

export type View =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'setup'; setup: SetupStateResponse }
  | { kind: 'sign-in'; notice?: string }
  | { kind: 'dashboard'; session: Session; notes?: string[]; page: PageId };

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
