/**
 * The composition root: the only place that constructs things. Opens storage, builds services,
 * mounts the API and owns the listeners. Several homeservers can share one process (federation tests).
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { createApp } from './api/http/app.ts';
import * as discovery from './api/client/discovery.ts';
import { DEFAULT_SETTINGS, mergeSettings, STORED_SETTING_KEYS, type PartialSettings, type Settings } from './config/settings.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import { openSqlJsDatabase } from './storage/sqljs/open.ts';
import { loadOrCreateSigningKey, type SigningKey } from './services/federation/server-keys.ts';
import { buildServices, type BuiltServices, type TestingOptions } from './wiring.ts';

export interface HomeserverOptions {
  /** Settings layers, lowest precedence first, after the stored ones: e.g. [settingsFile, flags]. */
  overrides: PartialSettings[];
  /** Where log lines go (stderr by default). */
  logSink?: (line: string) => void;
  /** Test-only knobs (cheaper password hashing, rate limits). Never set by the CLI. */
  testing?: TestingOptions;
}

export type HomeserverState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface Homeserver {
  readonly settings: Settings;
  readonly log: Logger;
  readonly state: HomeserverState;
  /** Base URLs of the listeners, available once started. */
  readonly urls: { client: string; federation?: string };
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Listener {
  server: Server;
  sockets: Set<Socket>;
}

/** Reads settings stored in the database (changed from the GUI); flags and files override them. */
function readStoredSettings(db: Database): PartialSettings {
  const rows = db.read((r) => r.all('SELECT key, value FROM kv_settings'));
  const stored: Record<string, unknown> = {};
  for (const row of rows) {
    const key = String(row.key);
    if ((STORED_SETTING_KEYS as readonly string[]).includes(key)) stored[key] = JSON.parse(String(row.value));
  }
  return stored as PartialSettings;
}

export async function createHomeserver(opts: HomeserverOptions): Promise<Homeserver> {
  // Defaults plus overrides tell the data folder, which must be known before stored settings are read.
  const baseline = mergeSettings(DEFAULT_SETTINGS, ...opts.overrides);
  const log = createLogger(baseline.logLevel, opts.logSink);
  mkdirSync(baseline.dataDir, { recursive: true });

  let state: HomeserverState = 'stopped';
  let db: Database | undefined;
  let settings: Settings = baseline;
  let signingKey: SigningKey | undefined;
  let services: BuiltServices | undefined;
  const listeners: Listener[] = [];
  const urls: { client: string; federation?: string } = { client: '' };

  const listen = (server: Server, host: string, port: number): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const sockets = new Set<Socket>();
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve({ server, sockets });
      });
    });

  const urlOf = (scheme: string, l: Listener): string => {
    const a = l.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${scheme}://${host}:${a.port}`;
  };

  const hs: Homeserver = {
    get settings() {
      return settings;
    },
    log,
    get state() {
      return state;
    },
    urls,
    async start() {
      if (state !== 'stopped') throw new Error(`Cannot start: homeserver is ${state}`);
      state = 'starting';
      try {
        db = await openSqlJsDatabase({
          dataDir: baseline.dataDir,
          journalLimitBytes: baseline.journalLimitBytes,
          onLog: (level, msg, fields) => log[level](msg, fields),
        });
        settings = mergeSettings({ ...baseline }, readStoredSettings(db), ...opts.overrides);
        log.level = settings.logLevel;
        signingKey = loadOrCreateSigningKey(settings.dataDir);
        log.info(`server name ${settings.serverName}, signing key ${signingKey.keyId}`);

        let publicBaseUrl = settings.publicBaseUrl;
        services = await buildServices({ db, settings: () => settings, signingKey, log, testing: opts.testing });
        const built = services;
        const { app } = createApp({
          log,
          maxJsonBodyBytes: settings.maxJsonBodyBytes,
          mount: (r) => {
            discovery.register(r, {
              publicBaseUrl: () => publicBaseUrl ?? urls.client,
              unstableFeatures: () => ({}),
            });
            built.mount(r);
          },
        });

        const client = await listen(createHttpServer(app), settings.listen.host, settings.listen.port);
        listeners.push(client);
        urls.client = urlOf('http', client);
        log.info(`client API listening on ${urls.client}`);
        if (settings.federationListen) {
          const tls = createHttpsServer({ cert: readFileSync(settings.tlsCert!), key: readFileSync(settings.tlsKey!) }, app);
          const fed = await listen(tls as unknown as Server, settings.federationListen.host, settings.federationListen.port);
          listeners.push(fed);
          urls.federation = urlOf('https', fed);
          log.info(`federation and client API (TLS) listening on ${urls.federation}`);
        }
        publicBaseUrl ??= urls.client;
        state = 'running';
      } catch (e) {
        await closeEverything();
        state = 'stopped';
        throw e;
      }
    },
    async stop() {
      if (state !== 'running') return;
      state = 'stopping';
      await closeEverything();
      state = 'stopped';
      log.info('stopped');
    },
  };

  /** Stop accepting, let in-flight requests finish (bounded), then flush storage. */
  async function closeEverything(): Promise<void> {
    await Promise.all(
      listeners.splice(0).map(
        (l) =>
          new Promise<void>((resolve) => {
            l.server.close(() => resolve());
            l.server.closeIdleConnections();
            const force = setTimeout(() => {
              for (const s of l.sockets) s.destroy();
            }, 5000);
            force.unref();
          }),
      ),
    );
    if (services) {
      await services.close();
      services = undefined;
    }
    if (db) {
      await db.close();
      db = undefined;
    }
  }

  return hs;
}
