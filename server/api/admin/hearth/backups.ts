/**
 * The GUI's Backups page (`/_hearth/api/v1/backups`), admins only: the folder, schedule and how
 * many to keep; the backups in the folder; back up now; check a backup's checksums. Restoring is
 * an offline operation (`--restore-backup FILE`, or the desktop app with the server stopped), so
 * it has no endpoint here.
 */
import { z } from '../../../validation/schema.ts';
import { invalidParam } from '../../../errors.ts';
import { BackupError, type BackupService } from '../../../services/admin/backups.ts';
import { SettingsValidationError } from '../../../services/admin/settings.ts';
import { requireAdmin, type TokenResolver } from '../../http/auth.ts';
import type { ApiRouter } from '../../http/router.ts';
import { parseBody } from '../../http/validate.ts';
import type { BackupNowResponse, BackupsResponse, VerifyBackupResponse } from './types.ts';

export interface BackupsApiDeps {
  backups: BackupService;
  /** Stores settings (AdminSettings.update): validates, writes, and makes them current. */
  settings: { update(patch: Record<string, unknown>): Promise<unknown> };
}

const settingsBody = z.object({
  dir: z.string().min(1).max(4096).nullable().optional(),
  intervalHours: z.number().positive().max(24 * 365).nullable().optional(),
  keep: z.number().int().min(1).max(1000).nullable().optional(),
});
const verifyBody = z.object({ name: z.string().min(1).max(255) });

async function adminFixable<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BackupError || e instanceof SettingsValidationError) throw invalidParam(e.message);
    throw e;
  }
}

export function register(r: ApiRouter, deps: BackupsApiDeps, tokens: TokenResolver): void {
  const admin = requireAdmin(tokens);
  const { backups } = deps;

  r.route('GET', '/_hearth/api/v1/backups', [admin, (_req, res) => void res.json(backups.status() satisfies BackupsResponse)]);

  r.route('PUT', '/_hearth/api/v1/backups/settings', [
    admin,
    async (req, res) => {
      const b = parseBody(settingsBody, req.body);
      const patch: Record<string, unknown> = {};
      if (b.dir !== undefined) patch.backupDir = b.dir;
      if (b.intervalHours !== undefined) patch.backupIntervalHours = b.intervalHours;
      if (b.keep !== undefined) patch.backupKeep = b.keep;
      await adminFixable(() => deps.settings.update(patch));
      res.json(backups.status() satisfies BackupsResponse);
    },
  ]);

  r.route('POST', '/_hearth/api/v1/backups', [
    admin,
    async (_req, res) => {
      const backup = await adminFixable(() => backups.backupNow());
      res.json({ backup } satisfies BackupNowResponse);
    },
  ]);

  r.route('POST', '/_hearth/api/v1/backups/verify', [
    admin,
    async (req, res) => {
      const { name } = parseBody(verifyBody, req.body);
      const m = await adminFixable(() => backups.verify(name));
      const body: VerifyBackupResponse = {
        ok: true,
        createdTs: m.createdTs,
        serverName: m.serverName,
        files: m.files.length,
        bytes: m.files.reduce((n, f) => n + f.size, 0),
      };
      res.json(body);
    },
  ]);
}
