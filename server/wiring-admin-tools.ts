/**
 * Wiring for the admin tools of issue 4, part of the composition root: TLS (certificates for the
 * TLS listener, swapped without a restart), backups (scheduled, and offline restore with the
 * sql.js engine) and the reCAPTCHA registration stage with its fallback page. homeserver.ts builds
 * the tools once storage is open (`createAdminTools`) because it owns the TLS listener; the
 * CAPTCHA stage needs the account services, so it is a WiringPart (`captchaPart`).
 */
import type { Settings } from './config/settings.ts';
import type { Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import type { ApiRouter } from './api/http/router.ts';
import type { WiringPart } from './wiring.ts';
import { SqlJsDatabase } from './storage/sqljs/database.ts';
import { openSqlJsDatabase } from './storage/sqljs/open.ts';
import { writeSnapshot } from './storage/sqljs/snapshot.ts';
import { TlsManager } from './services/admin/tls.ts';
import { BackupService, restoreBackup, type RestoreResult } from './services/admin/backups.ts';
import { lanAddresses } from './services/admin/stats.ts';
import { CaptchaService } from './services/users/captcha.ts';
import * as captchaFallback from './api/client/captcha-fallback.ts';

export interface AdminTools {
  tls: TlsManager;
  backups: BackupService;
  /** Reads the CAPTCHA settings for the admin API's "test" button. */
  captcha: CaptchaService;
  /** Routes on the client listener: ACME HTTP-01 answers and the local CA for phones. */
  mountClient(r: ApiRouter): void;
  close(): Promise<void>;
}

export interface AdminToolsInput {
  db: Database;
  settings: () => Settings;
  log: Logger;
}

export async function createAdminTools(input: AdminToolsInput): Promise<AdminTools> {
  const { db, settings, log } = input;
  const tls = new TlsManager({ settings, log, lanAddresses: () => lanAddresses().map((a) => a.address) });
  await tls.start();
  const backups = new BackupService({
    settings,
    log,
    databaseImage: () => {
      if (!(db instanceof SqlJsDatabase)) return Promise.reject(new Error('this storage engine cannot make backups'));
      return db.backupImage();
    },
  });
  backups.start();
  const captcha = new CaptchaService({ settings, log });
  return {
    tls,
    backups,
    captcha,
    mountClient(r) {
      r.route('GET', '/.well-known/acme-challenge/:token', [(req, res) => tls.http01.handle(req, res)]);
      // Public on purpose: a phone on the home network opens http://<address>/_hearth/ca.crt to
      // install the CA that signed Hearth's self-signed certificate.
      r.route('GET', '/_hearth/ca.crt', [
        (_req, res) => {
          const pem = tls.caCertificatePem();
          if (!pem) {
            res.status(404).type('text/plain').send('This server does not use a certificate made by Hearth.');
            return;
          }
          res.type('application/x-x509-ca-cert').setHeader('Content-Disposition', 'attachment; filename="hearth-ca.crt"');
          res.send(Buffer.from(pem));
        },
      ]);
    },
    async close() {
      await backups.close();
      await tls.close();
    },
  };
}

/** The m.login.recaptcha stage and its fallback page (registration mode 'captcha'). */
export const captchaPart: WiringPart = (ctx) => {
  const captcha = new CaptchaService({ settings: ctx.settings, log: ctx.log });
  captcha.attach(ctx.users.uia);
  return {
    mount: (r) => captchaFallback.register(r, { captcha, uia: ctx.users.uia }),
    close: async () => undefined,
  };
};

/** Restores a backup file into an empty data folder (offline: no server may use that folder). */
export function restoreBackupInto(file: string, dataDir: string, opts: { verified?: boolean } = {}): Promise<RestoreResult> {
  return restoreBackup(
    file,
    dataDir,
    {
      installDatabase: async (dir, seq, image) => void (await writeSnapshot(dir, seq, image)),
      openDatabase: (dir) => openSqlJsDatabase({ dataDir: dir }),
    },
    opts,
  );
}
