import { describe, expect, it } from "vitest";
import { Deadline, graceMs, StoppedAtDeadline } from "../../../src/run/deadline.js";
import { estimateEta } from "../../../src/run/eta.js";

describe("estimateEta", () => {
  it("says the total is unknown while the listing runs, instead of guessing", () => {
    expect(
      estimateEta({ remaining: undefined, budgetPerSecond: 1, bytesPerSecond: 1e6, averageBytes: 1e5 }),
    ).toEqual({
      kind: "unknown",
      why: "listing",
    });
  });

  it("takes the learned budget when it is the bottleneck: 14,400 recordings at 10 a minute is a day", () => {
    const eta = estimateEta({
      remaining: 14_400,
      budgetPerSecond: 10 / 60,
      bytesPerSecond: 5e6,
      averageBytes: 1e6,
    });
    expect(eta).toEqual({ kind: "known", seconds: 86_400, limitedBy: "budget" });
  });

  it("takes the bandwidth when bytes, not requests, are slower", () => {
    const eta = estimateEta({ remaining: 100, budgetPerSecond: 100, bytesPerSecond: 1e6, averageBytes: 1e7 });
    expect(eta).toEqual({ kind: "known", seconds: 1000, limitedBy: "bandwidth" });
  });

  it("is unknown before any budget or size was learned", () => {
    expect(
      estimateEta({ remaining: 5, budgetPerSecond: undefined, bytesPerSecond: 0, averageBytes: undefined }),
    ).toEqual({ kind: "unknown", why: "learning" });
  });
});

describe("Deadline", () => {
  it("aborts its start signal at D and the hard signal a grace period later", async () => {
    const deadline = new Deadline(30);
    expect(deadline.reached).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(deadline.reached).toBe(true);
    expect(deadline.signal.reason).toBeInstanceOf(StoppedAtDeadline);
    expect(deadline.hardSignal.aborted).toBe(false);
    deadline.dispose();
  });

  it("ends now when asked, and knows which waits would outlast it", () => {
    const deadline = new Deadline(60_000, { now: 1_000 });
    expect(deadline.outlasts(59_000, 1_000)).toBe(false);
    expect(deadline.outlasts(61_000, 1_000)).toBe(true);
    deadline.endNow();
    expect(deadline.reached).toBe(true);
    deadline.dispose();
  });

  it("gives transfers on the wire D/20 to finish, between 15 s and 5 min", () => {
    expect(graceMs(2_000)).toBe(15_000);
    expect(graceMs(55 * 60_000)).toBe(165_000);
    expect(graceMs(24 * 3_600_000)).toBe(300_000);
  });
});

describe("a deadline past the timer's range", () => {
  it("--max-duration 30d does not end the run at once (setTimeout would fire a 30-day delay immediately)", async () => {
    const deadline = new Deadline(30 * 86_400_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(deadline.signal.aborted).toBe(false);
    } finally {
      deadline.dispose();
    }
  });
});
