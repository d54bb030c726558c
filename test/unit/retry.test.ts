import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import { backoffMs, isRetryable, parseRetryAfter, sleep } from "../../src/retry.js";

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

describe("isRetryable", () => {
  it("trusts only errors that say so", () => {
    expect(isRetryable(Object.assign(new Error("reset"), { retryable: true }))).toBe(true);
    expect(isRetryable(new Error("path escapes DIR"))).toBe(false);
    expect(isRetryable({ retryable: true })).toBe(false);
  });
});
