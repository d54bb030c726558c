import { describe, expect, it } from "vitest";
import { RunStats } from "../../../src/recordings/stats.js";

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
    stats.fail({ recordingId: "9", error: "HTTP 500" });
    now = 3_000;
    expect(stats.finished).toBe(3);
    expect(stats.rate()).toBe(100);
    expect(stats.eta()).toBe(2); // 2 s per saved recording, 1 left
    stats.end();
    now = 9_000; // the clock stopped with the run
    expect(stats.summary()).toEqual({
      listed: 4,
      downloaded: 1,
      skipped: 1,
      failed: 1,
      bytes: 300,
      durationMs: 2_000,
      failures: [{ recordingId: "9", error: "HTTP 500" }],
    });
  });

  it("has no ETA before the first recording is saved", () => {
    const stats = new RunStats();
    stats.listed = 10;
    expect(stats.eta()).toBeUndefined();
  });
});
