import { setMaxListeners } from "node:events";
import { runClient } from "../api/run-client.js";
import type { ApiClient } from "../api/types.js";
import { hasArchiveIndex, INDEX_FILE_NAME, writeArchiveIndex } from "../archive/archive-index.js";
import { callFacts } from "../archive/call-facts.js";
import { Manifest, type ManifestEntry, type RepairRecord } from "../archive/manifest.js";
import { IncrementalMark } from "../archive/mark.js";
import { NameClaims } from "../archive/name-claims.js";
import { ensureSidecar, writeSidecar } from "../archive/sidecars.js";
import type { DestinationLock } from "../destination/types.js";
import { OperationError } from "../errors.js";
import type { RecordingSource, SourcePass } from "../listing/source.js";
import type { FetchAgain, RecordingItem, TimeRange } from "../listing/types.js";
import { BUDGETS } from "../retry.js";
import { transferRecording } from "../transfer/attempt.js";
import { TransferFailedError, type TransferResult } from "../transfer/types.js";
import { untilAborted } from "../until-aborted.js";
import { heavyDurationMs } from "./eta.js";
import { BoundedQueue } from "./queue.js";
import { type OpenSlice, SliceLedger } from "./slice-ledger.js";
import { RunStats } from "./stats.js";
import { describe, fullAtStart, Triage } from "./triage.js";
import type { DownloaderDeps, DownloadOptions, DownloadOutcome } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Abort listeners one transfer may hold on the run's signals at once (with room to spare; see Sweep). */
const LISTENERS_PER_TRANSFER = 4;
/** Arrival rates are compared with the pool's capacity only over at least this much call time. */
const ARRIVAL_SAMPLE_MS = 6 * 60 * 60 * 1000;

/**
 * source (oldest first, slice by slice) → (rate limiter inside the ApiClient) → transfer → manifest. Each slice
 * of the source's span is listed, then its recordings go oldest first through a bounded queue, so a 100 000-record
 * listing never sits in memory and whatever retention deletes next is saved first. The incremental mark advances
 * as slices complete; `options.deadline` time-boxes the run. Rejects only when the run cannot start (destination
 * busy, state unreadable, bad input); once it has started, an error that ends it is reported in `end`, beside
 * what was done.
 */
export async function runDownload(
  options: DownloadOptions,
  deps: DownloaderDeps,
  source: RecordingSource,
): Promise<DownloadOutcome> {
  const run = await openRun(options, deps);
  let outcome: DownloadOutcome;
  try {
    outcome = await run.sweep(source);
  } finally {
    await run.close();
  }
  // After the close: a signed checkpoint, when there is one, is the chain's last record.
  return { ...outcome, summary: { ...outcome.summary, chainHead: run.chainHead ?? null } };
}

/**
 * A run opened on its destination: preflighted, locked (unless a dry run), its manifest read. `download` sweeps it
 * once; a long-running command may sweep it again and again (each sweep one pass of its source), then closes it.
 */
export interface OpenRun {
  /**
   * One pass of `source` through the run; `stats` (default: the run's) are what the summary reports. After a
   * sweep that saved something `index.csv` is rebuilt.
   */
  sweep(source: RecordingSource, stats?: RunStats): Promise<DownloadOutcome>;
  /** Close the manifest (signing a checkpoint of its chain with `options.signer`) and release the lock. */
  close(): Promise<void>;
  /** The hash of the manifest's last record (see archive/chain.ts); undefined while it has no chain. */
  readonly chainHead: string | undefined;
}

