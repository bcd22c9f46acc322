/**
 * PLAIN (no Electron): hands the desktop window a short-lived admin session, so the person at the
 * computer that runs Hearth is not asked for the admin password. Sessions are minted by the
 * homeserver (a function given by index.ts), cached, and re-minted shortly before they expire;
 * concurrent requests share one mint. Before setup there is no admin, so the session is null and
 * the window shows the wizard.
 */
import type { DesktopAdminSession } from './ipc-contract.ts';

export interface MintedSession {
  userId: string;
  accessToken: string;
  expiresTs: number;
}

export interface AdminSessionOptions {
  /** Mints a session for an admin account, or null when none exists yet. */
  mint(): Promise<MintedSession | null>;
  /** The admin listener's base URL, or undefined while the server is not running. */
  baseUrl(): string | undefined;
  clock?: () => number;
  /** Re-mint when less than this remains. Default 60 s. */
  refreshMarginMs?: number;
}

export class AdminSessionBroker {
  private cached: MintedSession | undefined;
  private pending: Promise<MintedSession | null> | undefined;
  private readonly clock: () => number;
  private readonly margin: number;

  constructor(private readonly o: AdminSessionOptions) {
    this.clock = o.clock ?? Date.now;
    this.margin = o.refreshMarginMs ?? 60_000;
  }

  async get(): Promise<DesktopAdminSession | null> {
    const baseUrl = this.o.baseUrl();
    if (!baseUrl) return null;
    if (!this.cached || this.cached.expiresTs - this.margin <= this.clock()) {
      this.pending ??= this.o.mint().finally(() => {
        this.pending = undefined;
      });
      const minted = await this.pending;
      this.cached = minted ?? undefined;
    }
    if (!this.cached) return null;
    return { baseUrl, userId: this.cached.userId, accessToken: this.cached.accessToken, expiresTs: this.cached.expiresTs };
  }

  /** Forget the cached session (server restarted, or the token was refused). */
  invalidate(): void {
    this.cached = undefined;
  }
}

/** The only page the desktop window may show or ask the bridge from: the admin listener's GUI. */
export function isAdminOrigin(url: string, adminBaseUrl: string | undefined): boolean {
  if (!adminBaseUrl) return false;
  try {
    return new URL(url).origin === new URL(adminBaseUrl).origin;
  } catch {
    return false;
  }
}
