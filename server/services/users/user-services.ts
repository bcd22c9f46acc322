/**
 * Builds the accounts-and-sessions services (issue 3) from their storage and settings; called by
 * homeserver.ts. `close()` flushes batched last-seen data and stops timers; call it before the
 * database closes.
 */
import type { Bus } from '../bus.ts';
import type { UsersStore } from '../../storage/users.ts';
import { AccountService } from './accounts.ts';
import { DeviceService } from './devices.ts';
import { PasswordHasher, type ScryptParams } from './passwords.ts';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitConfig } from './rate-limit.ts';
import { RegistrationService } from './registration.ts';
import { TokenService } from './tokens.ts';
import { UserInteractiveAuth } from './uia.ts';

export interface UserServicesOptions {
  store: UsersStore;
  serverName: string;
  bus: Bus;
  clock?: () => number;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Cheaper scrypt for tests; the default is the production cost. */
  scrypt?: ScryptParams;
  rateLimit?: RateLimitConfig;
  accessTokenLifetimeMs?: number;
  lastSeenFlushMs?: number;
  uiaSessionTtlMs?: number;
}

export interface UserServices {
  store: UsersStore;
  passwords: PasswordHasher;
  tokens: TokenService;
  uia: UserInteractiveAuth;
  accounts: AccountService;
  devices: DeviceService;
  registration: RegistrationService;
  /** Limits /login and /register attempts per IP and per user. */
  loginLimiter: RateLimiter;
  registerLimiter: RateLimiter;
  close(): Promise<void>;
}

export async function createUserServices(o: UserServicesOptions): Promise<UserServices> {
  const clock = o.clock ?? Date.now;
  const onError = (msg: string, err: unknown): void => o.log?.warn(msg, { error: (err as Error)?.message ?? String(err) });
  const passwords = new PasswordHasher(o.scrypt);
  const tokens = new TokenService({
    store: o.store,
    clock,
    accessTokenLifetimeMs: o.accessTokenLifetimeMs,
    lastSeenFlushMs: o.lastSeenFlushMs,
    onError,
  });
  const uia = new UserInteractiveAuth({ clock, sessionTtlMs: o.uiaSessionTtlMs });
  const accounts = new AccountService({ store: o.store, tokens, passwords, bus: o.bus, serverName: o.serverName });
  uia.registerStage('m.login.password', accounts.passwordStage());
  const devices = new DeviceService({ store: o.store, tokens, bus: o.bus });
  const registration = new RegistrationService({ store: o.store, tokens, passwords, uia, serverName: o.serverName, clock, onError });
  await registration.init();
  const rl = o.rateLimit ?? DEFAULT_RATE_LIMIT;
  return {
    store: o.store,
    passwords,
    tokens,
    uia,
    accounts,
    devices,
    registration,
    loginLimiter: new RateLimiter(rl, clock),
    registerLimiter: new RateLimiter(rl, clock),
    async close() {
      uia.close();
      await tokens.close();
    },
  };
}
