/**
 * Account registration (spec: client-server registration.yaml, registration_tokens.yaml and
 * "Token-authenticated registration") and Synapse's shared-secret admin registration
 * (`/_synapse/admin/v1/register`). The registration mode decides the UIA flows; a registration
 * token is counted as pending while a UIA session holds it and as completed when the account is
 * created, in the same transaction.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { MatrixError, forbidden } from '../../errors.ts';
import { registrationTokenValid, type UsersStore } from '../../storage/users.ts';
import { MAX_PASSWORD_LENGTH, normaliseLocalpart } from './accounts.ts';
import type { PasswordHasher } from './passwords.ts';
import type { IssuedTokens, PreparedSession, TokenService } from './tokens.ts';
import type { StageHandler, UiaFlow, UserInteractiveAuth } from './uia.ts';

export type RegistrationMode = 'open' | 'token' | 'captcha' | 'closed';

export const REGISTRATION_TOKEN_STAGE = 'm.login.registration_token';
const TOKEN_KEY = 'registration_token';
/** Spec: registration tokens use the opaque identifier grammar, at most 64 characters. */
const TOKEN_GRAMMAR = /^[A-Za-z0-9._~-]{1,64}$/;
const NONCE_TTL_MS = 60_000;
/** Synapse's allowed user_type values for admin registration. */
const USER_TYPES = ['bot', 'support'];

export interface RegisterRequest {
  username?: string;
  password?: string;
  deviceId?: string;
  initialDisplayName?: string;
  inhibitLogin: boolean;
  refreshToken: boolean;
  auth: unknown;
}

export type RegisterResult = { user_id: string; home_server: string } & Partial<IssuedTokens>;

export interface SharedSecretRequest {
  nonce: string;
  username: string;
  password: string;
  admin: boolean;
  displayname?: string;
  userType?: string;
  mac: string;
}

export interface RegistrationServiceOptions {
  store: UsersStore;
  tokens: TokenService;
  passwords: PasswordHasher;
  uia: UserInteractiveAuth;
  serverName: string;
  clock: () => number;
  onError?: (msg: string, err: unknown) => void;
}

export function registrationFlows(mode: RegistrationMode): UiaFlow[] {
  switch (mode) {
    case 'open':
      return [{ stages: ['m.login.dummy'] }];
    case 'token':
      return [{ stages: [REGISTRATION_TOKEN_STAGE] }];
    case 'captcha':
      // The captcha stage is registered by its own service; until then it is only offered.
      return [{ stages: ['m.login.recaptcha'] }];
    case 'closed':
      throw forbidden('Registration has been disabled');
  }
}

