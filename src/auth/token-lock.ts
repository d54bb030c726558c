import type { Logger } from "../log/logger.js";
import { BUDGETS, callWithRetries, type Retryable } from "../retry.js";
import { describeWait } from "../waits.js";
import { TokenEndpointRateLimitedError } from "./errors.js";
import type { LockLease, ProfileLock } from "./refresh-lock.js";

/**
 * Run `work` under the profile's lock; when the token endpoint answers 429 inside it, release the lock, wait
 * Retry-After (bounded, logged), then take the lock again and run `work` from the start — it re-reads the
 * store, so a pair another process renewed meanwhile is used instead of asking again. Holding the lock through
 * a minute-long penalty would stall every other process of the profile for nothing. The waits are the retry
 * loop's (callWithRetries with BUDGETS.token: how many 429s, how long without Retry-After, the wait policy's cap).
 */
export async function withTokenLock<T>(
  lock: ProfileLock,
  work: (lease: LockLease) => Promise<T>,
  log: Logger,
  signal?: AbortSignal,
): Promise<T> {
  return callWithRetries(
    async () => {
      try {
        return await lock.withLock(work, signal);
      } catch (error) {
        throw error instanceof TokenEndpointRateLimitedError ? new RateLimitedHere(error) : error;
      }
    },
    // Only rate limits are retried here (nothing else is Retryable in this loop): `attempts` never counts.
    { ...BUDGETS.token, attempts: 1 },
    {
      signal,
      onRetry: (_error, waitMs) =>
        log.warn(
          `token endpoint rate limit reached; waiting ${describeWait(waitMs)} (Retry-After) without holding the profile lock`,
          { event: "wait", waitMs, reason: "token endpoint rate limit" },
        ),
      giveUp: (error) => (error instanceof RateLimitedHere ? error.cause : error),
    },
  );
}

/**
 * A 429 of the token endpoint as this loop's retry: retryable HERE only. The error itself stays non-retryable,
 * so a caller with a budget of its own (a listing, a transfer) never sends more token requests after these waits.
 */
class RateLimitedHere extends Error implements Retryable {
  readonly retryable = true;
  readonly rateLimited = true;
  readonly retryAfterMs: number | undefined;

  constructor(override readonly cause: TokenEndpointRateLimitedError) {
    super(cause.message);
    this.retryAfterMs = cause.retryAfterMs;
  }
}
