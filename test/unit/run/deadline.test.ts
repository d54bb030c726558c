import { afterEach, describe, expect, it, vi } from "vitest";
import { Deadline, StoppedAtDeadline, WIND_DOWN_MS } from "../../../src/run/deadline.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("Deadline", () => {
  it("stops new work at D, transfers after the grace period, and the wind-down WIND_DOWN_MS after that", () => {
    vi.useFakeTimers();
    const deadline = new Deadline(10_000, { graceMs: 5_000 });
    const ended = vi.fn();
    deadline.windDown(ended);
    vi.advanceTimersByTime(9_999);
    expect(deadline.reached).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.reason).toBeInstanceOf(StoppedAtDeadline);
    vi.advanceTimersByTime(5_000);
    expect(deadline.hardSignal.aborted).toBe(true);
    vi.advanceTimersByTime(WIND_DOWN_MS - 1);
    expect(ended).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ended).toHaveBeenCalledOnce();
    deadline.dispose();
  });

  it("a wind-down asked for after the hard stop still waits its WIND_DOWN_MS; none after dispose()", () => {
    vi.useFakeTimers();
    const deadline = new Deadline(1_000, { graceMs: 1_000 });
    vi.advanceTimersByTime(2_000);
    const late = vi.fn();
    deadline.windDown(late);
    vi.advanceTimersByTime(WIND_DOWN_MS);
    expect(late).toHaveBeenCalledOnce();

    const disposed = new Deadline(1_000, { graceMs: 1_000 });
    const never = vi.fn();
    disposed.windDown(never);
    disposed.dispose();
    vi.advanceTimersByTime(10 * WIND_DOWN_MS);
    expect(never).not.toHaveBeenCalled();
  });
});
