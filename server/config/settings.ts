/**
 * Hearth's settings: schema, defaults, and the merge order
 * defaults < settings stored in the database < settings file (--config) < command-line flags.
 */
import { z } from '../validation/schema.ts';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import { DNS_PROVIDERS, TLS_MODES } from '../services/admin/status-types.ts';

export const REGISTRATION_MODES = ['open', 'token', 'captcha', 'closed'] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

export interface ListenAddress {
  host: string;
  port: number;
}

const listenSchema = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });

/** Everything a homeserver needs to start. Secrets stay out of logs (logger redacts by key name). */
export const settingsSchema = z.object({
  serverName: z.string().min(1),
  dataDir: z.string().min(1),
  listen: listenSchema,
  federationListen: listenSchema.optional(),
  /** The admin GUI and /_hearth/api listener (--admin-listen); loopback by default, never the client origin. */
  adminListen: listenSchema,
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  registration: z.enum(REGISTRATION_MODES),
  registrationSharedSecret: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]),
  defaultRoomVersion: z.string().min(1),
  /** Public URL clients use, announced in /.well-known/matrix/client; derived from `listen` when absent. */
  publicBaseUrl: z.string().url().optional(),
  federationEnabled: z.boolean(),
  federationAllowPrivateAddresses: z.boolean(),
  /** Verify remote servers' TLS certificates (off only for a home lab; NODE_EXTRA_CA_CERTS adds CAs). */
  federationVerifyTls: z.boolean(),
  /** Extra trusted CAs (PEM file) for outbound federation, on top of the system store. */
  federationExtraCaCerts: z.string().min(1).optional(),
  /** Served as /.well-known/matrix/server `m.server` (delegation to another host[:port]). */
  federationWellKnownServer: z.string().min(1).optional(),
  /** Servers refused in both directions; `*` and `?` globs allowed (e.g. `*.example.org`). */
  federationDenyServers: z.array(z.string().min(1)).optional(),
  /** When set, the only servers federated with (globs as for the deny list). */
  federationAllowServers: z.array(z.string().min(1)).optional(),
  /** Notaries asked for keys a server cannot give us itself; default matrix.org. */
  federationTrustedKeyServers: z
    .array(z.object({ serverName: z.string().min(1), verifyKeys: z.record(z.string(), z.string()).optional() }))
    .optional(),
  /** Send our users' presence to other servers (m.presence EDUs); off by default, as it is chatty. */
  federationSendPresence: z.boolean().optional(),
  /** First retry interval after a failed federation transaction (doubles per failure, up to 1 hour); default 10 s. */
  federationRetryMinMs: z.number().int().positive().optional(),
  /** TURN servers announced by /voip/turnServer (e.g. turn:turn.example.org:3478?transport=udp). */
  turnUris: z.array(z.string()).optional(),
  /** coturn's static-auth-secret: credentials are HMAC-SHA1 time-limited (use-auth-secret mode). */
  turnSharedSecret: z.string().min(1).optional(),
  turnUserLifetimeMs: z.number().int().positive().optional(),
  /** Largest JSON request body accepted (bytes). */
  maxJsonBodyBytes: z.number().int().positive(),
  /** Journal size that triggers a checkpoint (bytes). */
  journalLimitBytes: z.number().int().positive(),
  /** Localpart of the system user that sends server notices (Synapse's system_mxid_localpart). */
  serverNoticesLocalpart: z.string().regex(/^[a-z0-9._=/+-]+$/),
  // ---- TLS, backups and CAPTCHA (services/admin/tls.ts, acme.ts, backups.ts; services/users/captcha.ts) ----
  /** How the TLS listener gets its certificate; 'proxy' means a reverse proxy terminates TLS. */
  tlsMode: z.enum(TLS_MODES).optional(),
  /** Extra names and addresses for the self-signed certificate (the server name and LAN IPs are always in it). */
  tlsSelfSignedNames: z.array(z.string().min(1)).optional(),
  /** Addresses (or CIDR ranges) of the reverse proxy whose X-Forwarded-For is believed, in 'proxy' mode. */
  trustedProxies: z.array(z.string().min(1)).optional(),
  acmeDirectoryUrl: z.string().url().optional(),
  /** Extra CA (PEM file) trusted for the ACME directory's HTTPS (a private ACME server, tests). */
  acmeDirectoryCaFile: z.string().optional(),
  acmeEmail: z.string().email().optional(),
  /** Names on the certificate; default the server name. */
  acmeDomains: z.array(z.string().min(1)).optional(),
  /** Port the HTTP-01 answers are served on (routers may forward port 80 to another one). */
  acmeChallengePort: z.number().int().min(1).max(65535).optional(),
  acmeDnsProvider: z.enum(DNS_PROVIDERS).optional(),
  /** The DNS provider's API base URL (tests point it at a local fake). */
  acmeDnsApiUrl: z.string().url().optional(),
  acmeDnsApiToken: z.string().min(1).optional(),
  /** deSEC: the domain registered there (default the certificate name). */
  acmeDnsZone: z.string().min(1).optional(),
  /** 'hook': a shell command run with HEARTH_ACME_ACTION=set|clear, HEARTH_ACME_RECORD, HEARTH_ACME_TXT.
   * Settings file or flags only, never stored from the GUI: a stored command would turn an admin session into a shell. */
  acmeDnsHookCommand: z.string().min(1).optional(),
  /** Wait after setting the TXT record, for the provider's DNS servers to serve it. */
  acmeDnsPropagationSeconds: z.number().int().min(0).max(3600).optional(),
  /** Backups: target folder, schedule (hours between automatic backups; absent = manual only), how many to keep. */
  backupDir: z.string().min(1).optional(),
  backupIntervalHours: z.number().positive().max(24 * 365).optional(),
  backupKeep: z.number().int().min(1).max(1000).optional(),
  recaptchaSiteKey: z.string().min(1).optional(),
  recaptchaSecretKey: z.string().min(1).optional(),
  recaptchaSiteverifyUrl: z.string().url().optional(),
  // ---- Media repository (services/media/) ----
  /** Largest upload accepted (bytes; default 50 MiB); announced as m.upload.size. */
  maxUploadBytes: z.number().int().positive().optional(),
  /** Bytes each user may keep uploaded; absent = no per-user quota. */
  userMediaQuotaBytes: z.number().int().positive().optional(),
  /** Bytes all media (uploads and the remote cache) may take; absent = no total quota. */
  totalMediaQuotaBytes: z.number().int().positive().optional(),
  /** Remote media not accessed for this long is dropped from the cache; absent = kept. */
  remoteMediaRetentionMs: z.number().int().positive().optional(),
  /** Remote rooms more complex than this (current state events / 500) cannot be joined, as
   * Synapse's limit_remote_rooms (services/admin/storage-care.ts); absent = no limit. */
  maxRemoteRoomComplexity: z.number().positive().optional(),
  /** URL previews fetch pages on behalf of users: off unless the admin turns them on. */
  urlPreviewEnabled: z.boolean().optional(),
  /** Addresses or CIDR ranges URL previews may reach although they are private/loopback/link-local. */
  urlPreviewIpRangeAllowlist: z.array(z.string().min(1)).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type PartialSettings = Partial<Settings>;

