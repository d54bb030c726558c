import { callWithRetries, type RetryBudget } from "../retry.js";
import type { ApiClient, ApiRequestInit } from "./types.js";

export interface RunClientOptions {
  /** Every request carries it unless it brings its own: one held by the rate limiter ends on Ctrl-C. */
  signal: AbortSignal;
  /** A time-boxed run's deadline: a request still waiting for the rate limiter then is not sent at all. */
  queueSignal?: AbortSignal | undefined;
  /**
   * JSON requests that fail with a retryable error (network, 5xx, token endpoint outage) are asked again within
   * this budget; a response streamed to the caller (`get`) is the caller's to retry. Default: no retries.
   */
  retry?: { budget: RetryBudget; onRetry(error: Error, delayMs: number): void } | undefined;
}

/**
 * The one wrapper a run puts around an ApiClient: its signal, its deadline and (for the listing) retries of
 * transient failures. The listing and the transfers each get one; nothing else wraps a client.
 */
export function runClient(api: ApiClient, options: RunClientOptions): ApiClient {
  const { signal, queueSignal, retry } = options;
  const bound = (init: ApiRequestInit | undefined): ApiRequestInit => ({
    ...init,
    signal: init?.signal ?? signal,
    ...(queueSignal ? { queueSignal } : {}),
  });
  const retried = <T>(request: () => Promise<T>): Promise<T> =>
    retry ? callWithRetries(request, retry.budget, { signal, onRetry: retry.onRetry }) : request();
  return {
    get: (url, init) => api.get(url, bound(init)),
    getJson: (url, init) => retried(() => api.getJson(url, bound(init))),
    getJsonWith: (url, init, read) => retried(() => api.getJsonWith(url, bound(init), read)),
  };
}
