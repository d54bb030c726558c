import { endsRun, UsageError } from "../errors.js";
import type { RecordingSource } from "../listing/source.js";
import type { Logger } from "../log/logger.js";
import { recordingsOfEndedCall } from "../notifications/messages.js";
import type { PushListener } from "../notifications/push-channel.js";
import type { OpenRun } from "../run/downloader.js";
import type { RunStats } from "../run/stats.js";
import type { DownloadOutcome, ProgressSink } from "../run/types.js";
import type { WatchHealth } from "./health.js";
import type { WatchMetrics } from "./metrics.js";
import { type SchedulerTimings, type SweepReason, SweepScheduler, type SweepVerdict } from "./scheduler.js";

/** One sweep as the watch reports it (a log line, a JSON line, the metrics). */
export interface SweepReport {
  /** 1 for the first sweep of this process. */
  number: number;
  reason: SweepReason;
  outcome: DownloadOutcome;
  /** Call-log pages the sweep requested. */
  pages: number;
  /** Recordings an event named that the call log did not list yet. */
  awaiting: number;
  /** Why the sweep failed (the watch goes on and sweeps again later). */
  error: string | undefined;
}

export interface WatchDeps {
  /** Open the archive once (lock, manifest) with this progress sink and signal; the watch closes it. */
  open(progress: ProgressSink, signal: AbortSignal): Promise<OpenRun>;
  /** Where every sweep lists: the call log from the mark to now (one source, asked once per sweep). */
  source: RecordingSource;
  /** The push channel around the watch's listener; `run` resolves when its signal aborts. */
  channel(listener: PushListener): { run(signal: AbortSignal): Promise<void> };
  timings: SchedulerTimings;
  /** Fresh counts for one sweep. */
  newStats(): RunStats;
  /** What a person sees of one sweep's recordings (saved, failed), over its counts. */
  progress(stats: RunStats): ProgressSink;
  onSweep(report: SweepReport): void;
  health: WatchHealth;
  metrics: WatchMetrics;
  log: Logger;
  /** SIGTERM/SIGINT: no new transfer starts, those under way stop as partials, the watch returns. */
  signal: AbortSignal;
}

/**
 * Keep an archive current until the signal aborts: the push channel's events and catch-up requests, and a
 * periodic timer, tell the scheduler when to sweep; every sweep is one pass of `source` through the one open
 * run (so a recording is fetched once, whoever announced it). Resolves on the signal; rejects with an error that
 * ends the watch (no login left, the archive's lock lost, bad input found by a sweep, a gateway that breaks the
 * host rule).
 */
export async function watch(deps: WatchDeps): Promise<void> {
  const fatal = new AbortController();
  const signal = AbortSignal.any([deps.signal, fatal.signal]);
  let fatalError: unknown;
  const end = (error: unknown) => {
    fatalError ??= error;
    fatal.abort(error);
  };

  let current: ProgressSink | undefined;
  let scheduler: SweepScheduler | undefined;
  // The run's progress: this sweep's sink, and every listed recording is one the scheduler need not await.
  const progress: ProgressSink = {
    started: (range) => current?.started(range),
    changed: () => current?.changed(),
    skipped: (id, key) => {
      scheduler?.listed(id);
      current?.skipped(id, key);
    },
    saved: (saved) => {
      scheduler?.listed(saved.recordingId);
      current?.saved(saved);
    },
    failed: (id, reason) => {
      scheduler?.listed(id);
      current?.failed(id, reason);
    },
  };
  const run = await deps.open(progress, signal);
  try {
    const sweep = async (reason: SweepReason): Promise<SweepVerdict> => {
      const stats = deps.newStats();
      current = deps.progress(stats);
      let outcome: DownloadOutcome;
      try {
        outcome = await run.sweep(deps.source, stats);
      } catch (error) {
        // A sweep that could not start: bad input ends the watch; anything else is tried again later.
        if (endsRun(error) || error instanceof UsageError) {
          end(error);
          return { ok: false, error };
        }
        stats.end();
        outcome = { summary: stats.summary(), end: { kind: "failed", error } };
      }
      const failure = outcome.end.kind === "failed" ? outcome.end.error : undefined;
      if (failure !== undefined && endsRun(failure)) end(failure);
      const error = failure === undefined ? undefined : describe(failure);
      const pages = stats.listing.pages;
      const awaiting = (scheduler as SweepScheduler).awaiting;
      deps.health.swept(error);
      deps.metrics.sweep(reason, {
        failed: error !== undefined,
        saved: outcome.summary.downloaded,
        bytes: outcome.summary.bytes,
        pages,
        awaiting,
      });
      deps.onSweep({
        number: (scheduler as SweepScheduler).sweeps,
        reason,
        outcome,
        pages,
        awaiting,
        error,
      });
      return failure === undefined ? { ok: true } : { ok: false, error: failure };
    };
    scheduler = new SweepScheduler({
      timings: deps.timings,
      sweep,
      gaveUp: (ids) =>
        deps.log.info(
          `${ids.length} recording(s) announced by events are not in the call log after ${Math.round(deps.timings.giveUpMs / 1000)} s (e.g. ${ids[0]}); the periodic sweep keeps looking`,
        ),
    });
    const owner = scheduler;
    const listener: PushListener = {
      event: (event) => {
        deps.metrics.event();
        owner.announce(recordingsOfEndedCall(event));
      },
      up: (how) => {
        deps.health.subscribed();
        deps.metrics.channel(true);
        deps.log.info(
          how === "recovered"
            ? "push channel recovered its subscription (missed events replayed)"
            : "push channel subscribed to telephony events",
        );
      },
      down: (reason) => {
        deps.health.down(reason);
        deps.metrics.channel(false);
      },
      catchUpNeeded: (reason) => {
        deps.log.info(`${reason}: sweeping the call log to catch up`);
        owner.catchUp();
      },
    };
    const channel = deps
      .channel(listener)
      .run(signal)
      .catch((error: unknown) => end(error));
    // A scheduler that fails (a report that throws) ends the watch like any fatal error: the channel is told to
    // stop too, else its socket and timers would keep the process alive after the run closed.
    await owner.run(signal).catch((error: unknown) => end(error));
    await channel;
  } finally {
    await run.close();
  }
  if (fatalError !== undefined) throw fatalError;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "";
}
