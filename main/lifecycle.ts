/**
 * PLAIN (no Electron): owns one homeserver's lifecycle for the desktop shell — start, stop,
 * restart — and reports status changes. Tested without the Electron binary.
 */
import { createHomeserver, type Homeserver, type PartialSettings } from '../server/index.ts';
import type { MintedAdminSession } from '../server/services/admin/admin-accounts.ts';

export type ShellStatus =
  | { state: 'stopped' }
  | { state: 'starting' }
  | { state: 'running'; clientUrl: string; adminUrl?: string }
  | { state: 'stopping' }
  | { state: 'failed'; reason: string };

export class ServerLifecycle {
  private hs: Homeserver | undefined;
  private current: ShellStatus = { state: 'stopped' };
  private readonly listeners = new Set<(s: ShellStatus) => void>();

  constructor(private readonly settings: () => PartialSettings) {}

  get status(): ShellStatus {
    return this.current;
  }

  /** The running homeserver, for in-process reads (alerts.ts's health snapshot); undefined otherwise. */
  get running(): Homeserver | undefined {
    return this.current.state === 'running' ? this.hs : undefined;
  }

  onStatus(fn: (s: ShellStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async start(): Promise<ShellStatus> {
    if (this.current.state === 'running' || this.current.state === 'starting') return this.current;
    this.set({ state: 'starting' });
    try {
      this.hs = await createHomeserver({ overrides: [this.settings()], logSink: () => {} });
      await this.hs.start();
      this.set({ state: 'running', clientUrl: this.hs.urls.client, adminUrl: this.hs.urls.admin });
    } catch (e) {
      this.hs = undefined;
      this.set({ state: 'failed', reason: (e as Error).message });
    }
    return this.current;
  }

  /** A short-lived admin session from the running homeserver; null before setup or when not running. */
  mintAdminSession(): Promise<MintedAdminSession | null> {
    return this.running?.mintAdminSession() ?? Promise.resolve(null);
  }

  async stop(): Promise<void> {
    if (!this.hs) return;
    this.set({ state: 'stopping' });
    const hs = this.hs;
    this.hs = undefined;
    await hs.stop();
    this.set({ state: 'stopped' });
  }

  async restart(): Promise<ShellStatus> {
    await this.stop();
    return this.start();
  }

  private set(s: ShellStatus): void {
    this.current = s;
    for (const l of this.listeners) l(s);
  }
}
