/**
 * Wiring of the federation transport (part of the composition root): our server keys, other
 * servers' keys, the resolver, the signing HTTP client, the X-Matrix middleware, and the basic
 * inbound endpoints (keys, version, queries, user keys, OpenID, public rooms, space hierarchy,
 * well-known).
 *
 * Other federation parts get the same transport with `await federationTransport(ctx)`: it is
 * built once per homeserver (memoised on the wiring context), whichever part asks first.
 */
import type { RequestHandler } from 'express';
import type { WiringContext, WiringPart } from './wiring.ts';
import type { Ed25519SigningKey } from './core/crypto/ed25519.ts';
import { FederationClient, HttpsConnector, fedPath } from './services/federation/client.ts';
import { KeyFetcher, type TrustedKeyServer } from './services/federation/key-fetcher.ts';
import { ServerResolver } from './services/federation/resolver.ts';
import { WellKnownCache } from './services/federation/well-known.ts';
import { OwnServerKeys } from './services/federation/server-keys.ts';
import { isServerAllowed, verifyRequest } from './services/federation/request-auth.ts';
import { createSqlJsFederationKeys } from './storage/sqljs/federation-keys.ts';
import { federationAuth, type InboundCheck } from './api/federation/auth.ts';
import * as serverKeysApi from './api/federation/server-keys.ts';
import * as versionApi from './api/federation/version.ts';
import * as queryApi from './api/federation/query.ts';
import * as openidApi from './api/federation/openid.ts';
import * as publicRoomsApi from './api/federation/public-rooms.ts';
import * as hierarchyApi from './api/federation/hierarchy.ts';

export { federationOrigin, type InboundCheck } from './api/federation/auth.ts';
export { FederationClient, FederationError, fedPath, type FederationRequestOptions, type FederationOutcome } from './services/federation/client.ts';

/** matrix.org's notary key, as Synapse ships it in its default `trusted_key_servers`. */
export const DEFAULT_TRUSTED_KEY_SERVERS: readonly TrustedKeyServer[] = [
  { serverName: 'matrix.org', verifyKeys: { 'ed25519:auto': 'Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw' } },
];

/** What every federation part builds on. */
export interface FederationTransport {
  serverName: string;
  /** Our signing key (for signing events and requests). */
  signingKey: Ed25519SigningKey;
  ownKeys: OwnServerKeys;
  /** Other servers' keys: `keys.keysFor(serverNames, minimumValidUntilTs)` → core KeyLookup. */
  keys: KeyFetcher;
  resolver: ServerResolver;
  /** Signed outbound requests: `client.request(destination, method, path, {body, query, timeoutMs})`. */
  client: FederationClient;
  /** Put first in every inbound federation route's handlers: verifies X-Matrix and the server lists. */
  authMiddleware: RequestHandler;
  /** Adds a check run by authMiddleware after the signature verified (e.g. room server ACLs). */
  addInboundCheck(check: InboundCheck): void;
  /** The deny/allow lists from settings, as applied in both directions. */
  isServerAllowed(serverName: string): boolean;
  close(): void;
}

const transports = new WeakMap<WiringContext, Promise<FederationTransport>>();

/** The transport of this homeserver, built on first use. */
export function federationTransport(ctx: WiringContext): Promise<FederationTransport> {
  let t = transports.get(ctx);
  if (!t) {
    t = buildTransport(ctx);
    transports.set(ctx, t);
  }
  return t;
}

async function buildTransport(ctx: WiringContext): Promise<FederationTransport> {
  const { settings, serverName, log } = ctx;
  const now = Date.now;
  const store = createSqlJsFederationKeys(ctx.db);
  const ownKeys = new OwnServerKeys({ serverName, key: ctx.signingKey, store, now });
  await ownKeys.init();
  const allowed = (name: string): boolean =>
    isServerAllowed(name, { deny: settings().federationDenyServers, allow: settings().federationAllowServers });
  const connector = new HttpsConnector({
    settings: () => ({
      verifyTls: settings().federationVerifyTls,
      extraCaCertsFile: settings().federationExtraCaCerts,
      allowPrivateAddresses: settings().federationAllowPrivateAddresses,
    }),
  });
  const resolver = new ServerResolver({ wellKnown: new WellKnownCache((h) => connector.fetchWellKnown(h), now), now });
  const client = new FederationClient({
    serverName,
    signingKey: ownKeys.signing,
    resolver,
    connector,
    isServerAllowed: (name) => settings().federationEnabled && allowed(name),
    now,
  });
  const keys = new KeyFetcher({
    serverName,
    store,
    client,
    ownKeys,
    notaries: () => settings().federationTrustedKeyServers ?? DEFAULT_TRUSTED_KEY_SERVERS,
    now,
    log: (level, msg, fields) => log[level](msg, fields),
  });
  const checks: InboundCheck[] = [];
  const authMiddleware = federationAuth({
    verify: (input) => verifyRequest(input, { serverName, keys, now, isOriginAllowed: allowed }),
    enabled: () => settings().federationEnabled,
    checks,
  });
  return {
    serverName,
    signingKey: ownKeys.signing,
    ownKeys,
    keys,
    resolver,
    client,
    authMiddleware,
    addInboundCheck: (check) => void checks.push(check),
    isServerAllowed: allowed,
    close: () => connector.close(),
  };
}

/** The transport part: keys, discovery and the basic query endpoints. */
export const federationTransportPart: WiringPart = async (ctx) => {
  const t = await federationTransport(ctx);
  const { settings, serverName } = ctx;
  const fed = t.authMiddleware;
  // Clients' /hierarchy walks into rooms this server is not in.
  ctx.hierarchy.useFederation({
    serverName,
    request: (server, roomId, suggestedOnly, timeoutMs) =>
      t.client.request(server, 'GET', fedPath`/_matrix/federation/v1/hierarchy/${roomId}`, { query: { suggested_only: suggestedOnly }, timeoutMs }),
  });
  // Clients' /keys/query and /keys/claim for users of other servers.
  ctx.deviceKeys.useFederation({
    query: (server, wanted, timeoutMs) => t.client.request(server, 'POST', '/_matrix/federation/v1/user/keys/query', { body: { device_keys: wanted }, timeoutMs }),
    claim: (server, wanted, timeoutMs) => t.client.request(server, 'POST', '/_matrix/federation/v1/user/keys/claim', { body: { one_time_keys: wanted }, timeoutMs }),
    devices: (server, userId, timeoutMs) => t.client.request(server, 'GET', fedPath`/_matrix/federation/v1/user/devices/${userId}`, { timeoutMs }),
  });
  return {
    mount(r) {
      serverKeysApi.register(r, { ownKeys: t.ownKeys, keys: t.keys, signingKey: t.signingKey, serverName, wellKnownServer: () => settings().federationWellKnownServer });
      versionApi.register(r);
      queryApi.register(r, { fed, serverName, rooms: ctx.rooms, profile: ctx.profile });
      openidApi.register(r, { openid: ctx.openid });
      publicRoomsApi.register(r, { fed, rooms: ctx.rooms });
      hierarchyApi.register(r, { fed, hierarchy: ctx.hierarchy });
    },
    close: async () => t.close(),
  };
};
