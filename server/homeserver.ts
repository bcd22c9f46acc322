/**
 * The composition root: the only place that constructs things. Opens storage, builds services,
 * mounts the API and owns the listeners. Several homeservers can share one process (federation tests).
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { GUI_DIR, HEARTH_VERSION } from './paths.ts';
import type { AddressInfo, Socket } from 'node:net';
import { apiServerClasses, createApp } from './api/http/app.ts';
import { createAdminApp } from './api/admin/hearth/admin-app.ts';
import { AdminSettings } from './services/admin/settings.ts';
import { adminAccounts, type MintedAdminSession } from './services/admin/admin-accounts.ts';
import * as discovery from './api/client/discovery.ts';
import { DEFAULT_SETTINGS, formatListen, mergeSettings, STORED_SETTING_KEYS, type PartialSettings, type Settings } from './config/settings.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import { openSqlJsDatabase } from './storage/sqljs/open.ts';
import { loadOrCreateSigningKey, type SigningKey } from './services/federation/server-keys.ts';
import { buildServices, type BuiltServices, type TestingOptions } from './wiring.ts';
import { createAdminTools, type AdminTools } from './wiring-admin-tools.ts';
import { storageCareTools } from './wiring-storage-care.ts';

export interface HomeserverOptions {
  /** Settings layers, lowest precedence first, after the stored ones: e.g. [settingsFile, flags]. */
  overrides: PartialSettings[];
  /** Where log lines go (stderr by default). */
  logSink?: (line: string) => void;
  /** Test-only knobs (cheaper password hashing, rate limits). Never set by the CLI. */
  testing?: TestingOptions;
  /** The built admin GUI (default renderer/dist next to server/). */
  guiDir?: string;
}

export type HomeserverState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface Homeserver {
  readonly settings: Settings;
  readonly log: Logger;
  readonly state: HomeserverState;
  /** Base URLs of the listeners, available once started. */
  readonly urls: { client: string; federation?: string; admin?: string };
  /** TLS, backups and the CAPTCHA check (wiring-admin-tools.ts), available once started. */
  readonly adminTools: AdminTools | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * A short-lived admin access token for the desktop window (main/admin-session.ts), on the first
   * admin account; null before setup. Default lifetime: DESKTOP_SESSION_TTL_MS.
   */
  mintAdminSession(ttlMs?: number): Promise<MintedAdminSession | null>;
}

