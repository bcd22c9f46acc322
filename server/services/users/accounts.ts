/**
 * Accounts: password login (login.yaml), logout (logout.yaml), password change
 * (password_management.yaml), deactivation (account_deactivation.yaml), and the UIA
 * `m.login.password` stage that checks the requester's own password.
 */
import { MatrixError, forbidden } from '../../errors.ts';
import { isValidLocalpartForRegistration, parseUserId } from '../../core/ids.ts';
import type { Bus } from '../bus.ts';
import type { DevicesRemoved, UserRecord, UsersStore } from '../../storage/users.ts';
import type { PasswordHasher } from './passwords.ts';
import type { IssuedTokens, TokenService } from './tokens.ts';
import type { StageHandler } from './uia.ts';

/** Synapse refuses longer passwords; scrypt over megabytes would be a cheap DoS. */
export const MAX_PASSWORD_LENGTH = 512;

export interface LoginRequest {
  /** `identifier.user` or the deprecated top-level `user`: a localpart or a full user id. */
  user: string;
  password: string;
  deviceId?: string;
  initialDisplayName?: string;
  refreshToken: boolean;
}

export interface AccountServiceOptions {
  store: UsersStore;
  tokens: TokenService;
  passwords: PasswordHasher;
  bus: Bus;
  serverName: string;
}

export class AccountService {
  constructor(private readonly o: AccountServiceOptions) {}

  getUser(userId: string): UserRecord | undefined {
    return this.o.store.getUser(userId);
  }

  /** Maps what a user typed (localpart or `@localpart:server`) to a local user id, or undefined. */
  resolveLocalUser(input: string): string | undefined {
    let userId: string;
    if (input.startsWith('@')) {
      const p = parseUserId(input);
      if (!p || p.serverName !== this.o.serverName) return undefined;
      userId = input;
    } else {
      userId = `@${input}:${this.o.serverName}`;
      if (!parseUserId(userId)) return undefined;
    }
    if (this.o.store.getUser(userId)) return userId;
    return this.o.store.findUserIdIgnoringCase(userId);
  }

  /** Checks a password for a login or a UIA stage; the same answer for every failure. */
  async checkPassword(userInput: string, password: string): Promise<UserRecord> {
    const userId = this.resolveLocalUser(userInput);
    const user = userId !== undefined ? this.o.store.getUser(userId) : undefined;
    const ok = password.length <= MAX_PASSWORD_LENGTH && (await this.o.passwords.verify(password, user?.passwordHash ?? null));
    // Deactivated accounts have no password left, so they fail here too (login.yaml: servers MAY
    // answer M_FORBIDDEN when they can no longer authenticate a deactivated user).
    if (!ok || !user || user.deactivated) throw forbidden('Invalid username or password');
    return user;
  }

  async login(req: LoginRequest): Promise<IssuedTokens & { user_id: string; home_server: string }> {
    const user = await this.checkPassword(req.user, req.password);
    const tokens = await this.o.tokens.issue(user.userId, {
      deviceId: req.deviceId,
      initialDisplayName: req.initialDisplayName,
      refreshToken: req.refreshToken,
    });
    return { user_id: user.userId, ...tokens, home_server: this.o.serverName };
  }

  /** POST /logout: the token's device goes with it (logout.yaml). */
  async logout(userId: string, deviceId: string): Promise<void> {
    await this.removed(userId, this.o.store.deleteDevices(userId, [deviceId]), () => this.o.tokens.invalidateDevices(userId, [deviceId]));
  }

  /** POST /logout/all: every token and device of the user. */
  async logoutAll(userId: string): Promise<void> {
    await this.removed(userId, this.o.store.deleteAllDevices(userId, null), () => this.o.tokens.invalidateUser(userId));
  }

  /** POST /account/password, after UIA. `keepDeviceId` is the requester's device when
   * other sessions are logged out. */
  async changePassword(userId: string, newPassword: string, logoutDevices: boolean, keepDeviceId: string | null): Promise<void> {
    if (newPassword.length > MAX_PASSWORD_LENGTH) throw new MatrixError(400, 'M_PASSWORD_TOO_LONG', 'Password too long');
    const hash = await this.o.passwords.hash(newPassword);
    if (!logoutDevices) {
      await this.o.store.setPasswordHash(userId, hash);
      return;
    }
    await this.removed(userId, this.o.store.setPasswordHash(userId, hash, { exceptDeviceId: keepDeviceId }), () =>
      this.o.tokens.invalidateUserExcept(userId, keepDeviceId),
    );
  }

  /** POST /account/deactivate, after UIA: the account keeps its id but can never log in again. */
  async deactivate(userId: string): Promise<void> {
    await this.removed(userId, this.o.store.deactivateUser(userId), () => this.o.tokens.invalidateUser(userId));
    this.o.bus.publish('userDeactivated', { userId });
  }

  /** The UIA stage m.login.password: the requester proves they know their own password. */
  passwordStage(): StageHandler {
    return {
      check: async (auth, ctx) => {
        if (ctx.userId === undefined) throw new MatrixError(401, 'M_FORBIDDEN', 'Password authentication needs a logged-in user');
        const identifier = auth.identifier;
        let named: string = ctx.userId;
        if (typeof identifier === 'object' && identifier !== null) {
          const id = identifier as Record<string, unknown>;
          if (id.type !== 'm.id.user' || typeof id.user !== 'string') throw new MatrixError(401, 'M_FORBIDDEN', 'Unsupported identifier');
          named = id.user;
        } else if (typeof auth.user === 'string') {
          named = auth.user;
        }
        if (typeof auth.password !== 'string') throw new MatrixError(401, 'M_MISSING_PARAM', 'Missing password');
        let user: UserRecord;
        try {
          user = await this.checkPassword(named, auth.password);
        } catch {
          throw new MatrixError(401, 'M_FORBIDDEN', 'Invalid username or password');
        }
        if (user.userId !== ctx.userId) throw new MatrixError(401, 'M_FORBIDDEN', 'You can only authenticate as yourself');
        return true;
      },
    };
  }

  /** Invalidates caches around a device-removing write and announces the change when durable. */
  private async removed(userId: string, write: Promise<DevicesRemoved>, invalidate: () => void): Promise<void> {
    invalidate();
    const r = await write;
    invalidate();
    if (r.streamPosition !== null) this.o.bus.publish('deviceListChanged', { userId, streamPosition: r.streamPosition });
  }
}

/** Lowercases a requested username (spec: map it "in a logical manner") and checks the grammar. */
export function normaliseLocalpart(username: string, serverName: string): string {
  const localpart = username.toLowerCase();
  if (!isValidLocalpartForRegistration(localpart, serverName)) {
    throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID can only contain characters a-z, 0-9, or "=_-./+"');
  }
  return localpart;
}
