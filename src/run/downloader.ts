import { setMaxListeners } from "node:events";
import type { ApiClient, ApiRequestInit } from "../api/types.js";
import { INDEX_FILE_NAME, writeArchiveIndex } from "../archive/archive-index.js";
import { callFacts } from "../archive/call-facts.js";
import { Manifest, type ManifestEntry } from "../archive/manifest.js";
import { NameClaims } from "../archive/name-claims.js";
import { ensureSidecar, writeSidecar } from "../archive/sidecars.js";
import type { RelPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import { endsRun, isPermanent, OperationError, PartialFailureError, stopsNewWork } from "../errors.js";
import { diskFullCode } from "../fs-util.js";
import type { ExtensionDirectory } from "../listing/extensions.js";
import { listingClient } from "../listing/listing-client.js";
import { oldestFirst } from "../listing/slices.js";
import type { RecordingItem, TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import { transferRecording } from "../transfer/attempt.js";
import { TransferFailedError, type TransferResult } from "../transfer/types.js";
import { untilAborted } from "../until-aborted.js";
import { StoppedAtDeadline } from "./deadline.js";
import { BoundedQueue } from "./queue.js";
import { type OpenSlice, SliceLedger } from "./slice-ledger.js";
import { RunStats } from "./stats.js";
import type { DownloaderDeps, DownloadOptions, DownloadOutcome, RunEnd } from "./types.js";

/** The platform keeps recordings for 90 days; asking for more is allowed but finds nothing older. */
const RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Abort listeners one transfer may hold on the run's signals at once (with room to spare; see the constructor). */
const LISTENERS_PER_TRANSFER = 4;
/** Arrival rates are compared with the pool's capacity only over at least this much call time. */
const ARRIVAL_SAMPLE_MS = 6 * 60 * 60 * 1000;

/**
 * list (oldest first, slice by slice) → (rate limiter inside the ApiClient) → transfer → manifest. Each slice of
 * the range is listed, then its recordings go oldest first through a bounded queue, so a 100 000-record listing
 * never sits in memory and whatever retention deletes next is saved first. The incremental mark advances as
 * slices complete; `options.deadline` time-boxes the run. Rejects only when the run cannot start (destination busy, state unreadable); once it has started, an
 * error that ends it is reported in `end`, beside what was done.
 */
export async function runDownload(options: DownloadOptions, deps: DownloaderDeps): Promise<DownloadOutcome> {
  const stats = deps.stats ?? new RunStats();
  stats.begin();
  const { destination } = options;
  await destination.preflight();
  // A dry run writes nothing, so it neither takes the lock nor creates the state store.
  const lock = options.dryRun ? undefined : await destination.lock().catch(fullAtStart);
  try {
    const manifest = await Manifest.open(destination, {
      writable: !options.dryRun,
      warn: (line) => deps.log.warn(line),
    }).catch(fullAtStart);
    let outcome: DownloadOutcome;
    try {
      outcome = await new Run(options, deps, { manifest, stats }).execute();
    } finally {
      await manifest.close();
    }
    // Still under the lock, so no other run appends to the manifest meanwhile.
    return options.dryRun ? outcome : await withIndex(outcome, destination, deps.log);
  } finally {
    await lock?.release();
  }
}

/**
 * Rebuild `index.csv` after every run that wrote (also an interrupted or failed one: what it saved belongs in
 * the index). A completed run whose index cannot be written fails with that error; otherwise the run's own end
 * stays and the index error is logged.
 */
async function withIndex(
  outcome: DownloadOutcome,
  destination: Destination,
  log: Logger,
): Promise<DownloadOutcome> {
  try {
    await writeArchiveIndex(destination);
    return outcome;
  } catch (error) {
    const failure = new OperationError(`could not write ${INDEX_FILE_NAME}: ${describe(error)}`, {
      cause: error,
    });
    if (outcome.end.kind === "completed") return { ...outcome, end: { kind: "failed", error: failure } };
    log.error(failure.message);
    return outcome;
  }
}

/** One run's lifecycle: start, feed the queue, sort what each recording ended in, move the mark, report. */
class Run {
  private readonly destination: Destination;
  private readonly manifest: Manifest;
  private readonly stats: RunStats;
  private readonly names: NameClaims;
  private readonly planned: string[] = [];
  /** Start time of the oldest recording that failed but may succeed later: the next run must list it again. */
  private oldestRetryable: number | undefined;
  /** An error that ends the whole run (e.g. the login is gone); set by the first task that meets one. */
  private fatal: { error: unknown } | undefined;
  /** The first error that says no new transfer can succeed (the disk is full): the run starts no more. */
  private stopped: { error: unknown } | undefined;
  private readonly stop = new AbortController();
  /** Aborted by Ctrl-C, a fatal error, or (after its grace period) the deadline: transfers stop as partials. */
  private readonly signal: AbortSignal;
  /** `signal`, or the deadline: no new page or transfer starts. */
  private readonly startSignal: AbortSignal;
  private warnedArrivals = false;
  /** The listing's client: the run's signal, transient failures retried. Shared by the directory. */
  private readonly client: ApiClient;
  private readonly extensions: ExtensionDirectory;

  constructor(
    private readonly options: DownloadOptions,
    private readonly deps: DownloaderDeps,
    opened: { manifest: Manifest; stats: RunStats },
  ) {
    this.destination = options.destination;
    this.manifest = opened.manifest;
    this.stats = opened.stats;
    this.names = new NameClaims(deps.template, this.manifest, this.destination);
    const deadline = options.deadline;
    this.signal = AbortSignal.any(
      deadline ? [deps.signal, this.stop.signal, deadline.hardSignal] : [deps.signal, this.stop.signal],
    );
    this.startSignal = deadline ? AbortSignal.any([this.signal, deadline.signal]) : this.signal;
    // Every transfer under way listens to these (its watchdog, a backoff or rate-limit wait, its request) and
    // removes its listeners when it ends: the count follows --concurrency, and Node's leak warning at 10 would
    // be a false alarm (and a raw line on stderr) at --concurrency 10 and above.
    setMaxListeners(LISTENERS_PER_TRANSFER * options.concurrency + 10, this.signal, this.startSignal);
    this.client = listingClient(this.countingPages(deps.listApi ?? deps.api), {
      signal: this.signal,
      ...(deadline ? { queueSignal: deadline.signal } : {}),
      log: deps.log,
      ...(deps.retry ? { retry: deps.retry } : {}),
    });
    this.extensions = deps.extensions(this.client, {
      state: this.destination.state,
      writable: !options.dryRun,
    });
  }

  async execute(): Promise<DownloadOutcome> {
    const { options, deps } = this;
    // An unknown `--extension` is bad input: the run does not start (exit 2).
    if (options.extensionNumbers?.length) await this.extensions.requireNumbers(options.extensionNumbers);
    const from = await this.startOf(options);
    const range = { from, to: options.to };
    // The completed oldest-first prefix: the mark advances slice by slice.
    const ledger = new SliceLedger(
      async (slice) => {
        // Names the slice claimed are in the manifest now (or free again): only open slices keep theirs.
        this.names.release(slice.claimed);
        if (!options.dryRun) {
          await this.manifest.recordRun({ from, to: slice.to, oldestRetryable: this.oldestRetryable });
        }
      },
      (error) => {
        // The mark could not be written: a full disk is the disk-full verdict (no new work), else the run fails.
        if (diskFullCode(error)) this.stopped ??= { error };
        else this.fatal ??= { error };
      },
    );
    const now = (deps.now?.() ?? new Date()).getTime();
    if (from.getTime() < now - RETENTION_MS) {
      deps.log.warn(
        `${from.toISOString()} is more than 90 days ago; the platform keeps recordings for 90 days`,
      );
    }
    deps.progress.started(range);
    // A crash between the manifest line and dropping the partial record leaves the record behind; the recording
    // is skipped from now on, so nothing else would drop it.
    if (!options.dryRun) await this.destination.partials.dropFinished((id) => this.manifest.isSaved(id));

    const listingComplete = await this.pump(range, ledger);
    await ledger.idle();
    this.stats.listingComplete = listingComplete;
    const end = this.endOf(listingComplete);
    if (end.kind === "completed" && !options.dryRun) {
      await this.manifest.recordRun({ ...range, oldestRetryable: this.oldestRetryable });
    }
    if (options.dryRun && listingComplete) {
      const requests = this.stats.pages + this.stats.notOnDisk;
      const perSecond = this.stats.budgetPerSecond();
      this.stats.estimate = {
        requests,
        durationMs: perSecond ? Math.round((requests / perSecond) * 1000) : null,
      };
    }

    this.stats.end();
    const summary = this.stats.summary();
    if (options.dryRun && !deps.onPlanned) summary.planned = this.planned;
    return { summary, end };
  }

  /**
   * `--from`, else the incremental start. A time-boxed run whose `--from` lies in the span earlier runs listed
   * completely continues at their mark: the hourly cron line does the backfill one stretch after another.
   */
  private async startOf(options: DownloadOptions): Promise<Date> {
    if (options.from === undefined) return this.manifest.incrementalFrom(options.to);
    if (!options.deadline) return options.from;
    const continued = await this.manifest.continuationOf(options.from);
    if (!continued || continued.getTime() <= options.from.getTime()) return options.from;
    this.deps.log.info(
      `continuing at ${continued.toISOString()}: earlier runs listed everything from ${options.from.toISOString()} up to there`,
    );
    return continued;
  }

  private endOf(listingComplete: boolean): RunEnd {
    if (this.fatal) return { kind: "failed", error: this.fatal.error };
    if (this.stopped) return { kind: "failed", error: new StoppedEarlyError(this.stopped.error) };
    if (this.deps.signal.aborted) return { kind: "interrupted" };
    const complete = listingComplete && this.stats.notOnDisk === 0;
    if (this.options.deadline?.reached && !complete) {
      return { kind: "stopped", remaining: listingComplete ? this.stats.notOnDisk : undefined };
    }
    if (!listingComplete) return { kind: "interrupted" };
    return { kind: "completed" };
  }

  /**
   * When the listing shows recordings arriving faster than the profiles' Heavy budget can fetch them, say so
   * once: no run length catches up with that.
   */
  private checkArrivals(range: TimeRange, listedTo: Date): void {
    const perSecond = this.stats.budgetPerSecond();
    const spanMs = listedTo.getTime() - range.from.getTime();
    if (this.warnedArrivals || perSecond === undefined || spanMs < ARRIVAL_SAMPLE_MS) return;
    const arriving = (this.stats.listed / spanMs) * DAY_MS;
    const capacity = perSecond * (DAY_MS / 1000);
    if (arriving <= capacity) return;
    this.warnedArrivals = true;
    this.deps.log.warn(
      `new recordings arrive at about ${Math.round(arriving)} a day, faster than the Heavy budget of these profiles can fetch them (about ${Math.round(capacity)} a day): add profiles (--profile) or ask RingCentral for a higher plan`,
    );
  }

  /** Feed the listing, slice by slice, into the bounded queue; true when the listing reached its end. */
  private async pump(range: TimeRange, ledger: SliceLedger): Promise<boolean> {
    const queue = new BoundedQueue(this.options.concurrency);
    let complete = false;
    try {
      const slices = oldestFirst(range, (slice) => this.deps.list(slice, this.client), this.deps.slicing);
      let listedTo = range.from.getTime();
      listing: for await (const { items, ...bounds } of untilAborted(slices, this.startSignal)) {
        const slice = ledger.start(bounds);
        for (const listed of items) {
          // The disk is full: the listing stops too; the mark stays, the next run lists all again.
          if (this.stopped) break listing;
          this.stats.listed += 1;
          this.deps.progress.changed();
          ledger.add(slice);
          // Listed, but the time box is over: counted as remaining, and the slice stays open.
          if (this.startSignal.aborted) {
            ledger.settle(slice, false);
            continue;
          }
          const saved = await this.savedOrFailed(listed);
          if (saved === "failed" || saved) {
            if (saved === true) await this.skip(listed); // "failed" was counted as failed already
            ledger.settle(slice, true);
            continue;
          }
          const item = await this.withExtension(listed);
          if (this.options.dryRun) ledger.settle(slice, await this.plan(item, slice));
          else await queue.add(async () => ledger.settle(slice, await this.fetch(item, slice)));
        }
        ledger.listed(slice);
        listedTo = bounds.to.getTime();
        this.checkArrivals(range, bounds.to);
      }
      // Every slice up to the end of the range was listed (whether or not all of it could be started).
      complete = !this.stopped && listedTo >= range.to.getTime();
      this.stats.listingComplete = complete;
    } catch (error) {
      // The listing failed (or the login is gone): let the transfers already started finish, then report.
      // A listing request cut short by Ctrl-C is no failure: the run is simply interrupted; neither is a page
      // that the deadline withdrew from the rate limiter's queue. A full disk met on the way (the extension
      // cache) is the disk-full verdict, not an unexplained error.
      if (!this.deps.signal.aborted && !(error instanceof StoppedAtDeadline)) {
        if (diskFullCode(error)) this.stopped ??= { error };
        else this.fatal ??= { error };
      }
    } finally {
      // Queued tasks that have not started return at once once the signal is aborted (see fetch).
      await queue.drain();
    }
    return complete;
  }

  /**
   * The item with its extension as the directory names it (for the placeholders and the manifest). Set on the
   * item itself: a copy per recording measurably raised the peak memory of a 100 000-record dry run.
   */
  private async withExtension(item: RecordingItem): Promise<RecordingItem> {
    const extension = await this.extensions.byId(item.record.extension?.id);
    if (extension) item.extension = extension;
    return item;
  }

  /** An ApiClient that counts the call-log pages it is asked for (for the dry run's estimate). */
  private countingPages(api: ApiClient): ApiClient {
    return {
      get: (url, init) => api.get(url, init),
      getJson: (url, init) => api.getJson(url, init),
      getJsonWith: (url, init, read) => {
        // Call-log pages only: the extension directory (Medium) is no Heavy request a real run repeats.
        if (url.includes("/call-log")) this.stats.pages++;
        return api.getJsonWith(url, init, read);
      },
    };
  }

  /** Every request of a transfer that still waits for the rate limiter at the deadline is withdrawn. */
  private startingBeforeDeadline(api: ApiClient): ApiClient {
    const queueSignal = this.options.deadline?.signal;
    if (!queueSignal) return api;
    const init = (given: ApiRequestInit | undefined): ApiRequestInit => ({ queueSignal, ...given });
    return {
      get: (url, given) => api.get(url, init(given)),
      getJson: (url, given) => api.getJson(url, init(given)),
      getJsonWith: (url, given, read) => api.getJsonWith(url, init(given), read),
    };
  }

  /** Resolves true when the recording is settled (planned, or failed for good), false when it stopped. */
  private async plan(item: RecordingItem, slice: OpenSlice): Promise<boolean> {
    let key: RelPath;
    try {
      key = await this.names.claim(item, undefined, slice.claimed);
    } catch (error) {
      return this.onTaskError(item, error);
    }
    this.stats.planned += 1;
    this.deps.progress.changed();
    if (this.deps.onPlanned) this.deps.onPlanned(key);
    else this.planned.push(key);
    return true;
  }

  /**
   * Whether the manifest has the recording and its file is there; a file that cannot even be looked at (EACCES,
   * EIO) fails that recording, not the run — and counts as handled, so it is not fetched either.
   */
  private async savedOrFailed(item: RecordingItem): Promise<boolean | "failed"> {
    try {
      return await this.manifest.isSaved(item.recordingId);
    } catch (error) {
      this.onTaskError(item, error);
      return "failed";
    }
  }

  private async skip(item: RecordingItem): Promise<void> {
    const entry = this.manifest.entryOf(item.recordingId);
    if (this.options.metadata && entry && !this.options.dryRun) {
      // A sidecar that cannot be written fails this recording alone (it is saved; the next run adds the sidecar).
      try {
        await ensureSidecar(this.destination, entry.path, item);
      } catch (error) {
        this.onTaskError(item, error);
        return;
      }
    }
    this.stats.skipped += 1;
    this.deps.progress.skipped(item.recordingId, entry?.path);
  }

  /** Resolves true when the recording is settled (saved, or failed), false when it stopped unfinished. */
  private async fetch(item: RecordingItem, slice: OpenSlice): Promise<boolean> {
    if (this.startSignal.aborted) return false; // queued, never started: the next run picks it up
    if (this.stopped) {
      // Queued before the disk filled up: it would only fail the same way.
      return this.onTaskError(item, new OperationError("not started: the disk is full"));
    }
    try {
      const result = await transferRecording(
        {
          recordingId: item.recordingId,
          contentUri: item.contentUri,
          metadata: objectMetadata(item),
          mayBeEmpty: item.record.duration === 0,
          choosePath: (contentType) => this.names.claimForTransfer(item, contentType, slice.claimed),
          refuse: (key) => this.names.refuse(key),
          commit: (result) => this.manifest.append(entryOf(item, result)),
        },
        {
          api: this.startingBeforeDeadline(this.deps.api),
          destination: this.destination,
          signal: this.signal,
          log: this.deps.log,
          // Counted only: the progress line redraws on its own clock, not per chunk.
          onBytes: (count) => {
            this.stats.receivedBytes += count;
          },
          ...(this.deps.retry ? { retry: this.deps.retry } : {}),
        },
      );
      if (this.options.metadata) await writeSidecar(this.destination, result.key, item);
      this.stats.downloaded += 1;
      this.stats.savedBytes += result.bytes;
      this.deps.progress.saved({
        recordingId: item.recordingId,
        key: result.key,
        bytes: result.bytes,
        sha256: result.sha256,
      });
      return true;
    } catch (error) {
      return this.onTaskError(item, error);
    }
  }

  /** Whether the recording is settled: false when it stopped unfinished (it holds its slice open). */
  private onTaskError(item: RecordingItem, error: unknown): boolean {
    // Interrupted or time-boxed: the partial stays for the next run.
    if (this.deps.signal.aborted || error instanceof StoppedAtDeadline) return false;
    if (endsRun(error)) {
      // No login left: every other transfer would fail the same way.
      this.fatal ??= { error };
      this.stop.abort(error);
      return false;
    }
    // A transfer says so; a sidecar or stat that met a full disk says it with its errno.
    if (stopsNewWork(error) || diskFullCode(error)) this.stopped ??= { error };
    const reason = error instanceof TransferFailedError ? error.reason : describe(error);
    if (!isPermanent(error)) {
      const start = Date.parse(item.record.startTime);
      if (Number.isFinite(start)) this.oldestRetryable = Math.min(this.oldestRetryable ?? start, start);
    }
    this.stats.fail({ recordingId: item.recordingId, error: reason });
    this.deps.progress.failed(item.recordingId, reason);
    return true;
  }
}

function entryOf(item: RecordingItem, result: TransferResult): ManifestEntry {
  return {
    recordingId: item.recordingId,
    callId: item.record.id,
    path: result.key,
    bytes: result.bytes,
    sha256: result.sha256,
    contentType: result.contentType,
    startTime: item.record.startTime,
    ...callFacts(item),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What an object in a bucket says about itself (x-amz-meta-*): enough to tell whose recording it is. */
function objectMetadata(item: RecordingItem): Record<string, string> {
  return { "recording-id": item.recordingId, "call-id": item.record.id, "start-time": item.record.startTime };
}

/**
 * The run stopped starting transfers (the disk is full): exit 3, naming the cause. What was saved is complete and
 * recorded; unfinished recordings keep their partials, and the mark did not move, so the next run (after space
 * is freed) resumes them and lists the whole range again.
 */
class StoppedEarlyError extends PartialFailureError {
  constructor(cause: unknown, what = "stopped starting new transfers") {
    super(
      `the disk is full (${diskFullCode(cause) ?? describe(cause)}): ${what}; free some space and run again (partial downloads are kept)`,
      { cause },
    );
  }
}

/** A disk too full to even take the run's lock or open its manifest is the same verdict: exit 3, named. */
function fullAtStart(error: unknown): never {
  if (diskFullCode(error)) throw new StoppedEarlyError(error, "nothing was started");
  throw error;
}
