import { describe, expect, it } from "vitest";
import { RunStats } from "../../../src/run/stats.js";

describe("RunStats", () => {
  it("is the one count: the summary and the progress line read the same numbers", () => {
    let now = 1_000;
    const stats = new RunStats(() => now);
    stats.begin();
    stats.listed = 4;
    stats.downloaded = 1;
    stats.skipped = 1;
    stats.savedBytes = 300;
    stats.receivedBytes = 200; // 100 of the 300 were resumed from an earlier run
    stats.fail({ recordingId: "9", startTime: "2026-01-01T00:00:00Z", reason: "failed", error: "HTTP 500" });
    now = 3_000;
    expect(stats.finished).toBe(3);
    expect(stats.rate()).toBe(100);
    // While listing, the total (and so the ETA) is unknown; once it is complete: 1 left at 300 B ÷ 100 B/s.
    expect(stats.eta()).toEqual({ kind: "unknown", why: "listing" });
    stats.listingComplete = true;
    expect(stats.eta()).toEqual({ kind: "known", seconds: 3, limitedBy: "bandwidth" });
    stats.budgetPerSecond = () => 0.1; // 10 s per Heavy request: the budget is the bottleneck
    expect(stats.eta()).toEqual({ kind: "known", seconds: 10, limitedBy: "budget" });
    stats.end();
    now = 9_000; // the clock stopped with the run
    expect(stats.summary()).toEqual({
      listed: 4,
      downloaded: 1,
      skipped: 1,
      failed: 1,
      bytes: 300,
      durationMs: 2_000,
      failures: [
        { recordingId: "9", startTime: "2026-01-01T00:00:00Z", reason: "failed", error: "HTTP 500" },
      ],
      complete: false,
      remaining: 2,
    });
  });

  it("has no ETA before a budget or a size was learned, and no remaining count before the listing ends", () => {
    const stats = new RunStats();
    stats.listed = 10;
    stats.listingComplete = true;
    expect(stats.eta()).toEqual({ kind: "unknown", why: "learning" });
    stats.listingComplete = false;
    expect(stats.summary()).toMatchObject({ complete: false, remaining: null });
  });
});