export async function openRun(options: DownloadOptions, deps: DownloaderDeps): Promise<OpenRun> {
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
      signer: options.dryRun ? undefined : options.signer,
    }).catch(fullAtStart);
    const run = new Run(options, deps, { manifest, lock, stats });
    // A dry run takes no lock, and so does no locked work.
    if (lock && deps.locked) {
      await deps.locked.start().catch(async (error: unknown) => {
        await manifest.close();
        throw error;
      });
    }
    return run;
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/** What every sweep of one run shares: the destination's manifest, mark and name claims, under one lock. */
class Run implements OpenRun {
  readonly manifest: Manifest;
  readonly mark: IncrementalMark;
  readonly names: NameClaims;
  readonly stats: RunStats;
  private readonly lock: DestinationLock | undefined;
  /** How many of a stats object's failures are in the manifest as `unsaved` records already. */
  private readonly unsavedRecorded = new WeakMap<RunStats, number>();
  /** Manifest lines the index last reflected: a sweep that added none leaves `index.csv` alone. */
  private indexed = 0;

  constructor(
    readonly options: DownloadOptions,
    readonly deps: DownloaderDeps,
    opened: { manifest: Manifest; lock: DestinationLock | undefined; stats: RunStats },
  ) {
    this.manifest = opened.manifest;
    this.lock = opened.lock;
    this.stats = opened.stats;
    this.mark = new IncrementalMark(options.destination.state);
    this.names = new NameClaims(deps.template, this.manifest, options.destination);
  }

  async sweep(source: RecordingSource, stats = this.stats): Promise<DownloadOutcome> {
    const sweep = new Sweep(this, stats);
    const outcome = await sweep.execute(source);
    if (!this.options.dryRun) await this.recordUnsaved(stats);
    return this.withIndex(outcome, sweep.knownExtension);
  }

  /**
   * What the sweep listed but could not save is evidence too (a deleted recording): `report` reads it. Not being
   * able to record it fails nothing: the recordings themselves are what the run is for.
   */
  private async recordUnsaved(stats: RunStats): Promise<void> {
    // Stats kept across sweeps hold the earlier sweeps' failures too: each is recorded once.
    const done = this.unsavedRecorded.get(stats) ?? 0;
    this.unsavedRecorded.set(stats, stats.failures.length);
    await this.manifest.recordUnsaved(stats.failures.slice(done)).catch((error: unknown) => {
      this.deps.log.warn(`could not record the unsaved recordings in the manifest: ${describe(error)}`);
    });
  }

  get chainHead(): string | undefined {
    return this.manifest.chainHead;
  }

  async close(): Promise<void> {
    try {
      if (this.lock) await this.deps.locked?.finish();
    } finally {
      try {
        await this.manifest.close();
      } finally {
        await this.lock?.release();
      }
    }
  }

  /**
   * Rebuild `index.csv` after a sweep that added to the manifest (also an interrupted or failed one: what it
   * saved belongs in the index), or when it is missing, still under the lock; a dry run never writes it. A completed sweep whose index cannot be written fails with
   * that error; otherwise the sweep's own end stays and the index error is logged.
   */
  private async withIndex(
    outcome: DownloadOutcome,
    knownExtension: SourcePass["knownExtension"],
  ): Promise<DownloadOutcome> {
    if (this.options.dryRun) return outcome;
    try {
      const current = this.manifest.appended === this.indexed;
      if (current && (await hasArchiveIndex(this.options.destination))) return outcome;
      await writeArchiveIndex(this.options.destination, knownExtension, this.deps.template.zone);
      this.indexed = this.manifest.appended;
      return outcome;
    } catch (error) {
      const failure = new OperationError(`could not write ${INDEX_FILE_NAME}: ${describe(error)}`, {
        cause: error,
      });
      if (outcome.end.kind === "completed") return { ...outcome, end: { kind: "failed", error: failure } };
      this.deps.log.error(failure.message);
      return outcome;
    }
  }
}

/** One pass of a source through the run: feed the queue, sort what each recording ended in, move the mark. */
class Sweep {
  private readonly stop = new AbortController();
  /** Aborted by Ctrl-C, an error that ends the run, or (after its grace period) the deadline. */
  private readonly signal: AbortSignal;
  /** `signal`, or the deadline: no new page or transfer starts. */
  private readonly startSignal: AbortSignal;
  private readonly triage: Triage;
  /** The listing's client (retries transient failures) and the transfers' (their own retries). */
  private readonly listing: ApiClient;
  private readonly transfers: ApiClient;
  private warnedArrivals = false;

