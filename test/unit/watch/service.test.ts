import { describe, expect, it } from "vitest";
import { LoginRequiredError } from "../../../src/errors.js";
import type { RecordingSource } from "../../../src/listing/source.js";
import { Logger } from "../../../src/log/logger.js";
import type { PushListener } from "../../../src/notifications/push-channel.js";
import type { OpenRun } from "../../../src/run/downloader.js";
import { RunStats } from "../../../src/run/stats.js";
import type { DownloadOutcome, ProgressSink } from "../../../src/run/types.js";
import { WatchHealth } from "../../../src/watch/health.js";
import { WatchMetrics } from "../../../src/watch/metrics.js";
import { DEFAULT_SCHEDULER_TIMINGS } from "../../../src/watch/scheduler.js";
import { type WatchDeps, watch } from "../../../src/watch/service.js";

const quietSink: ProgressSink = {
  started: () => undefined,
  changed: () => undefined,
  skipped: () => undefined,
  saved: () => undefined,
  failed: () => undefined,
};

/**
 * The watch over fakes: a run whose sweeps end as `sweep` says, and a push channel that runs until its signal
 * aborts (as the real one does). `channelStopped` tells whether the watch told the channel to stop.
 */
function fakes(sweep: (stats: RunStats) => Promise<DownloadOutcome>, overrides: Partial<WatchDeps> = {}) {
  let channelStopped = false;
  let closed = false;
  const run: OpenRun = {
    sweep: (_source, stats) => sweep(stats ?? new RunStats()),
    close: async () => {
      closed = true;
    },
    chainHead: undefined,
  };
  const deps: WatchDeps = {
    open: async () => run,
    source: {} as RecordingSource,
    channel: (_listener: PushListener) => ({
      run: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener(
            "abort",
            () => {
              channelStopped = true;
              resolve();
            },
            { once: true },
          );
        }),
    }),
    timings: { ...DEFAULT_SCHEDULER_TIMINGS, periodMs: 60_000 },
    newStats: () => {
      const stats = new RunStats();
      stats.begin();
      return stats;
    },
    progress: () => quietSink,
    onSweep: () => undefined,
    health: new WatchHealth(),
    metrics: new WatchMetrics({ profile: "default", out: "./recordings" }),
    log: new Logger("quiet", { write: () => undefined }),
    signal: new AbortController().signal,
    ...overrides,
  };
  return { deps, channelStopped: () => channelStopped, closed: () => closed };
}

const completed = async (stats: RunStats): Promise<DownloadOutcome> => {
  stats.end();
  return { summary: stats.summary(), end: { kind: "completed" } };
};

describe("watch service", () => {
  it("stops the push channel and closes the run when a sweep's report throws", async () => {
    const f = fakes(completed, {
      onSweep: () => {
        throw new Error("stdout is gone");
      },
    });
    await expect(watch(f.deps)).rejects.toThrow("stdout is gone");
    expect(f.channelStopped()).toBe(true);
    expect(f.closed()).toBe(true);
  }, 20_000);

  it("ends with the error that ends every run (no login left), the channel stopped", async () => {
    const f = fakes(async (stats) => {
      stats.end();
      return { summary: stats.summary(), end: { kind: "failed", error: new LoginRequiredError("revoked") } };
    });
    await expect(watch(f.deps)).rejects.toBeInstanceOf(LoginRequiredError);
    expect(f.channelStopped()).toBe(true);
    expect(f.closed()).toBe(true);
  }, 20_000);

  it("returns on its signal, the channel stopped and the run closed", async () => {
    const stop = new AbortController();
    let sweeps = 0;
    const f = fakes(
      async (stats) => {
        sweeps += 1;
        return completed(stats);
      },
      { signal: stop.signal },
    );
    const watching = watch(f.deps);
    for (let i = 0; i < 200 && sweeps === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await expect(watching).resolves.toBeUndefined();
    expect(sweeps).toBe(1);
    expect(f.channelStopped()).toBe(true);
    expect(f.closed()).toBe(true);
  }, 20_000);
});
