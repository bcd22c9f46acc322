/**
 * The headless command line: a stable interface that tests and tools drive Hearth through.
 * Flags override the settings file and stored settings.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { LOG_LEVELS } from '../logger.ts';
import { REGISTRATION_MODES, parseListen, settingsSchema, type PartialSettings } from './settings.ts';

export const HELP = `Usage: npm start -- [flags]

Runs the Hearth homeserver headless.

  --data DIR                      data folder: database, journal, signing key, media, TLS files
                                  (default ./hearth-data)
  --server-name NAME              the server name, e.g. example.org, localhost:8448 (default localhost).
                                  It is part of every user id and cannot be changed later.
  --listen HOST:PORT              client API (and federation, unless split), plain HTTP
                                  (default 127.0.0.1:8008)
  --admin-listen HOST:PORT        the admin pages and admin API (default 127.0.0.1:8009: this computer only)
  --federation-listen HOST:PORT   a TLS listener serving the federation API and the client API
  --tls-cert FILE                 certificate (PEM) for --federation-listen
  --tls-key FILE                  private key (PEM) for --federation-listen
  --tls-mode MODE                 where the TLS listener's certificate comes from: none | self-signed |
                                  acme-http | acme-dns | files | proxy (default: files when --tls-cert is given)
  --restore-backup FILE           restore a Hearth backup into the (empty) --data folder, then start
  --federation-allow-private-addresses
                                  let outbound federation reach loopback, private and link-local
                                  addresses (home labs, several servers in one house, tests)
  --registration MODE             who may create accounts: ${REGISTRATION_MODES.join(' | ')} (default closed)
  --registration-shared-secret S  enables /_synapse/admin/v1/register (shared-secret admin registration)
  --public-base-url URL           the client URL announced in /.well-known/matrix/client
  --log-level LEVEL               ${LOG_LEVELS.join(' | ')} (default info)
  --config FILE                   a JSON settings file (same names as the settings, e.g. {"serverName": "example.org"})
  --help                          show this help
`;

export interface CliResult {
  help: boolean;
  /** --restore-backup: a backup file to restore into the data folder before starting. */
  restoreBackup?: string;
  settings: PartialSettings;
  configFile?: PartialSettings;
}

/** Parses argv into settings. Throws an Error with a readable message on bad input. */
export function parseCliArgs(argv: string[]): CliResult {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      'server-name': { type: 'string' },
      listen: { type: 'string' },
      'federation-listen': { type: 'string' },
      'admin-listen': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-mode': { type: 'string' },
      'restore-backup': { type: 'string' },
      'federation-allow-private-addresses': { type: 'boolean' },
      registration: { type: 'string' },
      'registration-shared-secret': { type: 'string' },
      'public-base-url': { type: 'string' },
      'log-level': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const s: PartialSettings = {};
  if (values.data !== undefined) s.dataDir = values.data;
  if (values['server-name'] !== undefined) s.serverName = values['server-name'];
  if (values.listen !== undefined) s.listen = parseListen(values.listen);
  if (values['admin-listen'] !== undefined) s.adminListen = parseListen(values['admin-listen']);
  if (values['federation-listen'] !== undefined) s.federationListen = parseListen(values['federation-listen']);
  if (values['tls-cert'] !== undefined) s.tlsCert = values['tls-cert'];
  if (values['tls-key'] !== undefined) s.tlsKey = values['tls-key'];
  if (values['tls-mode'] !== undefined) {
    const modes = settingsSchema.shape.tlsMode.unwrap().options;
    if (!(modes as readonly string[]).includes(values['tls-mode'])) throw new Error(`--tls-mode must be one of ${modes.join(', ')}`);
    s.tlsMode = values['tls-mode'] as PartialSettings['tlsMode'];
  }
  if (values['federation-allow-private-addresses']) s.federationAllowPrivateAddresses = true;
  if (values.registration !== undefined) {
    if (!(REGISTRATION_MODES as readonly string[]).includes(values.registration)) {
      throw new Error(`--registration must be one of ${REGISTRATION_MODES.join(', ')}`);
    }
    s.registration = values.registration as PartialSettings['registration'];
  }
  if (values['registration-shared-secret'] !== undefined) s.registrationSharedSecret = values['registration-shared-secret'];
  if (values['public-base-url'] !== undefined) s.publicBaseUrl = values['public-base-url'];
  if (values['log-level'] !== undefined) {
    if (!(LOG_LEVELS as string[]).includes(values['log-level'])) {
      throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    }
    s.logLevel = values['log-level'] as PartialSettings['logLevel'];
  }
  if (s.federationListen && !s.tlsMode && (!s.tlsCert || !s.tlsKey)) {
    throw new Error('--federation-listen needs --tls-cert and --tls-key');
  }
  let configFile: PartialSettings | undefined;
  if (values.config !== undefined) configFile = readSettingsFile(values.config);
  return { help: values.help === true, settings: s, configFile, restoreBackup: values['restore-backup'] };
}

export function readSettingsFile(path: string): PartialSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read settings file ${path}: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    const obj = v as Record<string, unknown>;
    // Accept "HOST:PORT" strings for listen addresses, as on the command line.
    for (const k of ['listen', 'federationListen', 'adminListen'] as const) {
      if (typeof obj[k] === 'string') obj[k] = parseListen(obj[k] as string);
    }
    return obj as PartialSettings;
  } catch (e) {
    throw new Error(`Settings file ${path} is not valid: ${(e as Error).message}`);
  }
}
