/**
 * Wiring of storage care and the federation self-test (issues 4 and 5), part of the composition
 * root: the hourly size sampler, purges and compaction (services/admin/storage-care.ts), the
 * Synapse purge_history API on the client listener, the room complexity endpoint for other
 * servers, and the self-test. The admin listener's app is built by homeserver.ts, so it reaches
 * the running tools with `storageCareTools(dataDir)`: one homeserver holds a data folder at a
 * time (the folder lock), and a rebuild replaces the entry before the old part closes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { WiringPart } from './wiring.ts';
import { federationTransport } from './wiring-federation.ts';
import { mediaServices } from './wiring-media.ts';
import { stateMapKey } from './core/events/types.ts';
import { createSqlJsStorageCare } from './storage/sqljs/storage-care.ts';
import { diskUsage } from './services/admin/stats.ts';
import { StatsHistory } from './services/admin/stats-history.ts';
import { StorageCare } from './services/admin/storage-care.ts';
import { HttpsConnector } from './services/federation/client.ts';
import { FederationSelfTest } from './services/federation/self-test.ts';
import * as purgeHistoryApi from './api/admin/synapse/purge-history.ts';
import * as complexityApi from './api/federation/complexity.ts';

export interface StorageCareTools {
  storageCare: StorageCare;
  selfTest: FederationSelfTest;
}

const running = new Map<string, StorageCareTools>();

/** The tools of the homeserver running on `dataDir`, for the admin app (homeserver.ts). */
export function storageCareTools(dataDir: string): StorageCareTools | undefined {
  return running.get(resolve(dataDir));
}

export const storageCarePart: WiringPart = async (ctx) => {
  const { db, settings, serverName, log } = ctx;
  const dataDir = resolve(settings().dataDir);
  const store = createSqlJsStorageCare(db);
  const measure = () => diskUsage(dataDir);
  const now = Date.now;
  const logTo = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void => log[level](msg, fields);
  const history = new StatsHistory({ store, measure, now, log: logTo });
  const media = await mediaServices(ctx);
  const storageCare = new StorageCare({
    store,
    history,
    measure,
    compact: () => db.compact(),
    purgeRemoteMedia: (beforeTs) => media.repository.purgeRemoteMedia(beforeTs),
    bus: ctx.bus,
    serverName,
    now,
    log: logTo,
  });

  const transport = await federationTransport(ctx);
  // The well-known lookup reaches our own name, which may well be a private address at home.
  const connector = new HttpsConnector({
    settings: () => ({ verifyTls: true, extraCaCertsFile: settings().federationExtraCaCerts, allowPrivateAddresses: true }),
  });
  const selfTest = new FederationSelfTest({
    serverName,
    signingKey: transport.signingKey,
    federationEnabled: () => settings().federationEnabled,
    allowPrivateAddresses: () => settings().federationAllowPrivateAddresses,
    fetchWellKnown: (host) => connector.fetchWellKnown(host),
    trustedCas: () => trustedCas(settings().federationExtraCaCerts),
    now,
  });

  const tools: StorageCareTools = { storageCare, selfTest };
  running.set(dataDir, tools);
  history.start();

  return {
    mount(r) {
      purgeHistoryApi.register(r, { tokens: ctx.users.tokens, storageCare });
      complexityApi.register(r, {
        fed: transport.authMiddleware,
        roomState: (roomId) => {
          const state = ctx.rooms.sender.cache.get(roomId)?.state;
          if (!state) return undefined;
          const joinRule = state.get(stateMapKey('m.room.join_rules', ''))?.content.join_rule;
          const visibility = state.get(stateMapKey('m.room.history_visibility', ''))?.content.history_visibility;
          return { stateEventCount: state.size, isPublic: joinRule === 'public' || visibility === 'world_readable' };
        },
      });
    },
    async close() {
      if (running.get(dataDir) === tools) running.delete(dataDir);
      await history.stop();
      connector.close();
    },
  };
};

/** As the federation client trusts: the system roots, NODE_EXTRA_CA_CERTS and the configured extra CAs. */
function trustedCas(extraFile: string | undefined): string[] | undefined {
  if (!extraFile) return undefined;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return [...rootCertificates, ...(extra ? [readFileSync(extra, 'utf8')] : []), readFileSync(extraFile, 'utf8')];
}
