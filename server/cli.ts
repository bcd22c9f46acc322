/**
 * Headless entry: flags → settings → homeserver. SIGINT/SIGTERM stop it cleanly (stop accepting,
 * finish in-flight requests, flush storage) and exit 0.
 */
import { HELP, parseCliArgs } from './config/cli-args.ts';
import { createHomeserver } from './homeserver.ts';
import { DEFAULT_SETTINGS, mergeSettings } from './config/settings.ts';
import { restoreBackupInto } from './wiring-admin-tools.ts';
import { tuneRuntimeForServer } from './runtime-tuning.ts';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseCliArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`hearth: ${(e as Error).message}\n\nRun with --help to see the flags.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const overrides = parsed.configFile ? [parsed.configFile, parsed.settings] : [parsed.settings];
  if (parsed.restoreBackup !== undefined) {
    try {
      const dataDir = mergeSettings(DEFAULT_SETTINGS, ...overrides).dataDir;
      const r = await restoreBackupInto(parsed.restoreBackup, dataDir);
      process.stdout.write(
        `Restored the backup of ${r.manifest.serverName} from ${new Date(r.manifest.createdTs).toISOString()} into ${dataDir} ` +
          `(${r.manifest.files.length} files checked; one-time keys cleared, clients upload new ones).\n`,
      );
    } catch (e) {
      process.stderr.write(`hearth: could not restore the backup: ${(e as Error).message}\n`);
      return 1;
    }
  }
  tuneRuntimeForServer();
  let hs;
  try {
    hs = await createHomeserver({ overrides });
    await hs.start();
  } catch (e) {
    process.stderr.write(`hearth: could not start: ${(e as Error).message}\n`);
    return 1;
  }
  // A stray rejection in background work (a push, a federation retry) must not take the family's
  // server down: log it and keep serving.
  process.on('unhandledRejection', (reason) => {
    hs.log.error('unhandled rejection in background work', { error: reason instanceof Error ? reason.stack : String(reason) });
  });
  process.stdout.write(`Hearth is running. Server name: ${hs.settings.serverName}\n`);
  process.stdout.write(`Client API: ${hs.urls.client}\n`);
  if (hs.urls.admin) process.stdout.write(`Admin pages (open in a browser on this computer): ${hs.urls.admin}/_hearth/admin/\n`);
  if (hs.urls.federation) process.stdout.write(`Federation (TLS): ${hs.urls.federation}\n`);
  process.stdout.write('Press Ctrl+C to stop.\n');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      hs.log.info(`${sig} received, shutting down`);
      hs.stop().then(
        () => resolve(0),
        (e: unknown) => {
          process.stderr.write(`hearth: error while stopping: ${(e as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
}

main().then((code) => process.exit(code));
