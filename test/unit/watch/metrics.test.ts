import { describe, expect, it } from "vitest";
import { WatchMetrics } from "../../../src/watch/metrics.js";

describe("watch metrics", () => {
  it("serves every series at 0 from the start (a rate() alert needs the series before its first rise)", async () => {
    const text = await new WatchMetrics({ profile: "work", out: "s3://b/calls" }).text();
    const labels = 'profile="work",out="s3://b/calls"';
    for (const name of [
      "sweep_failures_total",
      "events_total",
      "recordings_saved_total",
      "saved_bytes_total",
      "call_log_pages_total",
      "connected",
      "awaiting_recordings",
    ]) {
      expect(text).toContain(`rc_recordings_watch_${name}{${labels}} 0\n`);
    }
  });

  it("counts a failed sweep and keeps the last success where it was", async () => {
    const metrics = new WatchMetrics({ profile: "work", out: "./rec" });
    metrics.sweep("start", { failed: false, saved: 2, bytes: 100, pages: 1, awaiting: 0 });
    metrics.sweep("periodic", { failed: true, saved: 0, bytes: 0, pages: 1, awaiting: 3 });
    const text = await metrics.text();
    expect(text).toMatch(/rc_recordings_watch_sweep_failures_total\{[^}]*\} 1\n/);
    expect(text).toMatch(/rc_recordings_watch_recordings_saved_total\{[^}]*\} 2\n/);
    expect(text).toMatch(/rc_recordings_watch_call_log_pages_total\{[^}]*\} 2\n/);
    expect(text).toMatch(/rc_recordings_watch_awaiting_recordings\{[^}]*\} 3\n/);
    expect(text).toMatch(/rc_recordings_watch_sweeps_total\{[^}]*reason="periodic"\} 1\n/);
  });
});
