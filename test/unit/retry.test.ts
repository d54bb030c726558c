import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import {
  backoffMs,
  callWithRetries,
  isRetryable,
  isTransientStatus,
  parseRetryAfter,
  type Retryable,
  type RetryBudget,
  sleep,
} from "../../src/retry.js";

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(" 1.5 ")).toBe(1500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 5_000)).toBe(5000);
    expect(parseRetryAfter(new Date(1_000).toUTCString(), 5_000)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
    expect(parseRetryAfter("-5")).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("backoffMs", () => {
  it("doubles up to the cap, without jitter when asked", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 500, jitter: "none" } as const;
    expect([1, 2, 3, 4].map((n) => backoffMs(n, policy))).toEqual([100, 200, 400, 500]);
  });

  it("keeps half the wait fixed with equal jitter", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 500 };
    expect(backoffMs(2, policy, () => 0)).toBe(100);
    expect(backoffMs(2, policy, () => 1)).toBe(200);
  });
});

describe("sleep", () => {
  it("rejects with the abort reason as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new InterruptedError()), 10);
    await expect(sleep(5_000, controller.signal)).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("isTransientStatus", () => {
  it("is the one rule for HTTP: 408 and 5xx are worth another try; other 4xx, 429 (a budget) and 3xx are not", () => {
    expect([408, 500, 502, 503, 504, 599].map(isTransientStatus)).toEqual(Array(6).fill(true));
    expect([200, 302, 400, 401, 403, 404, 416, 429].map(isTransientStatus)).toEqual(Array(8).fill(false));
  });
});

describe("isRetryable", () => {
  it("trusts only errors that say so", () => {
    expect(isRetryable(Object.assign(new Error("reset"), { retryable: true }))).toBe(true);
    expect(isRetryable(new Error("path escapes DIR"))).toBe(false);
    expect(isRetryable({ retryable: true })).toBe(false);
  });
});

/** A retryable failure with the given hints. */
function flaky(hints: Partial<Omit<Retryable, "retryable">> = {}): Error & Retryable {
  return Object.assign(new Error("flaky"), { retryable: true as const, ...hints });
}

/** A call that fails with the given errors in turn, then succeeds; counts its calls. */
function scripted(...failures: Error[]) {
  const calls = { n: 0 };
  const call = async () => {
    const failure = failures[calls.n];
    calls.n += 1;
    if (failure) throw failure;
    return "ok";
  };
  return { call, calls };
}

const FAST: RetryBudget = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: "none" };

describe("callWithRetries", () => {
  it("retries what says it is retryable, within `attempts` in a row", async () => {
    const ok = scripted(flaky(), flaky());
    expect(await callWithRetries(ok.call, FAST)).toBe("ok");
    expect(ok.calls.n).toBe(3);
    const spent = scripted(flaky({ retryAfterMs: 0 }), flaky(), flaky(), flaky());
    await expect(callWithRetries(spent.call, FAST)).rejects.toThrow("flaky");
    expect(spent.calls.n).toBe(3);
  });

  it("fails at once on an error that does not say it is retryable", async () => {
    const bug = scripted(new Error("bug"));
    await expect(callWithRetries(bug.call, FAST)).rejects.toThrow("bug");
    expect(bug.calls.n).toBe(1);
  });

  it("starts the count again after progress, but never exceeds maxCalls", async () => {
    const failures = Array.from({ length: 10 }, () => flaky({ progressed: true }));
    const capped = scripted(...failures);
    await expect(callWithRetries(capped.call, { ...FAST, maxCalls: 6 })).rejects.toThrow("flaky");
    expect(capped.calls.n).toBe(6);
  });

  it("counts rate limits apart and hands the spent budget to giveUp", async () => {
    const limited = scripted(flaky({ rateLimited: true }), flaky(), flaky({ rateLimited: true }), flaky());
    expect(await callWithRetries(limited.call, { ...FAST, rateLimitWaits: 2, defaultRetryAfterMs: 1 })).toBe(
      "ok",
    );
    expect(limited.calls.n).toBe(5);
    const noWaits = scripted(flaky({ rateLimited: true }));
    const error = await callWithRetries(
      noWaits.call,
      { ...FAST, rateLimitWaits: 0 },
      {
        giveUp: (last) => new Error(`gave up: ${last.message}`),
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "gave up: flaky" });
    expect(noWaits.calls.n).toBe(1);
  });

  it("waits the error's Retry-After, capped by the budget, and reports each retry", async () => {
    const waits: number[] = [];
    const slow = scripted(flaky({ retryAfterMs: 5 }), flaky({ retryAfterMs: 3_600_000 }));
    await callWithRetries(
      slow.call,
      { ...FAST, maxRetryAfterMs: 7 },
      { onRetry: (_error, delayMs) => waits.push(delayMs) },
    );
    expect(waits).toEqual([5, 7]);
  });

  it("stops waiting when the signal aborts, with the signal's reason", async () => {
    const controller = new AbortController();
    const stuck = scripted(flaky({ retryAfterMs: 60_000 }));
    setTimeout(() => controller.abort(new InterruptedError()), 10);
    await expect(callWithRetries(stuck.call, FAST, { signal: controller.signal })).rejects.toBeInstanceOf(
      InterruptedError,
    );
  });
});
