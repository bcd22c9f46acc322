/**
 * Wire types of Hearth's own admin API (`/_hearth/api/v1/`), shared with the GUI, which imports
 * this file with `import type` only. Types only: no values. Where a service's report is sent as
 * is (TLS and backup status, log records), the shape is defined once in the service's types-only
 * module and re-exported here with `export type`; those modules import nothing, so the GUI can
 * type-check them without Node (services may not import api/, so the shapes cannot live here).
 */
import type { LogLevelName, LogRecord } from '../../../log-record.ts';
import type { BackupInfo, BackupStatus, CertificateInfo, DnsProviderName, TlsMode, TlsStatus } from '../../../services/admin/status-types.ts';

export type { BackupInfo, CertificateInfo, DnsProviderName, LogLevelName, LogRecord, TlsMode };

export type RegistrationMode = 'closed' | 'token' | 'captcha' | 'open';
export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface LanAddress {
  interface: string;
  address: string;
  family: 'IPv4' | 'IPv6';
}

/** GET /setup/state: public while setup is needed, so the wizard can start without a session. */
export interface SetupStateResponse {
  needsSetup: boolean;
  /** The current server name (public: it is part of every user id). */
  serverName?: string;
  /** True when `--server-name` (or the settings file) fixes the name, so the wizard cannot set it. */
  serverNameLocked?: boolean;
  /** Shown by the wizard's "how devices reach it" step (only while setup is needed). */
  lanAddresses?: LanAddress[];
  clientPort?: number;
  /** True when the client listener accepts connections from this computer only. */
  clientLoopbackOnly?: boolean;
}

/** POST /setup */
export interface SetupRequest {
  serverName: string;
  admin: { username: string; password: string };
  tlsMode: TlsMode;
  registration: RegistrationMode;
  federationEnabled: boolean;
}

export interface SetupResponse {
  user_id: string;
  access_token: string;
  device_id: string;
  server_name: string;
  /** Plain-language notes about choices not yet in effect (e.g. TLS modes still to come). */
  notes: string[];
}

/** POST /login: an admin's Matrix password gives a session for the admin GUI. */
export interface AdminLoginRequest {
  username: string;
  password: string;
}

export interface AdminLoginResponse {
  user_id: string;
  access_token: string;
  device_id: string;
}

/** GET /settings; PUT /settings takes `Partial<values>` (null resets a key to its default). */
export interface SettingsResponse {
  values: Record<string, unknown>;
  /** The settings in effect (defaults, stored values, file and flags merged). */
  effective: Record<string, unknown>;
  /** Secret keys (shared secrets, API tokens) that have a value; their values are never sent. */
  secretsSet: string[];
  /** Keys a command-line flag or the settings file pins: changing them here has no effect. */
  overridden: string[];
  /** Keys this API accepts. */
  keys: string[];
}

export interface StatusResponse {
  state: ServerState;
  serverName: string;
  /** Base URLs of the listeners. */
  addresses: { client: string; federation?: string; admin: string };
  /** The URL clients should use (publicBaseUrl, or the client listener). */
  publicBaseUrl: string;
  lanAddresses: LanAddress[];
  clientPort: number;
  /** True when the client listener only accepts connections from this machine. */
  clientLoopbackOnly: boolean;
  counts: { users: number; rooms: number };
  disk: { totalBytes: number; databaseBytes: number; mediaBytes: number };
  tlsMode: TlsMode;
  registration: RegistrationMode;
  federationEnabled: boolean;
  startedTs: number;
  version: string;
}

/** GET/PUT /captcha: the secret key itself is never sent back. */
export interface CaptchaResponse {
  siteKey: string | null;
  secretKeySet: boolean;
  siteverifyUrl: string;
}

/** POST /captcha/test */
export interface CaptchaTestResponse {
  ok: boolean;
  message: string;
}

/** GET/PUT /tls and every TLS action's answer. Secrets are write-only: only whether one is set. */
export interface TlsResponse extends TlsStatus {
  settings: {
    selfSignedNames: string[];
    trustedProxies: string[];
    acme: {
      directoryUrl: string | null;
      email: string | null;
      domains: string[];
      challengePort: number | null;
      dnsProvider: DnsProviderName | null;
      dnsApiUrl: string | null;
      dnsZone: string | null;
      dnsApiTokenSet: boolean;
      dnsHookCommandSet: boolean;
    };
  };
}

/** GET /backups, PUT /backups/settings */
export type BackupsResponse = BackupStatus;

/** POST /backups */
export interface BackupNowResponse {
  backup: BackupInfo;
}

/** POST /backups/verify */
export interface VerifyBackupResponse {
  ok: true;
  createdTs: number;
  serverName: string;
  files: number;
  bytes: number;
}

/** GET /logs */
export interface LogsResponse {
  /** Newest first. */
  records: LogRecord[];
  /** Records matching the filter (at most the ring's size). */
  total: number;
  /** Records kept in memory, matching or not. */
  kept: number;
}

export interface MatrixErrorBody {
  errcode: string;
  error: string;
}
