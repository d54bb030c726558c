import type { DownloadSummary, Failure } from "./types.js";

/**
 * The one count of a run (after rclone's accounting.StatsInfo): the downloader writes it, the progress line and
 * the final summary (`--json` included) read it. Nothing else counts.
 */
export class RunStats {
  listed = 0;
  downloaded = 0;
  skipped = 0;
  /** Dry run: recordings a real run would download. */
  planned = 0;
  failed = 0;
  /** Size of the recordings saved, resumed bytes included (the summary's `bytes`). */
  savedBytes = 0;
  /** Bytes received so far, as they arrive, retries included (the progress line's rate). */
  receivedBytes = 0;
  readonly failures: Failure[] = [];
  private startedAt: number;
  private endedAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** Start the clock (the run starts: login found, destination locked). */
  begin(): void {
    this.startedAt = this.now();
  }

  /** Recordings that need nothing more from this run. */
  get finished(): number {
    return this.downloaded + this.skipped + this.planned + this.failed;
  }

  fail(failure: Failure): void {
    this.failed += 1;
    this.failures.push(failure);
  }

  /** Stop the clock: the duration of the summary. */
  end(): void {
    this.endedAt ??= this.now();
  }

  get durationMs(): number {
    return (this.endedAt ?? this.now()) - this.startedAt;
  }

  /** Bytes per second received since the run started. */
  rate(): number {
    const seconds = this.durationMs / 1000;
    return seconds > 0 ? this.receivedBytes / seconds : 0;
  }

  /** Seconds left at the pace so far, for the recordings listed so far. Unknown before the first is saved. */
  eta(): number | undefined {
    if (this.downloaded === 0) return undefined;
    const perItem = this.durationMs / 1000 / this.downloaded;
    return perItem * (this.listed - this.finished);
  }

  summary(): DownloadSummary {
    return {
      listed: this.listed,
      downloaded: this.downloaded,
      skipped: this.skipped,
      failed: this.failed,
      bytes: this.savedBytes,
      durationMs: this.durationMs,
      failures: this.failures,
    };
  }
}
