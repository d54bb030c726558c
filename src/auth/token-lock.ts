import type { Logger } from "../log/logger.js";
import { BUDGETS, sleep } from "../retry.js";
import { boundedWaitMs, describeWait } from "../waits.js";
import { TokenEndpointRateLimitedError } from "./errors.js";
import type { LockLease, ProfileLock } from "./refresh-lock.js";

/** How many token-endpoint 429s one operation sits out, and for how long without Retry-After (BUDGETS.token). */
const RATE_LIMIT_WAITS = BUDGETS.token.rateLimitWaits ?? 2;
const DEFAULT_RETRY_AFTER_MS = BUDGETS.token.defaultRetryAfterMs ?? 60_000;

/**
 * Run `work` under the profile's lock; when the token endpoint answers 429 inside it, release the lock, wait
 * Retry-After (bounded, logged), then take the lock again and run `work` from the start — it re-reads the
 * store, so a pair another process renewed meanwhile is used instead of asking again. Holding the lock through
 * a minute-long penalty would stall every other process of the profile for nothing.
 */
export async function withTokenLock<T>(
  lock: ProfileLock,
  work: (lease: LockLease) => Promise<T>,
  log: Logger,
  signal?: AbortSignal,
): Promise<T> {
  for (let waits = 0; ; waits++) {
    try {
      return await lock.withLock(work, signal);
    } catch (error) {
      if (!(error instanceof TokenEndpointRateLimitedError) || waits >= RATE_LIMIT_WAITS) throw error;
      const waitMs = boundedWaitMs(error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
      log.warn(
        `token endpoint rate limit reached; waiting ${describeWait(waitMs)} (Retry-After) without holding the profile lock`,
        { event: "wait", waitMs, reason: "token endpoint rate limit" },
      );
      await sleep(waitMs, signal);
    }
  }
}
