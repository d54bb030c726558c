/**
 * The retry vocabulary shared by the token endpoint, the rate limiter, the listing and the transfers: which
 * errors are worth another try, how long to wait between tries, what a server's Retry-After means, and a wait
 * that Ctrl-C cuts short.
 */

/** Exponential backoff: the wait before retry n (1-based) is base·2^(n-1), capped at max. */
export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
  /** "equal" (default): half the wait fixed, half random, so parallel retries spread out. */
  jitter?: "equal" | "none";
}

/** How many failures in a row a request may have, and how long to wait between them. */
export interface RetryBudget extends Backoff {
  attempts: number;
}

/** Call-log pages: a nightly run that has saved half its files should sit out a short outage, not end. */
export const LISTING_RETRY: RetryBudget = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

export function backoffMs(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** Math.max(0, retry - 1));
  if (backoff.jitter === "none") return ceiling;
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Retry-After as delay-seconds or an HTTP date, in ms from `now`; undefined when absent, negative or unreadable.
 * A date in the past means "now" (0). Callers that must not stall on a typo cap the result themselves.
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  const value = header?.trim() ?? "";
  if (value === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Wait `ms`; when `signal` aborts, stop at once and reject with its reason (Ctrl-C must not sit out a wait). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A failure of the network or of a server that may well succeed on another try. Only errors that say so are
 * retried: anything else (a bug, a full disk, a path outside DIR) fails at once instead of five times.
 */
export interface Retryable {
  readonly retryable: true;
}

export function isRetryable(error: unknown): error is Error & Retryable {
  return error instanceof Error && (error as Partial<Retryable>).retryable === true;
}
