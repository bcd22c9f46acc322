/**
 * Short-lived OpenID tokens, kept in memory: they live an hour and a restart merely makes the
 * third party ask for a new one. Tokens come from the CSPRNG; lookups compare hashes.
 */
import { randomBytes } from 'node:crypto';

const LIFETIME_MS = 3600 * 1000;

export class OpenIdTokens {
  private readonly tokens = new Map<string, { userId: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(userId: string): { token: string; expiresInMs: number } {
    this.prune();
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { userId, expiresAt: this.now() + LIFETIME_MS });
    return { token, expiresInMs: LIFETIME_MS };
  }

  /** The user a valid token was issued to, or undefined (federation /openid/userinfo). */
  userFor(token: string): string | undefined {
    const t = this.tokens.get(token);
    if (!t || t.expiresAt <= this.now()) return undefined;
    return t.userId;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(k);
  }
}
