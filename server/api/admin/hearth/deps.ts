/**
 * What Hearth's admin API needs from the rest of the server, as narrow interfaces that
 * homeserver.ts implements. Accounts are reached through a function because setting the server
 * name during setup rebuilds the account services.
 */
import type { TokenResolver } from '../../http/auth.ts';
import type { Logger } from '../../../logger.ts';
import type { AdminSettings } from '../../../services/admin/settings.ts';
import type { LanAddress, RegistrationMode, ServerState, TlsMode } from './types.ts';
import type { AdminTools } from '../../../wiring-admin-tools.ts';
import type { StorageCare } from '../../../services/admin/storage-care.ts';
import type { FederationSelfTest } from '../../../services/federation/self-test.ts';

export interface IssuedAdminSession {
  user_id: string;
  access_token: string;
  device_id: string;
}

export interface AdminAccounts {
  countUsers(): number;
  /** Creates an admin account and logs it in on a new device. M_USER_IN_USE, M_INVALID_USERNAME. */
  createAdmin(username: string, password: string): Promise<IssuedAdminSession>;
  /** Checks the password and that the account is an admin (M_FORBIDDEN otherwise); new device. */
  loginAdmin(username: string, password: string): Promise<IssuedAdminSession>;
  /** Ends one session (the GUI's sign-out). */
  logout(userId: string, deviceId: string): Promise<void>;
  tokens: TokenResolver;
}

/** The settings in effect, as far as the admin API looks at them. */
export interface EffectiveSettings {
  serverName: string;
  dataDir: string;
  listen: { host: string; port: number };
  registration: RegistrationMode;
  federationEnabled: boolean;
  publicBaseUrl?: string;
  tlsMode?: TlsMode;
  [key: string]: unknown;
}

export interface AdminApiDeps {
  log: Logger;
  settings: AdminSettings;
  effective(): EffectiveSettings;
  /** Setting keys a flag or the settings file pins (they win over stored values). */
  overriddenKeys(): readonly string[];
  accounts(): AdminAccounts;
  countRooms(): number;
  /** Re-reads stored settings and rebuilds the services (after the server name changed). */
  reloadServices(): Promise<void>;
  state(): ServerState;
  urls(): { client: string; federation?: string; admin: string };
  startedTs(): number;
  version: string;
  /** TLS, backups and CAPTCHA machinery (absent in tests that don't need it). */
  adminTools?: AdminTools;
  /** Overrides for tests; default os.networkInterfaces() and a walk of the data folder. */
  lanAddresses?(): LanAddress[];
  diskUsage?(dataDir: string): Promise<{ totalBytes: number; databaseBytes: number; mediaBytes: number }>;
  /** Storage care of the running services (sizes, purges, compaction); absent before start. */
  storageCare?(): StorageCare | undefined;
  /** The federation self-test of the running services; absent before start. */
  federationSelfTest?(): FederationSelfTest | undefined;
}
