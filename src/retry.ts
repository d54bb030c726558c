/**
 * The retry vocabulary shared by the token endpoint, the rate limiter, the listing and the transfers: which
 * errors are worth another try (a property of the error, see `Retryable`), how long to wait between tries, what
 * a server's Retry-After means, a wait that Ctrl-C cuts short, every retry budget of the program, and the one
 * loop that spends a budget (`callWithRetries`, after rclone's `pacer.Call`).
 */

import { boundedWaitMs, MAX_WAIT_MS, timerMs } from "./waits.js";

/** Exponential backoff: the wait before retry n (1-based) is base·2^(n-1), capped at max. */
export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
  /** "equal" (default): half the wait fixed, half random, so parallel retries spread out. */
  jitter?: "equal" | "none";
}

/** How many failures in a row a request may have, and how long to wait between them. */
export interface RetryBudget extends Backoff {
  /** Tries in a row that may fail (without progress) before the call fails. */
  attempts: number;
  /** Hard cap on calls, even when every try makes some progress. Default: no cap beyond `attempts`. */
  maxCalls?: number;
  /** Rate-limited failures (`rateLimited`) are counted apart: this many waits, then the call fails. */
  rateLimitWaits?: number;
  /** The wait for a rate-limited failure that did not say how long. */
  defaultRetryAfterMs?: number;
  /** A Retry-After of hours (a typo, a confused proxy) must not stall a run: waits are capped at this. */
  maxRetryAfterMs?: number;
}

/** The transfer's budget also bounds silence: no byte (or no response) for this long and the try is retried. */
export interface TransferBudget extends RetryBudget {
  maxCalls: number;
  idleTimeoutMs: number;
}

/** Token requests also bound each try: the whole answer within `timeoutMs`, else it is a failed try. */
export interface TokenBudget extends RetryBudget {
  timeoutMs: number;
}

/** Every retry budget of the program, in one place. */
export const BUDGETS = {
  /** Token requests (RingCentral: 3 tries; the Auth group allows 5/min, a 429 says wait at least 30 s). */
  token: {
    attempts: 3,
    baseDelayMs: 2_000,
    maxDelayMs: 30_000,
    jitter: "none",
    // A silent endpoint fails `login` in 3 × 15 s + 2 s + 4 s of backoff: under a minute.
    timeoutMs: 15_000,
    // 429s are waited out by the caller with the profile's lock released (auth/token-lock.ts).
    rateLimitWaits: 2,
    defaultRetryAfterMs: 60_000,
  } satisfies TokenBudget as TokenBudget,
  /**
   * Call-log pages: a nightly run that has saved half its files should sit out a short outage, not end. A page
   * still rate-limited after the ApiClient's own waits (BUDGETS.api) is not waited out again.
   */
  listing: {
    attempts: 5,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    rateLimitWaits: 0,
  } satisfies RetryBudget as RetryBudget,
  /** One recording: 5 tries in a row without a byte, at most 20 requests, 60 s of silence is a stall. */
  transfer: {
    attempts: 5,
    maxCalls: 20,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    maxRetryAfterMs: 120_000,
    idleTimeoutMs: 60_000,
  } satisfies TransferBudget as TransferBudget,
  /** Inside the ApiClient, per request: 401 -> recover the token, 429 -> wait out the group's penalty. */
  // authRecoveries: one more than the session's renewals per run (auth/session.ts MAX_REJECTION_RENEWALS): the
  // session, which sees every caller, decides when fresh tokens keep failing; this is a backstop.
  api: { authRecoveries: 3, rateLimitRetries: 3, redirects: 5 },
} as const;

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
    // setTimeout fires AT ONCE for delays past 2^31-1 ms: clamp, never spin (callers cap long waits anyway).
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, timerMs(ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The one rule for HTTP statuses worth another try: the server's own trouble (5xx) or its timeout (408). The token
 * endpoint, the API (call log, directory), the recording transfer and the S3 store all judge by it. A 429 is not
 * trouble but a budget: each caller waits it out by its own rules.
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status >= 500;
}

/**
 * A failure of the network or of a server that may well succeed on another try. Only errors that say so are
 * retried: anything else (a bug, a full disk, a path outside DIR) fails at once instead of five times.
 */
export interface Retryable {
  readonly retryable: true;
  /** The server said how long to wait (Retry-After). */
  readonly retryAfterMs?: number | undefined;
  /** A rate limit, counted against `rateLimitWaits` rather than `attempts`. */
  readonly rateLimited?: boolean;
  /** The try got somewhere (bytes arrived): the count of failures in a row starts again. */
  readonly progressed?: boolean;
}

export function isRetryable(error: unknown): error is Error & Retryable {
  return error instanceof Error && (error as Partial<Retryable>).retryable === true;
}

export interface RetryHooks {
  /** Waits end at once when it aborts (rejecting with its reason); a failure after it aborted is not retried. */
  signal?: AbortSignal | undefined;
  /** Before each call (e.g. stop when interrupted). */
  beforeCall?(): void;
  /** A retryable failure is about to be waited out. */
  onRetry?(error: Error & Retryable, delayMs: number): void;
  /** The budget is spent: the error to throw instead of the last failure. */
  giveUp?(error: Error & Retryable): unknown;
}

/**
 * Call until it succeeds, a failure is not retryable, or the budget is spent. Only errors that are `Retryable`
 * are tried again; the wait is the error's Retry-After (capped) or exponential backoff with jitter.
 */
export async function callWithRetries<T>(
  call: () => Promise<T>,
  budget: RetryBudget,
  hooks: RetryHooks = {},
): Promise<T> {
  let inARow = 0;
  let rateLimited = 0;
  for (let calls = 1; ; calls++) {
    hooks.beforeCall?.();
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      // Stopped while the call failed: the stop wins, as it would have cut the wait short.
      if (hooks.signal?.aborted) throw hooks.signal.reason ?? error;
      let spent: boolean;
      if (error.rateLimited && budget.rateLimitWaits !== undefined) {
        rateLimited += 1;
        spent = rateLimited > budget.rateLimitWaits;
      } else {
        inARow = error.progressed ? 0 : inARow + 1;
        spent = inARow >= budget.attempts;
      }
      if (spent || calls >= (budget.maxCalls ?? Number.POSITIVE_INFINITY))
        throw hooks.giveUp?.(error) ?? error;
      const delayMs = delayFor(error, inARow, budget);
      hooks.onRetry?.(error, delayMs);
      if (delayMs > 0) await sleep(delayMs, hooks.signal);
    }
  }
}

function delayFor(error: Retryable, inARow: number, budget: RetryBudget): number {
  const asked = error.retryAfterMs ?? (error.rateLimited ? budget.defaultRetryAfterMs : undefined);
  // Never longer than the wait policy allows, whatever budget (src/waits.ts: none over 15 min).
  if (asked !== undefined) return boundedWaitMs(Math.min(asked, budget.maxRetryAfterMs ?? MAX_WAIT_MS));
  return backoffMs(Math.max(1, inARow), budget);
}
