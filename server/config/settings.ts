/**
 * Hearth's settings: schema, defaults, and the merge order
 * defaults < settings stored in the database < settings file (--config) < command-line flags.
 */
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';

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
  /** TURN servers announced by /voip/turnServer (e.g. turn:turn.example.org:3478?transport=udp). */
  turnUris: z.array(z.string()).optional(),
  /** coturn's static-auth-secret: credentials are HMAC-SHA1 time-limited (use-auth-secret mode). */
  turnSharedSecret: z.string().min(1).optional(),
  turnUserLifetimeMs: z.number().int().positive().optional(),
  /** Largest JSON request body accepted (bytes). */
  maxJsonBodyBytes: z.number().int().positive(),
  /** Journal size that triggers a checkpoint (bytes). */
  journalLimitBytes: z.number().int().positive(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type PartialSettings = Partial<Settings>;

export const DEFAULT_SETTINGS: Settings = {
  serverName: 'localhost',
  dataDir: 'hearth-data',
  listen: { host: '127.0.0.1', port: 8008 },
  registration: 'closed',
  logLevel: 'info',
  defaultRoomVersion: '12',
  federationEnabled: true,
  federationAllowPrivateAddresses: false,
  maxJsonBodyBytes: 10 * 1024 * 1024,
  journalLimitBytes: 64 * 1024 * 1024,
};

/** Settings that may be stored in the database and changed from the GUI. */
export const STORED_SETTING_KEYS = [
  'registration',
  'logLevel',
  'defaultRoomVersion',
  'publicBaseUrl',
  'federationEnabled',
  'federationAllowPrivateAddresses',
  'turnUris',
  'turnSharedSecret',
  'turnUserLifetimeMs',
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
