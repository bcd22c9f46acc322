/**
 * Token-bucket rate limiting for /login and /register, keyed by client IP and by user (spec:
 * "Rate limiting": 429 M_LIMIT_EXCEEDED with retry_after_ms). Each key holds up to `burst`
 * tokens refilled at `perSecond`; idle buckets are dropped so memory stays bounded.
 */
import { limitExceeded, type MatrixError } from '../../errors.ts';

export interface RateLimitConfig {
  /** Requests allowed at once. */
  burst: number;
  /** Sustained requests per second. */
  perSecond: number;
}

/** Generous: a family server never hits it, while a password-guessing loop does. */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { burst: 50, perSecond: 5 };

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly config: RateLimitConfig = DEFAULT_RATE_LIMIT,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one token for each key; on refusal takes none and returns the wait in ms. */
  take(...keys: string[]): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.clock();
    this.sweep(now);
    let wait = 0;
    const buckets = keys.map((k) => {
      let b = this.buckets.get(k);
      if (!b) {
        b = { tokens: this.config.burst, updated: now };
        this.buckets.set(k, b);
      }
      b.tokens = Math.min(this.config.burst, b.tokens + ((now - b.updated) / 1000) * this.config.perSecond);
      b.updated = now;
      if (b.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - b.tokens) / this.config.perSecond) * 1000));
      return b;
    });
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    for (const b of buckets) b.tokens -= 1;
    return { ok: true };
  }

  /** take(), throwing 429 M_LIMIT_EXCEEDED on refusal. */
  check(...keys: string[]): void {
    const r = this.take(...keys);
    if (!r.ok) throw rateLimited(r.retryAfterMs);
  }

  private sweep(now: number): void {
    if (this.buckets.size < 10_000) return;
    const full = (this.config.burst / this.config.perSecond) * 1000;
    for (const [k, b] of this.buckets) if (now - b.updated >= full) this.buckets.delete(k);
  }
}

export function rateLimited(retryAfterMs: number): MatrixError {
  return limitExceeded(retryAfterMs);
}