/** Lifetime of the desktop window's admin sessions: long enough to not churn, short if it leaks. */
const DESKTOP_SESSION_TTL_MS = 60 * 60_000;

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
  let services: Awaited<ReturnType<typeof buildServices>> | undefined;
  const listeners: Listener[] = [];
  const urls: { client: string; federation?: string; admin?: string } = { client: '' };
  let startedTs = 0;
  // The client and federation listeners call whichever app is current: setting the server name
  // during setup rebuilds the services, and with them the app.
  let clientApp: ReturnType<typeof createApp>['app'] | undefined;
  let adminTools: AdminTools | undefined;
  const overriddenKeys = (): string[] => [
    ...new Set(opts.overrides.flatMap((o) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k]) => k))),
  ];

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
    get adminTools() {
      return adminTools;
    },
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
        adminTools = await createAdminTools({ db, settings: () => settings, log });
        const tools = adminTools;

        services = await buildServices({ db, settings: () => settings, signingKey, log, testing: opts.testing });
        clientApp = buildClientApp(services);
        const database = db;
        const adminSettings = new AdminSettings({
          db: database,
          storedKeys: STORED_SETTING_KEYS,
          validate: (stored) => mergeSettings({ ...baseline }, stored as PartialSettings, ...opts.overrides),
          onChanged: () => {
            settings = mergeSettings({ ...baseline }, readStoredSettings(database), ...opts.overrides);
            log.level = settings.logLevel;
          },
        });
        const dispatch = (req: IncomingMessage, res: ServerResponse): void => void clientApp!(req, res);
        const client = await listen(createHttpServer(apiServerClasses, dispatch), settings.listen.host, settings.listen.port);
        listeners.push(client);
        urls.client = urlOf('http', client);
        log.info(`client API listening on ${urls.client}`);
        if (settings.federationListen) {
          const pair = tools.tls.current();
          if (!pair) throw new Error('the TLS listener needs a certificate: choose a TLS mode, or give --tls-cert and --tls-key');
          const tls = createHttpsServer({ ...apiServerClasses, cert: pair.certPem, key: pair.keyPem }, dispatch);
          // Renewed, regenerated or imported certificates are swapped in without a restart.
          tools.tls.onChange((p) => tls.setSecureContext({ cert: p.certPem, key: p.keyPem }));
          const fed = await listen(tls as unknown as Server, settings.federationListen.host, settings.federationListen.port);
          listeners.push(fed);
          urls.federation = urlOf('https', fed);
          log.info(`federation and client API (TLS) listening on ${urls.federation}`);
        }
        const adminApp = createAdminApp({
          log,
          guiDir: opts.guiDir ?? GUI_DIR,
          maxJsonBodyBytes: settings.maxJsonBodyBytes,
          settings: adminSettings,
          effective: () => settings,
          overriddenKeys,
          accounts: () => adminAccounts(services!.users, settings.serverName),
          countRooms: () => Number(database.read((r) => r.get('SELECT COUNT(*) AS n FROM rooms'))?.n ?? 0),
          reloadServices,
          state: () => state,
          urls: () => ({ client: urls.client, federation: urls.federation, admin: urls.admin ?? '' }),
          startedTs: () => startedTs,
          version: HEARTH_VERSION,
          adminTools: tools,
          storageCare: () => storageCareTools(settings.dataDir)?.storageCare,
          federationSelfTest: () => storageCareTools(settings.dataDir)?.selfTest,
          // The GUI uses Synapse's admin API on its own origin; the admin app keeps only those routes.
          extraRoutes: (r) => services!.mount(r),
        });
        const admin = await listen(createHttpServer(adminApp), settings.adminListen.host, settings.adminListen.port).catch((e: NodeJS.ErrnoException) => {
          throw new Error(
            e.code === 'EADDRINUSE'
              ? `the admin address ${formatListen(settings.adminListen)} is in use; choose another with --admin-listen HOST:PORT`
              : `cannot open the admin listener on ${formatListen(settings.adminListen)}: ${e.message}`,
          );
        });
        listeners.push(admin);
        urls.admin = urlOf('http', admin);
        log.info(`admin pages listening on ${urls.admin}/_hearth/admin/`);
        startedTs = Date.now();
        state = 'running';
      } catch (e) {
        await closeEverything();
        state = 'stopped';
        throw e;
      }
    },
    async mintAdminSession(ttlMs = DESKTOP_SESSION_TTL_MS) {
      if (state !== 'running' || !services) throw new Error(`Cannot mint an admin session: homeserver is ${state}`);
      return adminAccounts(services.users, settings.serverName).mintDesktopSession(ttlMs);
    },
    async stop() {
      if (state !== 'running') return;
      state = 'stopping';
      await closeEverything();
      state = 'stopped';
      log.info('stopped');
    },
  };

  /** The client API app over the current services. */
  function buildClientApp(built: BuiltServices): ReturnType<typeof createApp>['app'] {
    const app = createApp({
      log,
      maxJsonBodyBytes: settings.maxJsonBodyBytes,
      mount: (r) => {
        discovery.register(r, {
          publicBaseUrl: () => settings.publicBaseUrl ?? urls.client,
          unstableFeatures: () => ({ 'org.matrix.simplified_msc3575': true }),
        });
        built.mount(r);
        adminTools?.mountClient(r);
      },
    }).app;
    // TLS mode 'proxy': X-Forwarded-For is believed from the configured proxy addresses only.
    app.set('trust proxy', (addr: string) => adminTools?.tls.trustsProxy(addr) ?? false);
    return app;
  }

  /** Re-reads stored settings and rebuilds the services (setup changed the server name). */
  async function reloadServices(): Promise<void> {
    if (!db || !services || !signingKey) throw new Error('homeserver is not running');
    settings = mergeSettings({ ...baseline }, readStoredSettings(db), ...opts.overrides);
    const old = services;
    services = await buildServices({ db, settings: () => settings, signingKey, log, testing: opts.testing });
    clientApp = buildClientApp(services);
    await old.close();
    log.info(`services rebuilt for server name ${settings.serverName}`);
  }

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
    if (adminTools) {
      await adminTools.close();
      adminTools = undefined;
    }
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
