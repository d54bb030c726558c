import type { HeaderBag } from "./http-util.js";
import type { RateLimitConfig, RateLimitGroup } from "./options.js";

export type RateDecision =
  | { allowed: true; headers: HeaderBag }
  | { allowed: false; headers: HeaderBag; retryAfterSec: number };

interface Bucket {
  /** When the current window opened; undefined = no open window (the next request opens one). */
  windowStart: number | undefined;
  count: number;
  penaltyUntil: number;
}

/**
 * Per-bucket fixed windows, as the emulator models RingCentral's limits:
 *
 * - A bucket is one (user, app, group); the token/revoke endpoints use (app, "auth").
 * - A window opens at the FIRST request after the previous window closed (not on a wall-clock grid) and lasts
 *   `windowSec`. Requests 1..limit inside it are allowed; `X-Rate-Limit-Remaining` = limit - count so far.
 * - Request limit+1 inside the window gets 429 CMN-301 and starts a penalty of `penaltySec`. EVERY request
 *   during the penalty also gets 429 and restarts the penalty from its own arrival. `Retry-After` is the
 *   penalty in whole seconds, rounded up.
 * - When the penalty has run out, the old window is forgotten: the next request opens a fresh window.
 * - 429s are counted in no window. Disabled limiting (`false`) sends no X-Rate-Limit-* headers at all.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private config: RateLimitConfig | false) {}

  get current(): RateLimitConfig | false {
    return this.config;
  }

  /** Replace the limits; all buckets start afresh. */
  configure(config: RateLimitConfig | false): void {
    this.config = config;
    this.buckets.clear();
  }

  take(key: string, group: RateLimitGroup, now = Date.now()): RateDecision {
    const config = this.config;
    if (!config) return { allowed: true, headers: {} };
    const limit = config.limits[group];
    const windowMs = config.windowSec * 1000;
    const penaltyMs = config.penaltySec * 1000;
    const bucketKey = `${key}|${group}`;
    let bucket = this.buckets.get(bucketKey);
    if (!bucket) {
      bucket = { windowStart: undefined, count: 0, penaltyUntil: 0 };
      this.buckets.set(bucketKey, bucket);
    }
    const headers = (remaining: number): HeaderBag => ({
      "X-Rate-Limit-Group": group,
      "X-Rate-Limit-Limit": String(limit),
      "X-Rate-Limit-Remaining": String(Math.max(0, remaining)),
      "X-Rate-Limit-Window": String(Math.ceil(config.windowSec)),
    });
    const penalise = (): RateDecision => {
      bucket.penaltyUntil = now + penaltyMs;
      bucket.windowStart = undefined;
      bucket.count = 0;
      const retryAfterSec = Math.max(1, Math.ceil(config.penaltySec));
      return {
        allowed: false,
        retryAfterSec,
        headers: { ...headers(0), "Retry-After": String(retryAfterSec) },
      };
    };
    if (now < bucket.penaltyUntil) return penalise();
    if (bucket.windowStart === undefined || now >= bucket.windowStart + windowMs) {
      bucket.windowStart = now;
      bucket.count = 0;
    }
    bucket.count++;
    if (bucket.count > limit) return penalise();
    return { allowed: true, headers: headers(limit - bucket.count) };
  }
}
