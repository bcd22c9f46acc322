/**
 * Access and refresh tokens (spec: client-server "Client Authentication", "Relationship between
 * access tokens and devices", "Refreshing access tokens"; refresh.yaml). Implements the edge's
 * TokenResolver: token resolution runs on every request, so resolved tokens are cached in memory
 * (invalidated on logout, device deletion, deactivation, admin changes) and last-seen IP/time is
 * collected in memory and written in one batch every `lastSeenFlushMs`, never per request.
 * Only SHA-256 digests of tokens are stored.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { sha256 } from '../../core/crypto/sha256.ts';
import { unknownToken } from '../../errors.ts';
import type { LastSeen, NewSession, UsersStore } from '../../storage/users.ts';

/** What the edge needs to know about the caller; structurally the api's Requester. */
export interface SessionRequester {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  accessTokenId: number;
}

export interface IssueOptions {
  /** Client-chosen device id; reused when it exists. */
  deviceId?: string;
  initialDisplayName?: string;
  /** The client asked for a refresh token (`refresh_token: true`). */
  refreshToken: boolean;
}

/** Tokens handed to the client after login or registration. */
export interface IssuedTokens {
  access_token: string;
  device_id: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export interface PreparedSession {
  session: NewSession;
  tokens: IssuedTokens;
}

interface CacheEntry {
  requester: SessionRequester;
  expiresTs: number | null;
  /** Refresh-bound tokens retire their predecessor on first use; false until that is done. */
  needsFirstUse: boolean;
}

export interface TokenServiceOptions {
  store: UsersStore;
  clock: () => number;
  /** Lifetime of access tokens that come with a refresh token. Default 5 minutes (Synapse). */
  accessTokenLifetimeMs?: number;
  /** How often collected last-seen data is written. Default 30 s. */
  lastSeenFlushMs?: number;
  /** Bound on cached tokens. */
  maxCached?: number;
  onError?: (msg: string, err: unknown) => void;
}

const DEVICE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function generateDeviceId(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += DEVICE_ID_ALPHABET[randomInt(DEVICE_ID_ALPHABET.length)];
  return s;
}

export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

export class TokenService {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pendingLastSeen = new Map<string, LastSeen>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  readonly accessTokenLifetimeMs: number;
  private readonly maxCached: number;

  constructor(private readonly opts: TokenServiceOptions) {
    this.accessTokenLifetimeMs = opts.accessTokenLifetimeMs ?? 5 * 60_000;
    this.maxCached = opts.maxCached ?? 50_000;
    this.timer = setInterval(() => void this.flushLastSeen(), opts.lastSeenFlushMs ?? 30_000);
    this.timer.unref();
  }

  /** New tokens for a session on `userId`, not yet stored (registration stores them with the
   * user in one transaction). */
  prepare(opts: IssueOptions): PreparedSession {
    const deviceId = opts.deviceId ?? generateDeviceId();
    const accessToken = newToken('hat');
    const tokens: IssuedTokens = { access_token: accessToken, device_id: deviceId };
    const session: NewSession = {
      deviceId,
      initialDisplayName: opts.initialDisplayName ?? null,
      accessTokenHash: hashToken(accessToken),
      expiresTs: null,
    };
    if (opts.refreshToken) {
      const refreshToken = newToken('hrt');
      session.refreshTokenHash = hashToken(refreshToken);
      session.expiresTs = this.opts.clock() + this.accessTokenLifetimeMs;
      tokens.refresh_token = refreshToken;
      tokens.expires_in_ms = this.accessTokenLifetimeMs;
    }
    return { session, tokens };
  }

  /** Logs `userId` in on a new or reused device. */
  async issue(userId: string, opts: IssueOptions): Promise<IssuedTokens> {
    const { session, tokens } = this.prepare(opts);
    const pending = this.opts.store.createSession(userId, session, this.opts.clock());
    // A reused device's old tokens are deleted by the write (run synchronously above).
    this.invalidateDevices(userId, [session.deviceId]);
    await pending;
    this.invalidateDevices(userId, [session.deviceId]);
    return tokens;
  }

