import type { RateLimiter, RateLimitPermit } from "./rate-limiter.js";
import type { AccessTokenProvider } from "./types.js";

/**
 * One way to send a request: a login (its token pair) with its own rate limiter. RingCentral budgets requests per
 * user+app, so every profile of a pool is a lane of its own with its own buckets.
 */
export interface Lane {
  readonly name: string;
  readonly tokens: AccessTokenProvider;
  readonly limiter: RateLimiter;
}

/** Picks the lane for each attempt of a request (see pool.ts for the pool's two policies). */
export interface LaneChooser {
  /** The server every lane talks to. */
  readonly server: string;
  /** Wait for a lane that may send a request to `url` now; the caller settles or releases the permit. */
  acquire(url: URL, signal: AbortSignal | undefined): Promise<{ lane: Lane; permit: RateLimitPermit }>;
  /**
   * `lane`'s login is gone (`error` is its LoginRequiredError). True when another lane can take over (the
   * request is then tried again there); false when the error must end the request.
   */
  lost(lane: Lane, error: unknown): boolean;
  /** A response of `status` to `url` came back through `lane` (for per-profile counts). */
  responded?(lane: Lane, url: URL, status: number): void;
}

/** The plain case: one login, one limiter. */
export function singleLane(tokens: AccessTokenProvider, limiter: RateLimiter, name = "default"): LaneChooser {
  const lane: Lane = { name, tokens, limiter };
  return {
    server: tokens.server,
    acquire: async (url, signal) => ({ lane, permit: await limiter.acquire(url, signal) }),
    lost: () => false,
  };
}
