import type { ApiClient, ApiRequestInit } from "../api/types.js";
import type { Logger } from "../log/logger.js";
import { BUDGETS, callWithRetries, type RetryBudget } from "../retry.js";

/**
 * The client the call-log listing uses inside a run: every request carries the run's signal (a page held by the
 * rate limiter ends on Ctrl-C instead of keeping the process alive), and a page that fails with a retryable error
 * (network error, 5xx, token endpoint outage) is asked again within BUDGETS.listing instead of ending a nightly
 * run that has already saved half its files. A page still rate-limited after the ApiClient's own waits is not
 * asked again: the budget allows it no waits.
 */
export function listingClient(
  api: ApiClient,
  options: {
    signal: AbortSignal;
    /** A time-boxed run's deadline: a page still waiting for the rate limiter then is not asked for. */
    queueSignal?: AbortSignal;
    log: Logger;
    retry?: Partial<RetryBudget>;
  },
): ApiClient {
  const budget: RetryBudget = { ...BUDGETS.listing, ...options.retry };
  const withSignal = (init: ApiRequestInit | undefined): ApiRequestInit => ({
    ...init,
    signal: init?.signal ?? options.signal,
    ...(options.queueSignal ? { queueSignal: options.queueSignal } : {}),
  });
  const retried = <T>(request: () => Promise<T>): Promise<T> =>
    callWithRetries(request, budget, {
      signal: options.signal,
      onRetry: (error, delayMs) =>
        options.log.debug(`call-log page: ${error.message}; retrying in ${delayMs} ms`),
    });
  return {
    get: (url, init) => api.get(url, withSignal(init)),
    getJson: (url, init) => retried(() => api.getJson(url, withSignal(init))),
    getJsonWith: (url, init, read) => retried(() => api.getJsonWith(url, withSignal(init), read)),
  };
}
