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
  /** The app permissions its token was granted (the OAuth `scope`, space-separated); "" when not named. */
  readonly scope?: string;
}

/** Picks the lane for each attempt of a request (see pool.ts for the pool's two policies). */
export interface LaneChooser {
  /** The server every lane talks to. */
  readonly server: string;
  /**
   * Wait for a lane that may send a request to `url` now; the caller settles or releases the permit. `refused`:
   * lanes that refused this request already (see `refusal`), to be passed over.
   */
  acquire(
    url: URL,
    signal: AbortSignal | undefined,
    refused?: ReadonlyMap<Lane, number>,
  ): Promise<{ lane: Lane; permit: RateLimitPermit }>;
  /**
   * `lane`'s login is gone (`error` is its LoginRequiredError). True when another lane can take over (the
   * request is then tried again there); false when the error must end the request.
   */
  lost(lane: Lane, error: unknown): boolean;
  /**
   * What a `status` to `url` through `lane` means when another lane might answer otherwise (a pool: see pool.ts):
   * "elsewhere" (ask again through a lane not in `refused`), "unsettled" (no lane left to ask, though one that
   * could not be asked might have answered: UnsettledRefusalError), or undefined (the answer stands).
   */
  refusal?(
    lane: Lane,
    url: URL,
    status: number,
    refused: ReadonlyMap<Lane, number>,
  ): "elsewhere" | "unsettled" | undefined;
  /**
   * The final response to `url` came back through `lane` (after a redirect: the lane whose request led there),
   * with `refused` the lanes that refused it first (for per-profile counts and the pool's verdicts).
   */
  responded?(lane: Lane, url: URL, status: number, refused?: ReadonlyMap<Lane, number>): void;
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
