import { ApiError } from "../api/errors.js";
import type { ApiClient, ApiRequestInit } from "../api/types.js";
import type { Logger } from "../log/logger.js";
import { backoffMs, isRetryable, LISTING_RETRY, type RetryBudget, sleep } from "../retry.js";

/**
 * The client the call-log listing uses inside a run: every request carries the run's signal (a page held by the
 * rate limiter ends on Ctrl-C instead of keeping the process alive), and a page that fails transiently (network
 * error, 5xx) is asked again with backoff instead of ending a nightly run that has already saved half its files.
 */
export function listingClient(
  api: ApiClient,
  options: { signal: AbortSignal; log: Logger; retry?: Partial<RetryBudget> },
): ApiClient {
  const policy = { ...LISTING_RETRY, ...options.retry };
  const withSignal = (init: ApiRequestInit | undefined): ApiRequestInit => ({
    ...init,
    signal: init?.signal ?? options.signal,
  });
  /** One page request, asked again with backoff while it fails transiently. */
  async function retried<T>(request: () => Promise<T>): Promise<T> {
    for (let failures = 1; ; failures++) {
      try {
        return await request();
      } catch (error) {
        if (!isTransient(error) || failures >= policy.attempts || options.signal.aborted) throw error;
        const delayMs = backoffMs(failures, policy);
        options.log.debug(`call-log page: ${(error as Error).message}; retrying in ${delayMs} ms`);
        await sleep(delayMs, options.signal);
      }
    }
  }
  return {
    get: (url, init) => api.get(url, withSignal(init)),
    getJson: (url, init) => retried(() => api.getJson(url, withSignal(init))),
    getJsonWith: (url, init, read) => retried(() => api.getJsonWith(url, withSignal(init), read)),
  };
}

/** Typed retryable errors (network, token endpoint outage) and a server's own 5xx/408 answer to the page. */
function isTransient(error: unknown): boolean {
  if (isRetryable(error)) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 408);
}
