import type { TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import type { DownloadSummary, RunStats } from "../run/stats.js";
import type { ProgressSink, SavedRecording } from "../run/types.js";
import type { Zone } from "../zone.js";
import { formatBytes, formatDuration, formatSpan } from "./format.js";

/** Progress of a download run on stderr. stdout is never touched: it carries only the `--json` summary. */
export interface Reporter extends ProgressSink {
  /** The rate limiter paused every request of a group for `seconds` (`reason`: budget used up, or a 429). */
  waiting(seconds: number, reason?: "budget" | "penalty"): void;
  finish(summary: DownloadSummary): void;
  /** Stop any animation; safe to call more than once, also after a failure. */
  close(): void;
}

export interface ReporterOptions {
  log: Logger;
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Where the recordings go, as the destination describes itself. */
  dir: string;
  dryRun: boolean;
  /** The run's counts, written by the downloader: the reporter only reads them. */
  stats: RunStats;
  /** Times in lines for people are this zone's wall clock, without milliseconds (--timezone). */
  zone: Zone;
}

/** Plain (non-TTY) logs say how far the run is at most this often. */
const PROGRESS_EVERY_MS = 60_000;

/** "1234 remaining, ETA 3 d 4 h (Heavy budget)", or what is not known yet. */
function describeProgress(stats: RunStats): string {
  const eta = stats.eta();
  if (eta.kind === "unknown") {
    return eta.why === "listing"
      ? `at least ${stats.remaining} remaining (still listing), ETA unknown`
      : `${stats.remaining} remaining, ETA unknown (no rate-limit budget learned yet)`;
  }
  const basis = eta.limitedBy === "budget" ? "Heavy budget" : "bandwidth";
  return `${stats.remaining} remaining, ETA ${formatSpan(eta.seconds)} (${basis})`;
}

/**
 * On a terminal (and not `--quiet`, not `--log-format json`): an ora spinner with done/total, bytes, rate, ETA
 * and rate-limit pauses. Otherwise (cron, pipes, log shippers): plain log lines, no spinner, no colour. ora is
 * imported only when a spinner is shown.
 */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const spinner = await spinnerFor(options, "listing recordings");
  if (!spinner) return new PlainReporter(options);
  return new SpinnerReporter(options, spinner);
}

/**
 * An ora spinner on stderr (not started) when a person watches: a terminal with a size, not `--quiet`, TERM not
 * `dumb`. Undefined otherwise (cron, pipes), and ora is then never imported.
 */
export async function spinnerFor(
  options: Pick<ReporterOptions, "log" | "stderrIsTTY" | "env">,
  text: string,
): Promise<Spinner | undefined> {
  // A pseudo-terminal without a size (columns 0) makes a spinner redraw endlessly: treat it as no terminal.
  const sized = (process.stderr.columns ?? 0) > 0;
  const interactive =
    options.stderrIsTTY &&
    sized &&
    options.log.verbosity !== "quiet" &&
    options.log.format === "text" &&
    options.env.TERM !== "dumb";
  if (!interactive) return undefined;
  const { default: ora } = await import("ora");
  return ora({
    stream: process.stderr,
    discardStdin: false,
    color: options.env.NO_COLOR ? false : "cyan",
    text,
  });
}

/**
 * The lines of one sweep of a long-running command (`watch`): saved and failed recordings as a download shows them
 * without a terminal, but no "recordings from … to …" line per sweep (the command logs one line per sweep).
 */
export function sweepReporter(options: Omit<ReporterOptions, "dryRun" | "stderrIsTTY" | "env">): Reporter {
  return new SweepReporter({ ...options, dryRun: false, stderrIsTTY: false, env: {} });
}

class PlainReporter implements Reporter {
  protected readonly log: Logger;
  protected readonly stats: RunStats;
  private lastProgressAt = Date.now();

  constructor(private readonly options: ReporterOptions) {
    this.log = options.log;
    this.stats = options.stats;
  }

  started(range: TimeRange): void {
    this.log.info(
      `recordings from ${this.options.zone.human(range.from)} to ${this.options.zone.human(range.to)} into ${this.options.dir}`,
    );
  }

  changed(): void {}

  skipped(recordingId: string, key: string | undefined): void {
    // Debug only: a nightly run skips nearly everything, one line each would drown what matters.
    this.log.debug(`skipped ${key ?? `recording ${recordingId}`}: already in the archive`, {
      event: "skipped",
      recordingId,
      path: key,
    });
    this.changed();
  }

