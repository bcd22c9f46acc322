/**
 * The admin session: from the desktop bridge when running in Hearth's window, otherwise from
 * signing in as a Matrix admin. Kept in sessionStorage: it survives a reload of the tab and ends
 * with it, so a shared family computer does not stay signed in.
 */
import { desktopBridge } from '../desktop/bridge.ts';

export interface Session {
  userId: string;
  accessToken: string;
  deviceId?: string;
  /** True when the desktop shell handed it out (no sign-out button then). */
  desktop?: boolean;
}

const KEY = 'hearth.admin.session';

export function loadStoredSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    return typeof s.accessToken === 'string' && typeof s.userId === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function storeSession(s: Session | undefined): void {
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage can be disabled; the session then lasts as long as the page.
  }
}

/** The desktop shell's session, if this page runs in Hearth's window. */
export async function desktopSession(): Promise<Session | undefined> {
  const bridge = desktopBridge();
  if (!bridge) return undefined;
  const s = await bridge.getAdminSession();
  return s ? { userId: s.userId, accessToken: s.accessToken, desktop: true } : undefined;
}