export const DEFAULT_SETTINGS: Settings = {
  serverName: 'localhost',
  dataDir: 'hearth-data',
  listen: { host: '127.0.0.1', port: 8008 },
  adminListen: { host: '127.0.0.1', port: 8009 },
  registration: 'closed',
  logLevel: 'info',
  defaultRoomVersion: '12',
  federationEnabled: true,
  federationAllowPrivateAddresses: false,
  federationVerifyTls: true,
  maxJsonBodyBytes: 10 * 1024 * 1024,
  journalLimitBytes: 64 * 1024 * 1024,
  serverNoticesLocalpart: 'notices',
};

/** Settings that may be stored in the database and changed from the GUI. */
export const STORED_SETTING_KEYS = [
  // Set by the setup wizard only, while no account exists; PUT /_hearth/api/v1/settings refuses it.
  'serverName',
  'registration',
  'logLevel',
  'defaultRoomVersion',
  'publicBaseUrl',
  'federationEnabled',
  'federationAllowPrivateAddresses',
  'federationVerifyTls',
  'federationWellKnownServer',
  'federationDenyServers',
  'federationAllowServers',
  'federationTrustedKeyServers',
  'turnUris',
  'turnSharedSecret',
  'turnUserLifetimeMs',
  'maxUploadBytes',
  'userMediaQuotaBytes',
  'totalMediaQuotaBytes',
  'remoteMediaRetentionMs',
  'maxRemoteRoomComplexity',
  'urlPreviewEnabled',
  'urlPreviewIpRangeAllowlist',
  'tlsMode',
  'tlsSelfSignedNames',
  'trustedProxies',
  'acmeDirectoryUrl',
  'acmeEmail',
  'acmeDomains',
  'acmeChallengePort',
  'acmeDnsProvider',
  'acmeDnsApiUrl',
  'acmeDnsApiToken',
  'acmeDnsZone',
  'acmeDnsPropagationSeconds',
  'backupDir',
  'backupIntervalHours',
  'backupKeep',
  'recaptchaSiteKey',
  'recaptchaSecretKey',
  'recaptchaSiteverifyUrl',
] as const satisfies readonly (keyof Settings)[];

/** Merges layers left to right (later wins) and validates the result. Throws a readable Error. */
export function mergeSettings(...layers: PartialSettings[]): Settings {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  }
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ');
    throw new Error(`Invalid settings: ${msg}`);
  }
  return parsed.data;
}

/** Parses `HOST:PORT`, `[v6]:PORT` or `PORT`. */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`Expected HOST:PORT, got "${value}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`Port out of range in "${value}"`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