  constructor(
    private readonly run: Run,
    private readonly stats: RunStats,
  ) {
    const { deps, options } = run;
    const deadline = options.deadline;
    this.signal = AbortSignal.any(
      deadline ? [deps.signal, this.stop.signal, deadline.hardSignal] : [deps.signal, this.stop.signal],
    );
    this.startSignal = deadline ? AbortSignal.any([this.signal, deadline.signal]) : this.signal;
    // Every transfer under way listens to these (its watchdog, a backoff or rate-limit wait, its request) and
    // removes its listeners when it ends: the count follows --concurrency, and Node's leak warning at 10 would
    // be a false alarm (and a raw line on stderr) at --concurrency 10 and above.
    setMaxListeners(LISTENERS_PER_TRANSFER * options.concurrency + 10, this.signal, this.startSignal);
    // No login left: every other transfer would fail the same way.
    this.triage = new Triage(deps.signal, (error) => this.stop.abort(error));
    const bounds = { signal: this.signal, queueSignal: deadline?.signal };
    this.transfers = runClient(deps.api, bounds);
    this.listing = runClient(deps.listApi ?? deps.api, {
      ...bounds,
      retry: {
        budget: { ...BUDGETS.listing, ...deps.retry },
        onRetry: (error, delayMs) =>
          deps.log.debug(`call-log page: ${error.message}; retrying in ${delayMs} ms`),
      },
    });
  }

  /** The pass's knowledge of extensions, once it is open (see Run.withIndex). */
  knownExtension: SourcePass["knownExtension"];

  async execute(source: RecordingSource): Promise<DownloadOutcome> {
    const { options, deps, manifest, mark, names } = this.run;
    const { destination, dryRun } = options;
    const pass = await source.open({
      client: this.listing,
      mark,
      state: destination.state,
      writable: !dryRun,
      listingStats: this.stats.listing,
    });
    this.knownExtension = pass.knownExtension?.bind(pass);
    const { range } = pass;
    deps.progress.started(range);
    // A crash between the manifest line and dropping the partial record leaves the record behind; the recording
    // is skipped from now on, so nothing else would drop it.
    if (!dryRun) await destination.partials.dropFinished((id) => manifest.isSaved(id));
    // A first run leaves its start behind at once: killed before a slice closes, the next run still begins there.
    if (!dryRun) await mark.begin(range.from).catch(fullAtStart);
    // The completed oldest-first prefix: the mark advances slice by slice.
    const ledger = new SliceLedger(
      async (slice) => {
        // Names the slice claimed are in the manifest now (or free again): only open slices keep theirs.
        names.release(slice.claimed);
        if (!dryRun && !pass.keepsMark)
          await mark.record({ from: range.from, to: slice.to, oldestRetryable: this.holdsMark });
      },
      (error) => this.triage.runError(error),
    );
    const complete = await this.pump(pass, ledger);
    await ledger.idle();
    this.stats.listingComplete = complete;
    const end = this.triage.end({
      complete,
      notOnDisk: this.stats.notOnDisk,
      deadlineReached: options.deadline?.reached === true,
    });
    if (end.kind === "completed" && !dryRun && !pass.keepsMark) {
      await mark.record({ ...range, oldestRetryable: this.holdsMark });
    }
    if (dryRun && complete) this.estimate(pass.lookupsPerRecording ?? 0);
    this.stats.end();
    return { summary: this.stats.summary(), end };
  }

  private get holdsMark(): number | undefined {
    return this.triage.holdsMarkAt;
  }

