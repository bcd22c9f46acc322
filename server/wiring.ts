/**
 * The service graph, part of the composition root (homeserver.ts owns lifecycle and listeners,
 * this file builds services over storage and mounts every API module with its dependencies).
 * Nothing else constructs services, so several homeservers can share one process.
 */
import type { Settings } from './config/settings.ts';
import type { Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import type { SigningKey } from './services/federation/server-keys.ts';
import type { ApiRouter } from './api/http/router.ts';
import { requireAuth } from './api/http/auth.ts';
import { ROOM_VERSIONS } from './core/room-versions.ts';
import { Bus } from './services/bus.ts';
import { createSqlJsUsersStore } from './storage/sqljs/users.ts';
import { createUserServices } from './services/users/user-services.ts';
import type { ScryptParams } from './services/users/passwords.ts';
import type { RateLimitConfig } from './services/users/rate-limit.ts';
import { OpenIdTokens } from './services/users/openid.ts';
import * as discovery from './api/client/discovery.ts';
import * as loginApi from './api/client/login.ts';
import * as registerApi from './api/client/register.ts';
import * as accountApi from './api/client/account.ts';
import * as devicesApi from './api/client/devices.ts';
import * as voipApi from './api/client/voip.ts';
import * as thirdPartyApi from './api/client/third-party.ts';
import * as openidApi from './api/client/openid.ts';
import * as sharedSecretRegisterApi from './api/admin/synapse/shared-secret-register.ts';

export interface TestingOptions {
  scrypt?: ScryptParams;
  rateLimit?: RateLimitConfig;
}

export interface BuiltServices {
  mount(r: ApiRouter): void;
  close(): Promise<void>;
}

export interface WiringInput {
  db: Database;
  settings: () => Settings;
  signingKey: SigningKey;
  log: Logger;
  testing?: TestingOptions;
}

export async function buildServices(input: WiringInput): Promise<BuiltServices> {
  const { db, log } = input;
  const settings = input.settings;
  const serverName = settings().serverName;
  const bus = new Bus((event, err) => log.error(`bus handler for ${event} failed`, { error: (err as Error)?.stack ?? String(err) }));

  const users = await createUserServices({
    store: createSqlJsUsersStore(db),
    serverName,
    bus,
    log,
    scrypt: input.testing?.scrypt,
    rateLimit: input.testing?.rateLimit,
  });
  const auth = requireAuth(users.tokens);
  const openid = new OpenIdTokens();

  return {
    mount(r) {
      discovery.registerCapabilities(r, {
        auth,
        defaultRoomVersion: () => settings().defaultRoomVersion,
        roomVersions: () => Object.fromEntries([...ROOM_VERSIONS.values()].map((v) => [v.id, v.stable ? 'stable' : 'unstable'])),
      });
      loginApi.register(r, users);
      registerApi.register(r, { ...users, registrationMode: () => settings().registration });
      accountApi.register(r, users);
      devicesApi.register(r, users);
      sharedSecretRegisterApi.register(r, { registration: users.registration, sharedSecret: () => settings().registrationSharedSecret });
      voipApi.register(r, {
        auth,
        now: Date.now,
        turn: () => ({ uris: settings().turnUris, sharedSecret: settings().turnSharedSecret, lifetimeMs: settings().turnUserLifetimeMs }),
      });
      thirdPartyApi.register(r, { auth });
      openidApi.register(r, { auth, openid, serverName });
    },
    async close() {
      await users.close();
    },
  };
}
