/**
 * Settings the admin GUI changes, kept in the `kv_settings` table (one JSON value per key), and
 * the first-run setup state. homeserver.ts merges these stored values under the settings file and
 * the command-line flags, so a flag always wins; the GUI is told which keys a flag pins.
 */
import type { Database } from '../../storage/storage.ts';

/** Not a setting: when the setup wizard finished (ms since epoch). */
const SETUP_COMPLETED_KEY = 'setupCompletedTs';

export interface AdminSettingsOptions {
  db: Database;
  /** Keys the GUI may read and write (the lead's STORED_SETTING_KEYS plus the admin-only ones). */
  storedKeys: readonly string[];
  /**
   * Checks that the stored values, merged with everything else, still make valid settings.
   * Throws an Error with a readable message otherwise (homeserver passes mergeSettings).
   */
  validate(stored: Record<string, unknown>): void;
  /** Called after a successful write, so the running server picks the new values up. */
  onChanged?(): void | Promise<void>;
  clock?: () => number;
}

export class SettingsValidationError extends Error {
  override name = 'SettingsValidationError';
}

export class AdminSettings {
  private readonly clock: () => number;

  constructor(private readonly o: AdminSettingsOptions) {
    this.clock = o.clock ?? Date.now;
  }

  get storedKeys(): readonly string[] {
    return this.o.storedKeys;
  }

  /** Every stored value the GUI may see, keyed by setting name. */
  getStored(): Record<string, unknown> {
    const rows = this.o.db.read((r) => r.all('SELECT key, value FROM kv_settings'));
    const out: Record<string, unknown> = {};
    for (const row of rows) {
      const key = String(row.key);
      if (!this.o.storedKeys.includes(key)) continue;
      try {
        out[key] = JSON.parse(String(row.value));
      } catch {
        // A value that is not JSON was not written by us; ignore it rather than fail the page.
      }
    }
    return out;
  }

  getOne(key: string): unknown {
    return this.getStored()[key];
  }

  /**
   * Stores `patch` (null removes a key, so its default applies again). Unknown keys and values
   * that would make the settings invalid are refused before anything is written.
   */
  async update(patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    const unknown = Object.keys(patch).filter((k) => !this.o.storedKeys.includes(k));
    if (unknown.length > 0) throw new SettingsValidationError(`Not a setting that can be changed here: ${unknown.join(', ')}`);
    const next = { ...this.getStored() };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === undefined) delete next[k];
      else next[k] = v;
    }
    try {
      this.o.validate(next);
    } catch (e) {
      throw new SettingsValidationError((e as Error).message);
    }
    await this.o.db.write((w) => {
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === undefined) w.run('DELETE FROM kv_settings WHERE key = ?', [k]);
        else
          w.run('INSERT INTO kv_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [k, JSON.stringify(v)]);
      }
    });
    await this.o.onChanged?.();
    return this.getStored();
  }

  /** When setup finished, or undefined while it has not. */
  setupCompletedTs(): number | undefined {
    const row = this.o.db.read((r) => r.get('SELECT value FROM kv_settings WHERE key = ?', [SETUP_COMPLETED_KEY]));
    if (!row) return undefined;
    const v = Number(JSON.parse(String(row.value)));
    return Number.isFinite(v) ? v : undefined;
  }

  async markSetupComplete(): Promise<void> {
    const ts = this.clock();
    await this.o.db.write((w) =>
      w.run('INSERT INTO kv_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [SETUP_COMPLETED_KEY, JSON.stringify(ts)]),
    );
  }
}