  /** The core loop: each slice's recordings, oldest first, into the bounded queue. True when the pass reached its end. */
  private async pump(pass: SourcePass, ledger: SliceLedger): Promise<boolean> {
    const queue = new BoundedQueue(this.run.options.concurrency);
    let listedTo = pass.range.from.getTime();
    let complete = false;
    try {
      listing: for await (const { items, ...bounds } of untilAborted(pass.slices(), this.startSignal)) {
        const slice = ledger.start(bounds);
        for (const listed of items) {
          // The destination is full: the listing stops too; the mark stays, the next run lists all again.
          if (this.triage.stopsNewWork) break listing;
          this.stats.listed += 1;
          this.stats.retentionRisk.listed(listed.record.startTime);
          this.run.deps.progress.changed();
          ledger.add(slice);
          const settle = (finished: boolean) => ledger.settle(slice, finished);
          // Listed, but the time box is over: counted as remaining, and the slice stays open.
          if (this.startSignal.aborted) settle(false);
          else if (await this.handledHere(listed)) settle(true);
          else {
            const item = await this.prepare(pass, listed);
            if (typeof item === "boolean") settle(item);
            else if (this.run.options.dryRun) settle(await this.plan(item, slice));
            else await queue.add(async () => settle(await this.fetch(item, slice)));
          }
        }
        ledger.listed(slice);
        listedTo = bounds.to.getTime();
        this.stats.retentionRisk.listedThrough(listedTo);
        this.checkArrivals(pass.range, bounds.to);
      }
      // Every slice up to the end of the span was listed (whether or not all of it could be started).
      complete = !this.triage.stopsNewWork && listedTo >= pass.range.to.getTime();
      this.stats.listingComplete = complete;
    } catch (error) {
      this.triage.listing(error);
    } finally {
      // Queued tasks that have not started return at once once the signal is aborted (see fetch).
      await queue.drain();
    }
    return complete;
  }

  /**
   * The source's preparation of a recording to fetch or plan. When it fails, the recording fails (not the
   * listing): then whether it is settled, as `failed` says.
   */
  private async prepare(pass: SourcePass, item: RecordingItem): Promise<RecordingItem | boolean> {
    try {
      return await pass.prepare(item);
    } catch (error) {
      return this.failed(item, error);
    }
  }

  /**
   * Whether the recording needs nothing from this sweep: saved already (skipped), or its saved state could not
   * even be looked at (EACCES, EIO: that recording fails, not the run, and it is not fetched either).
   */
  private async handledHere(item: RecordingItem): Promise<boolean> {
    // Fetched again on purpose (a repair): the manifest's word that it is saved is what is in doubt.
    if (item.again) return false;
    let saved: boolean;
    try {
      saved = await this.run.manifest.isSaved(item.recordingId);
    } catch (error) {
      this.failed(item, error);
      return true;
    }
    if (saved) await this.skip(item);
    return saved;
  }

  private async skip(item: RecordingItem): Promise<void> {
    const { options, manifest, deps } = this.run;
    const entry = manifest.entryOf(item.recordingId);
    if (options.metadata && entry && !options.dryRun) {
      // A sidecar that cannot be written fails this recording alone (it is saved; the next run adds the sidecar).
      try {
        await ensureSidecar(options.destination, entry.path, item);
      } catch (error) {
        this.failed(item, error);
        return;
      }
    }
    this.stats.skipped += 1;
    this.stats.retentionRisk.archived(item.record.startTime);
    deps.progress.skipped(item.recordingId, entry?.path);
  }

  /** Dry run: the name a real run would give it. True when settled (planned, or failed for good). */
  private async plan(item: RecordingItem, slice: OpenSlice): Promise<boolean> {
    let key: string;
    try {
      key = await this.run.names.claim(item, undefined, slice.claimed);
    } catch (error) {
      return this.failed(item, error);
    }
    this.stats.planned += 1;
    this.run.deps.progress.changed();
    this.run.deps.onPlanned?.(key);
    return true;
  }

