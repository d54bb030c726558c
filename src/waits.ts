import type { EventFields } from "./log/events.js";
import type { Logger } from "./log/logger.js";

/**
 * The wait policy of every pause the CLI takes on a server's word (Retry-After, a rate-limit penalty) or on its
 * own (backoff): no wait is silent, none is unbounded, and none can overflow a timer.
 */

/** A single wait never lasts longer; then the request is sent again (and may be told to wait again). */
export const MAX_WAIT_MS = 15 * 60_000;

/** Waits longer than this are one log line each (length and reason); shorter ones are routine pacing. */
export const LOGGED_WAIT_MS = 30_000;

/** setTimeout's largest delay; a longer one fires AT ONCE (a busy loop for a caller that waits again). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wait actually taken for `requestedMs`: at most MAX_WAIT_MS, never negative or NaN. */
export function boundedWaitMs(requestedMs: number): number {
  if (!Number.isFinite(requestedMs) || requestedMs <= 0) return requestedMs > 0 ? MAX_WAIT_MS : 0;
  return Math.min(requestedMs, MAX_WAIT_MS);
}

/** A delay safe for setTimeout (bounded above by the timer's range). */
export function timerMs(ms: number): number {
  return Math.max(0, Math.min(Number.isFinite(ms) ? ms : MAX_TIMER_MS, MAX_TIMER_MS));
}

/** 45 → "45 s", 900 → "15 min", 100000 → "27 h 47 min". */
export function describeWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Say that a wait of `waitMs` starts, and why, when it is long enough to matter (over LOGGED_WAIT_MS). When the
 * server asked for more than the cap, the line says so. Returns the wait to take.
 */
export function announceWait(
  log: Logger,
  requestedMs: number,
  reason: string,
  fields: Omit<EventFields<"wait">, "waitMs" | "reason"> = {},
): number {
  const waitMs = boundedWaitMs(requestedMs);
  if (waitMs <= LOGGED_WAIT_MS) return waitMs;
  const capped =
    waitMs < requestedMs ? ` (asked for ${describeWait(requestedMs)}; capped, then retried)` : "";
  log.info(`waiting ${describeWait(waitMs)}: ${reason}${capped}`, {
    ...fields,
    event: "wait",
    waitMs,
    reason,
    ...(capped ? { requestedWaitMs: Number.isFinite(requestedMs) ? requestedMs : undefined } : {}),
  });
  return waitMs;
}

/**
 * A retry after `delayMs`: a debug line (event `retry`, `error` = why) — or, when the wait is long enough to
 * matter, an info line, so that no wait over LOGGED_WAIT_MS is silent.
 */
export function logRetry(
  log: Logger,
  subject: string,
  reason: string,
  delayMs: number,
  fields: Omit<EventFields<"retry">, "error" | "waitMs"> = {},
): void {
  const line = `${subject}: ${reason}; retrying in ${delayMs > LOGGED_WAIT_MS ? describeWait(delayMs) : `${delayMs} ms`}`;
  const all = { ...fields, event: "retry", error: reason, waitMs: delayMs } as const;
  if (delayMs > LOGGED_WAIT_MS) log.info(line, all);
  else log.debug(line, all);
}