  /** TokenResolver: the session an access token belongs to, or 401 M_UNKNOWN_TOKEN. */
  async resolve(accessToken: string, meta: { ip: string; userAgent?: string }): Promise<SessionRequester> {
    const hash = hashToken(accessToken);
    const now = this.opts.clock();
    let entry = this.cache.get(hash);
    if (!entry) {
      const rec = this.opts.store.findAccessToken(hash);
      if (!rec || rec.deactivated) throw unknownToken('Unrecognised access token');
      entry = {
        requester: { userId: rec.userId, deviceId: rec.deviceId, isAdmin: rec.isAdmin, accessTokenId: rec.id },
        expiresTs: rec.expiresTs,
        needsFirstUse: !rec.used && rec.refreshTokenId !== null,
      };
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hash, entry);
    }
    if (entry.expiresTs !== null && entry.expiresTs <= now) {
      // Soft logout: the client may refresh, or log in again keeping its data.
      throw unknownToken('Access token has expired', true);
    }
    if (entry.needsFirstUse) {
      entry.needsFirstUse = false;
      const revoked = await this.opts.store.markAccessTokenUsed(entry.requester.accessTokenId);
      this.invalidateTokenIds(revoked);
    }
    const r = entry.requester;
    this.pendingLastSeen.set(`${r.userId}\u0000${r.deviceId}`, {
      userId: r.userId,
      deviceId: r.deviceId,
      ip: meta.ip,
      ts: now,
      userAgent: meta.userAgent ?? null,
    });
    return r;
  }

  /** POST /refresh: a new access/refresh pair on the same device. */
  async refresh(refreshToken: string): Promise<Required<Omit<IssuedTokens, 'device_id'>>> {
    const rec = this.opts.store.findRefreshToken(hashToken(refreshToken));
    if (!rec) throw unknownToken('Unknown refresh token');
    const accessToken = newToken('hat');
    const nextRefresh = newToken('hrt');
    const now = this.opts.clock();
    const result = await this.opts.store.rotateRefreshToken(
      rec.id,
      { accessTokenHash: hashToken(accessToken), refreshTokenHash: hashToken(nextRefresh), expiresTs: now + this.accessTokenLifetimeMs },
      now,
    );
    if (!result.ok) throw unknownToken('Refresh token has already been used');
    this.invalidateTokenIds(result.revokedAccessTokenIds);
    // A replaced unused pair may be cached (never, since unused, but be safe): drop the device's
    // cache entries other than the ones still valid; they are re-read on next use.
    this.invalidateDevices(rec.userId, [rec.deviceId]);
    return { access_token: accessToken, refresh_token: nextRefresh, expires_in_ms: this.accessTokenLifetimeMs };
  }

  // ---- cache invalidation: call synchronously right after the write is started, and again
  // after it resolves, so no request in between sees a revoked token as valid ----

  invalidateUser(userId: string): void {
    for (const [k, e] of this.cache) if (e.requester.userId === userId) this.cache.delete(k);
  }

  invalidateDevices(userId: string, deviceIds: readonly string[]): void {
    const set = new Set(deviceIds);
    for (const [k, e] of this.cache) if (e.requester.userId === userId && set.has(e.requester.deviceId)) this.cache.delete(k);
  }

  /** Drops every device of `userId` except `keepDeviceId` from the cache. */
  invalidateUserExcept(userId: string, keepDeviceId: string | null): void {
    for (const [k, e] of this.cache) if (e.requester.userId === userId && e.requester.deviceId !== keepDeviceId) this.cache.delete(k);
  }

  invalidateTokenIds(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const set = new Set(ids);
    for (const [k, e] of this.cache) if (set.has(e.requester.accessTokenId)) this.cache.delete(k);
  }

  // ---- last seen ----

  /** Last-seen data not yet written, so device listings are current. */
  pendingLastSeenFor(userId: string, deviceId: string): LastSeen | undefined {
    return this.pendingLastSeen.get(`${userId}\u0000${deviceId}`);
  }

  /** Writes collected last-seen data in one transaction. */
  flushLastSeen(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pendingLastSeen.size === 0) return;
      const batch = [...this.pendingLastSeen.values()];
      this.pendingLastSeen.clear();
      try {
        await this.opts.store.recordLastSeen(batch);
      } catch (e) {
        this.opts.onError?.('could not record device last-seen data', e);
      }
    });
    return this.flushing;
  }

  /** Stops the flush timer and writes what is pending; call before closing storage. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastSeen();
  }
}

function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}