  /** Resolves true when the recording is settled (saved, or failed), false when it stopped unfinished. */
  private async fetch(item: RecordingItem, slice: OpenSlice): Promise<boolean> {
    const { options, deps, names, manifest } = this.run;
    if (this.startSignal.aborted) return false; // queued, never started: the next run picks it up
    if (this.triage.stopsNewWork) {
      // Queued before the destination filled up: it would only fail the same way.
      return this.failed(item, new OperationError("not started: the destination is full"));
    }
    try {
      const result = await transferRecording(
        {
          recordingId: item.recordingId,
          contentUri: item.contentUri,
          metadata: objectMetadata(item),
          mayBeEmpty: item.record.duration === 0,
          choosePath: (contentType) => names.claimForTransfer(item, contentType, slice.claimed),
          couldBeNamed: (key, contentType) => names.couldName(item, contentType, key),
          refuse: (key) => names.refuse(key),
          commit: async (result) => {
            await manifest.append(entryOf(item, result));
            if (item.again) await manifest.recordRepair(repairOf(item, item.again, result));
          },
        },
        {
          api: this.transfers,
          destination: options.destination,
          signal: this.signal,
          log: deps.log,
          // Counted only: the progress line redraws on its own clock, not per chunk.
          onBytes: (count) => {
            this.stats.receivedBytes += count;
          },
          ...(deps.retry ? { retry: deps.retry } : {}),
        },
      );
      if (options.metadata) await writeSidecar(options.destination, result.key, item);
      this.stats.downloaded += 1;
      this.stats.retentionRisk.archived(item.record.startTime);
      this.stats.savedBytes += result.bytes;
      deps.progress.saved({
        recordingId: item.recordingId,
        key: result.key,
        bytes: result.bytes,
        sha256: result.sha256,
        callId: item.record.id,
        startTime: item.record.startTime,
      });
      return true;
    } catch (error) {
      return this.failed(item, error);
    }
  }

  /** Whether the recording is settled: false when it stopped unfinished (it holds its slice open). */
  private failed(item: RecordingItem, error: unknown): boolean {
    const reason = this.triage.recording(item.record.startTime, error);
    if (reason === undefined) return false;
    const deleted = error instanceof TransferFailedError && error.notFound;
    // Gone already: nothing retention could still take from the archive.
    if (deleted) this.stats.retentionRisk.archived(item.record.startTime);
    this.stats.fail({
      recordingId: item.recordingId,
      startTime: item.record.startTime,
      reason: deleted ? "deleted" : "failed",
      error: reason,
    });
    this.run.deps.progress.failed(item.recordingId, reason);
    return true;
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
    this.run.deps.log.warn(
      `new recordings arrive at about ${Math.round(arriving)} a day, faster than the Heavy budget of these profiles can fetch them (about ${Math.round(capacity)} a day): add profiles (--profile) or ask RingCentral for a higher plan`,
    );
  }

  /** Dry run: the Heavy requests a real run still needs (pages + lookups + downloads) at the learned budget. */
  private estimate(lookupsPerRecording: number): void {
    const pages = this.stats.listing.pages;
    const lookups = lookupsPerRecording * this.stats.notOnDisk;
    const requests = pages + lookups + this.stats.notOnDisk;
    const durationMs = heavyDurationMs(requests, this.stats.budgetPerSecond());
    this.stats.estimate = { requests, pages, lookups, durationMs };
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

/** The evidence of a repair, chained after the recording's new line: what it was, what it is now. */
function repairOf(item: RecordingItem, again: FetchAgain, result: TransferResult): RepairRecord {
  return {
    recordingId: item.recordingId,
    path: result.key,
    found: again.found,
    previousSha256: again.sha256,
    previousBytes: again.bytes,
    ...(again.held && { foundBytes: again.held.bytes }),
    ...(again.held?.sha256 !== undefined && { foundSha256: again.held.sha256 }),
    sha256: result.sha256,
    bytes: result.bytes,
    ...(again.quarantine !== undefined && { quarantine: again.quarantine }),
  };
}

/** What an object in a bucket says about itself (x-amz-meta-*): enough to tell whose recording it is. */
function objectMetadata(item: RecordingItem): Record<string, string> {
  return { "recording-id": item.recordingId, "call-id": item.record.id, "start-time": item.record.startTime };
}