  saved(saved: SavedRecording): void {
    this.log.info(`saved ${saved.key} (${formatBytes(saved.bytes)})`, savedFields(saved));
    const now = Date.now();
    if (now - this.lastProgressAt >= PROGRESS_EVERY_MS) {
      this.lastProgressAt = now;
      const { downloaded, remaining } = this.stats;
      this.log.info(`progress: ${downloaded} saved, ${describeProgress(this.stats)}`, {
        event: "progress",
        downloaded,
        remaining,
      });
    }
  }

  failed(recordingId: string, reason: string): void {
    this.log.error(`recording ${recordingId} failed: ${reason}`, {
      event: "failed",
      recordingId,
      error: reason,
    });
  }

  /** Every wait over 30 s is already a log line of the rate limiter (length and reason): here only debug. */
  waiting(seconds: number, _reason?: "budget" | "penalty"): void {
    this.log.debug(`waiting ${Math.ceil(seconds)} s for the rate limit`);
  }

  close(): void {}

  finish(summary: DownloadSummary): void {
    if (this.options.dryRun) {
      const { listed, skipped, estimate } = summary;
      this.log.info(`dry run: listed ${listed}, would download ${this.stats.planned}, skipped ${skipped}`);
      if (estimate) {
        const { pages, lookups } = estimate;
        const parts = [
          ...(pages > 0 || lookups === 0 ? [`${pages} call-log pages`] : []),
          ...(lookups > 0 ? [`${lookups} recording lookups`] : []),
          `${this.stats.planned} downloads`,
        ];
        const duration =
          estimate.durationMs === null
            ? "duration unknown (the server sent no rate-limit budget)"
            : `about ${formatSpan(estimate.durationMs / 1000)} at the learned Heavy budget of the given profiles`;
        this.log.info(`estimate: ${estimate.requests} Heavy requests (${parts.join(" + ")}), ${duration}`);
      }
      return;
    }
    const parts = [
      `listed ${summary.listed}`,
      `downloaded ${summary.downloaded}`,
      `skipped ${summary.skipped}`,
    ];
    if (summary.failed > 0) parts.push(`failed ${summary.failed}`);
    const line = `${parts.join(", ")}; ${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs / 1000)}`;
    if (summary.failed > 0) this.log.warn(line);
    else this.log.info(line);
  }
}

class SweepReporter extends PlainReporter {
  override started(range: TimeRange): void {
    this.log.debug(`sweep: recordings from ${range.from.toISOString()} to ${range.to.toISOString()}`);
  }

  override finish(_summary: DownloadSummary): void {}
}

export interface Spinner {
  text: string;
  start(): unknown;
  stop(): unknown;
}

class SpinnerReporter extends PlainReporter {
  private waitUntil = 0;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    options: ReporterOptions,
    private readonly spinner: Spinner,
  ) {
    super(options);
  }

  /** The spinner starts only once the run really starts (login found, folder locked). */
  override started(range: TimeRange): void {
    super.started(range);
    this.spinner.start();
    // The countdown and rate change even when no event arrives.
    this.ticker = setInterval(() => this.refresh(), 500);
    this.ticker.unref();
  }

  override changed(): void {
    this.refresh();
  }

  override saved(saved: SavedRecording): void {
    this.log.debug(`saved ${saved.key} (${formatBytes(saved.bytes)})`, savedFields(saved));
    this.refresh();
  }

  override waiting(seconds: number, _reason?: "budget" | "penalty"): void {
    this.waitUntil = Math.max(this.waitUntil, Date.now() + seconds * 1000);
    this.refresh();
  }

  override finish(summary: DownloadSummary): void {
    this.close();
    super.finish(summary);
  }

  override close(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.spinner.stop();
  }

  private refresh(): void {
    const t = this.stats;
    const parts = [
      `${t.finished}/${t.listed}${t.listingComplete ? "" : "+"} recordings`,
      formatBytes(t.receivedBytes),
      `${formatBytes(t.rate())}/s`,
      describeProgress(t),
    ];
    const wait = (this.waitUntil - Date.now()) / 1000;
    if (wait >= 1) parts.push(`waiting ${Math.ceil(wait)} s for the rate limit`);
    this.spinner.text = parts.join(" · ");
  }
}

function savedFields(saved: SavedRecording) {
  const { recordingId, key, bytes, sha256 } = saved;
  return { event: "saved", recordingId, path: key, bytes, sha256 } as const;
}