export class RegistrationService {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly o: RegistrationServiceOptions) {
    o.uia.registerStage(REGISTRATION_TOKEN_STAGE, this.tokenStage());
  }

  /** Sessions are in memory, so pending counts left by a previous run are stale. */
  async init(): Promise<void> {
    await this.o.store.resetPendingRegistrationTokens();
  }

  /** POST /register (kind=user). */
  async register(req: RegisterRequest, mode: RegistrationMode): Promise<RegisterResult> {
    const flows = registrationFlows(mode);
    // Spec: username problems are reported before user-interactive auth.
    const localpart = req.username !== undefined ? this.checkAvailable(req.username) : undefined;
    if (req.password !== undefined && req.password.length > MAX_PASSWORD_LENGTH) {
      throw new MatrixError(400, 'M_PASSWORD_TOO_LONG', 'Password too long');
    }
    const session = await this.o.uia.authenticate({ op: 'register', flows, auth: req.auth });
    if (req.password === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: password');
    const passwordHash = await this.o.passwords.hash(req.password);
    const prepared = req.inhibitLogin
      ? undefined
      : this.o.tokens.prepare({ deviceId: req.deviceId, initialDisplayName: req.initialDisplayName, refreshToken: req.refreshToken });
    const token = session.data.get(TOKEN_KEY) as string | undefined;
    const userId = await this.create(localpart, passwordHash, false, null, null, prepared, token);
    // The token's use moved from pending to completed in the same write: nothing left to release.
    session.data.delete(TOKEN_KEY);
    this.o.uia.finish(session);
    return { user_id: userId, home_server: this.o.serverName, ...prepared?.tokens };
  }

  /** GET /register/available: 200 or the reason the name cannot be had. */
  available(username: string): { available: true } {
    this.checkAvailable(username);
    return { available: true };
  }

  /** GET /register/m.login.registration_token/validity. */
  tokenValidity(token: string, mode: RegistrationMode): { valid: boolean } {
    if (mode !== 'token') throw forbidden('Registration tokens are not enabled on this homeserver');
    return { valid: TOKEN_GRAMMAR.test(token) && registrationTokenValid(this.o.store.getRegistrationToken(token), this.o.clock()) };
  }

  // ---- shared-secret registration (Synapse admin API) ----

  newNonce(): string {
    this.pruneNonces();
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, this.o.clock() + NONCE_TTL_MS);
    return nonce;
  }

  async registerWithSharedSecret(req: SharedSecretRequest, secret: string | undefined): Promise<RegisterResult & IssuedTokens> {
    if (!secret) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    this.pruneNonces();
    // Single use: the nonce is spent whether or not the MAC turns out right.
    const expires = this.nonces.get(req.nonce);
    this.nonces.delete(req.nonce);
    if (expires === undefined) throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
    if (req.username.includes('\u0000') || req.password.includes('\u0000')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid username or password');
    if (req.userType !== undefined && !USER_TYPES.includes(req.userType)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user type');

    const mac = createHmac('sha1', secret);
    mac.update(req.nonce);
    mac.update('\u0000');
    mac.update(req.username);
    mac.update('\u0000');
    mac.update(req.password);
    mac.update('\u0000');
    mac.update(req.admin ? 'admin' : 'notadmin');
    if (req.userType !== undefined) {
      mac.update('\u0000');
      mac.update(req.userType);
    }
    const want = Buffer.from(mac.digest('hex'), 'ascii');
    const got = Buffer.from(req.mac.toLowerCase(), 'ascii');
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw forbidden('HMAC incorrect');

    const localpart = this.checkAvailable(req.username);
    if (req.password.length > MAX_PASSWORD_LENGTH) throw new MatrixError(400, 'M_PASSWORD_TOO_LONG', 'Password too long');
    const passwordHash = await this.o.passwords.hash(req.password);
    const prepared = this.o.tokens.prepare({ refreshToken: false });
    const userId = await this.create(localpart, passwordHash, req.admin, req.userType ?? null, req.displayname ?? null, prepared, undefined);
    return { user_id: userId, home_server: this.o.serverName, ...prepared.tokens };
  }

  // ---- internals ----

  private checkAvailable(username: string): string {
    const localpart = normaliseLocalpart(username, this.o.serverName);
    if (this.o.store.getUser(`@${localpart}:${this.o.serverName}`)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
    return localpart;
  }

  /** Creates the account (and session); a random localpart when none was asked for. */
  private async create(
    localpart: string | undefined,
    passwordHash: string,
    isAdmin: boolean,
    userType: string | null,
    displayname: string | null,
    prepared: PreparedSession | undefined,
    registrationToken: string | undefined,
  ): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const lp = localpart ?? randomLocalpart();
      const userId = `@${lp}:${this.o.serverName}`;
      const r = await this.o.store.createUser({
        userId,
        passwordHash,
        isAdmin,
        userType,
        displayname: displayname ?? lp,
        createdTs: this.o.clock(),
        session: prepared?.session,
        consumeRegistrationToken: registrationToken,
      });
      if (r.ok) return userId;
      if (localpart !== undefined) break;
    }
    throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
  }

  private tokenStage(): StageHandler {
    return {
      check: async (auth, ctx) => {
        const token = auth.token;
        if (typeof token !== 'string') throw new MatrixError(401, 'M_MISSING_PARAM', 'Missing registration token');
        if (!TOKEN_GRAMMAR.test(token) || !(await this.o.store.reserveRegistrationToken(token, this.o.clock()))) {
          throw new MatrixError(401, 'M_UNAUTHORIZED', 'Invalid registration token');
        }
        ctx.session.data.set(TOKEN_KEY, token);
        return true;
      },
      onAbandon: (session) => {
        const token = session.data.get(TOKEN_KEY) as string | undefined;
        if (token === undefined) return;
        session.data.delete(TOKEN_KEY);
        this.o.store.releaseRegistrationToken(token).catch((e: unknown) => this.o.onError?.('could not release a registration token', e));
      },
    };
  }

  private pruneNonces(): void {
    const now = this.o.clock();
    for (const [n, exp] of this.nonces) if (exp <= now) this.nonces.delete(n);
  }
}

/** Random localparts for registrations without a username: lowercase letters and digits. */
function randomLocalpart(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 12; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}
