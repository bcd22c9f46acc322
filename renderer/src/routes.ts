/** The GUI's pages and their addresses under /_hearth/admin/. */
import type { SetupStateResponse } from '../../server/api/admin/hearth/types.ts';
import type { Session } from './api/session.ts';

export const BASE = '/_hearth/admin/';

export type View =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'setup'; setup: SetupStateResponse }
  | { kind: 'sign-in'; notice?: string }
  | { kind: 'dashboard'; session: Session; notes?: string[] };

export function routePath(view: View): string | undefined {
  switch (view.kind) {
    case 'setup':
      return `${BASE}setup`;
    case 'sign-in':
      return `${BASE}sign-in`;
    case 'dashboard':
      return BASE;
    default:
      return undefined;
  }
}
