import { afterEach, describe, expect, it, vi } from "vitest";
import { Logger } from "../../src/log/logger.js";
import { sleep } from "../../src/retry.js";
import {
  announceWait,
  boundedWaitMs,
  describeWait,
  LOGGED_WAIT_MS,
  logRetry,
  MAX_TIMER_MS,
  MAX_WAIT_MS,
  timerMs,
} from "../../src/waits.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("normal", { write: (text: string) => lines.push(JSON.parse(text)) }, "json");
  return { log, lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the wait policy", () => {
  it("caps a single wait at 15 min and never hands a timer more than it can hold", () => {
    expect(boundedWaitMs(100_000_000)).toBe(MAX_WAIT_MS);
    expect(boundedWaitMs(Number.POSITIVE_INFINITY)).toBe(MAX_WAIT_MS);
    expect(boundedWaitMs(-5)).toBe(0);
    expect(boundedWaitMs(Number.NaN)).toBe(0);
    expect(boundedWaitMs(45_000)).toBe(45_000);
    expect(timerMs(2 ** 40)).toBe(MAX_TIMER_MS);
    expect(timerMs(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
  });

  it("logs a wait over 30 s once with its length and reason; shorter waits are silent", () => {
    const { log, lines } = capture();
    expect(announceWait(log, LOGGED_WAIT_MS, "short")).toBe(LOGGED_WAIT_MS);
    expect(lines).toEqual([]);
    expect(announceWait(log, 100_000_000, "Retry-After 100000")).toBe(MAX_WAIT_MS);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        event: "wait",
        waitMs: MAX_WAIT_MS,
        requestedWaitMs: 100_000_000,
        reason: "Retry-After 100000",
        msg: "waiting 15 min: Retry-After 100000 (asked for 27 h 47 min; capped, then retried)",
      }),
    ]);
  });

  it("a retry is a debug line, or an info line when its wait is over 30 s", () => {
    const { log, lines } = capture();
    logRetry(log, "recording 7", "HTTP 503", 1_000, { recordingId: "7" });
    logRetry(log, "recording 7", "HTTP 503", 120_000, { recordingId: "7" });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        event: "retry",
        recordingId: "7",
        error: "HTTP 503",
        waitMs: 120_000,
        msg: "recording 7: HTTP 503; retrying in 2 min",
      }),
    ]);
    expect(describeWait(45_000)).toBe("45 s");
  });

  it("sleep never fires at once for a delay past the timer's range (no busy loop)", async () => {
    vi.useFakeTimers();
    let done = false;
    const warnings = vi.spyOn(process, "emitWarning");
    void sleep(2 ** 31 + 1_000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(done).toBe(false);
    expect(warnings).not.toHaveBeenCalled();
  });
});
