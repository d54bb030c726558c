import type { UnsavedRecord } from "../archive/manifest.js";
import type { ListingStats } from "../listing/call-log.js";
import { type Eta, estimateEta } from "./eta.js";

/**
 * A recording the run listed but could not save. It is also what the manifest keeps of it (an `unsaved` record:
 * evidence for `report`), hence the manifest's type.
 */
export type Failure = UnsavedRecord;

export interface DownloadSummary {
  listed: number;
  downloaded: number;
  skipped: number;
  failed: number;
  bytes: number;
  durationMs: number;
  failures: Failure[];
  /** Everything in the range is on disk (a dry run: nothing would be downloaded). */
  complete: boolean;
  /** Recordings of the range not on disk after this run; null when the listing did not reach the end. */
  remaining: number | null;
  /**
   * Dry run: the Heavy requests a real run still needs (call-log pages + recording lookups + downloads) and how
   * long they take.
   */
  estimate?: { requests: number; pages: number; lookups: number; durationMs: number | null };
  /**
   * Hash of the manifest's last record after the run (archive/chain.ts): kept elsewhere, `verify --chain-head`
   * proves the archive still contains it. Null while the manifest has no chain (nothing written yet).
   */
  chainHead?: string | null;
  /** A pool (several --profile): what each profile did, and why one was dropped. */
  profiles?: { name: string; downloaded: number; error: string | null }[];
}

/**
 * Recordings the run listed that retention deletes soon (those that started before `cutoff`) and that are not
 * in the archive after it. Honest only when the listing covered the whole window from the retention edge to
 * `cutoff`: the command arms it for such a run (`--from retention`), and `count()` is undefined otherwise.
 */
export class RetentionRisk {
  private cutoffMs: number | undefined;
  private startMs = 0;
  private through = Number.NEGATIVE_INFINITY;
  private atRisk = 0;
  private settled = 0;

  /** Count the recordings of [from, cutoff): `from` is where the run's listing starts (at or before the edge). */
  arm(from: Date, cutoff: Date): void {
    this.startMs = from.getTime();
    this.cutoffMs = cutoff.getTime();
  }

  listed(startTime: string): void {
    if (this.inWindow(startTime)) this.atRisk += 1;
  }

  /** Archived (saved or there already), or gone from the platform: not at risk. */
  archived(startTime: string): void {
    if (this.inWindow(startTime)) this.settled += 1;
  }

  /** The listing is complete up to this time (ms). */
  listedThrough(ms: number): void {
    this.through = Math.max(this.through, ms);
  }

  /** At-risk recordings not archived; undefined when not armed or the listing stopped before `cutoff`. */
  count(): number | undefined {
    if (this.cutoffMs === undefined || this.through < this.cutoffMs) return undefined;
    return this.atRisk - this.settled;
  }

  private inWindow(startTime: string): boolean {
    if (this.cutoffMs === undefined) return false;
    const ms = Date.parse(startTime);
    return ms >= this.startMs && ms < this.cutoffMs;
  }
}

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
  /** The listing reached the end of the range: `listed` is the total from now on. */
  listingComplete = false;
  /** What the listing asked for and found: its pages are the Heavy requests a real run needs besides the downloads. */
  readonly listing: ListingStats = { pages: 0, records: 0, recordings: 0 };
  /** Dry run: what a real run would still need (set once the listing is complete). */
  estimate: DownloadSummary["estimate"];
  /** Recordings retention deletes soon that this run listed and did not archive (see RetentionRisk). */
  readonly retentionRisk = new RetentionRisk();
  /** The profiles' learned Heavy budget together, in requests per second (the ETA's main input). */
  budgetPerSecond: () => number | undefined = () => undefined;
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

  /** Listed recordings this run has not finished with yet (a lower bound while the listing runs). */
  get remaining(): number {
    return this.listed - this.finished;
  }

  /** Recordings of the range not on disk: what the next run still has to fetch. */
  get notOnDisk(): number {
    return this.listed - this.downloaded - this.skipped;
  }

  /**
   * Time left: the recordings remaining at the learned Heavy budget, or their bytes at the bandwidth so far,
   * whichever is slower; unknown while the listing runs (see eta.ts).
   */
  eta(): Eta {
    return estimateEta({
      remaining: this.listingComplete ? this.remaining : undefined,
      budgetPerSecond: this.budgetPerSecond(),
      bytesPerSecond: this.rate(),
      averageBytes: this.downloaded > 0 ? this.savedBytes / this.downloaded : undefined,
    });
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
      complete: this.listingComplete && this.notOnDisk === 0,
      remaining: this.listingComplete ? this.notOnDisk : null,
      ...(this.estimate ? { estimate: this.estimate } : {}),
    };
  }
}
