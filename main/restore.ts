/**
 * PLAIN (no Electron): the desktop app's "Restore from a backup" (issue 4, "Backups"). The same
 * offline restore as the CLI's --restore-backup (server/wiring-admin-tools.ts restoreBackupInto:
 * verified first, one-time and fallback keys cleared), done for a family without a command line:
 * verify, stop the server, move the data folder aside (never deleted), restore into the now-empty
 * folder, start again. A restore that fails after the move puts the old folder back and starts
 * the server on it.
 */
import { existsSync, renameSync } from 'node:fs';
import { verifyBackup } from '../server/services/admin/backups.ts';
import { restoreBackupInto } from '../server/wiring-admin-tools.ts';
import { errorText } from '../server/error-text.ts';
import type { RestoreBackupResult } from './ipc-contract.ts';
import type { ServerLifecycle } from './lifecycle.ts';

export interface RestoreInput {
  lifecycle: ServerLifecycle;
  /** The data folder the lifecycle's server uses. */
  dataDir: string;
  /** The backup file the user picked. */
  file: string;
  /** ms since epoch, for the name of the folder the current data moves to. */
  now: number;
}

/** `<dataDir>.before-restore-20250102T030405Z`, with a counter if that name is taken. */
function asideFolder(dataDir: string, now: number, suffix = 'before-restore'): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let path = `${dataDir}.${suffix}-${stamp}`;
  for (let n = 2; existsSync(path); n++) path = `${dataDir}.${suffix}-${stamp}-${n}`;
  return path;
}

export async function restoreFromBackup(input: RestoreInput): Promise<RestoreBackupResult> {
  const { lifecycle, dataDir, file, now } = input;
  // The whole file is checked before anything stops: a damaged file costs no downtime.
  try {
    await verifyBackup(file);
  } catch (e) {
    return { ok: false, error: `This file cannot be restored, so nothing was changed: ${errorText(e)}` };
  }

  await lifecycle.stop();
  const aside = asideFolder(dataDir, now);
  const hadData = existsSync(dataDir);
  try {
    if (hadData) renameSync(dataDir, aside);
  } catch (e) {
    await lifecycle.start();
    return { ok: false, error: `Could not move the current data aside, so nothing was changed: ${errorText(e)}` };
  }

  let failure: string | undefined;
  try {
    await restoreBackupInto(file, dataDir, { verified: true });
    const s = await lifecycle.start();
    if (s.state !== 'running') failure = `Hearth did not start on the restored data: ${s.state === 'failed' ? s.reason : s.state}`;
  } catch (e) {
    failure = errorText(e);
  }
  if (failure === undefined) return { ok: true, movedAsideTo: aside };

  // Roll back: the restored folder (if any) is kept for inspection, the old one goes back.
  await lifecycle.stop();
  try {
    if (existsSync(dataDir)) renameSync(dataDir, asideFolder(dataDir, now, 'failed-restore'));
    if (hadData) renameSync(aside, dataDir);
  } catch (e) {
    return { ok: false, error: `The restore failed (${failure}) and the old data could not be put back: ${errorText(e)}. It is in ${aside}.` };
  }
  await lifecycle.start();
  return { ok: false, error: `The restore failed, so Hearth went back to the data it had: ${failure}` };
}
