import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import pLimit from "p-limit";
import { fileSize, writeFileAtomic } from "../fs-util.js";
import { acquireFolderLock } from "./folder-lock.js";
import { collisionKey, FolderNames } from "./folder-names.js";
import { listingClient } from "./listing-client.js";
import { Manifest, type ManifestEntry, STATE_DIR_NAME } from "./manifest.js";
import { FilePartialJournal, partPathOf } from "./partials.js";
import { endsTheRun, TransferFailedError, type TransferResult, transferRecording } from "./transfer.js";
import type {
  DownloaderDeps,
  DownloadOptions,
  DownloadOutcome,
  DownloadSummary,
  RecordingItem,
  RunEnd,
  TimeRange,
} from "./types.js";

/** The platform keeps recordings for 90 days; asking for more is allowed but finds nothing older. */
export const RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/**
 * list → (rate limiter inside the ApiClient) → transfer → manifest. The listing is consumed lazily and at most
 * `2 × concurrency` recordings wait in the queue, so the first download starts after the first page and a
 * 100 000-record listing never sits in memory. Rejects only when the run cannot start (folder busy, state
 * unreadable); once it has started, an error that ends it is reported in `end`, beside what was done.
 */
export async function runDownload(options: DownloadOptions, deps: DownloaderDeps): Promise<DownloadOutcome> {
  const started = Date.now();
  // A dry run writes nothing, so it neither takes the lock nor creates the state folder.
  const lock = options.dryRun ? undefined : await acquireFolderLock(join(options.dir, STATE_DIR_NAME));
  try {
    const manifest = await Manifest.open(options.dir, { writable: !options.dryRun });
    try {
      return await new Run(options, deps, manifest, started).execute();
    } finally {
      await manifest.close();
    }
  } finally {
    await lock?.release();
  }
}

/** The holder of a name that a file not written by this run already has. */
const TAKEN_ON_DISK = Symbol("taken on disk");

class Run {
  private readonly summary: DownloadSummary = {
    listed: 0,
    downloaded: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    durationMs: 0,
    failures: [],
  };
  private readonly planned: string[] = [];
  /**
   * Names this run handed out (collision keys of relative paths), each with the recording it went to, so two
   * recordings never pick the same free name and a recording that asks again (its transfer restarted) gets its
   * own name back.
   */
  private readonly claims = new Map<string, string | typeof TAKEN_ON_DISK>();
  /** What was on disk before this run; anything the run writes is in `claims`. */
  private readonly onDisk = new FolderNames();
  /** Start time of the oldest recording that failed but may succeed later: the next run must list it again. */
  private oldestRetryable: number | undefined;
  /** An error that ends the whole run (e.g. the login is gone); set by the first task that meets one. */
  private fatal: { error: unknown } | undefined;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  private readonly journal: FilePartialJournal;

  constructor(
    private readonly options: DownloadOptions,
    private readonly deps: DownloaderDeps,
    private readonly manifest: Manifest,
    private readonly started: number,
  ) {
    this.signal = AbortSignal.any([deps.signal, this.stop.signal]);
    this.journal = new FilePartialJournal(manifest.stateDir);
  }

  async execute(): Promise<DownloadOutcome> {
    const { options, deps } = this;
    const from = options.from ?? (await this.manifest.incrementalFrom(options.to));
    const range = { from, to: options.to };
    const now = (deps.now?.() ?? new Date()).getTime();
    if (from.getTime() < now - RETENTION_MS) {
      deps.log.warn(
        `${from.toISOString()} is more than 90 days ago; the platform keeps recordings for 90 days`,
      );
    }
    deps.progress.started(range);
    // A crash between the manifest line and dropping the partial record leaves the record behind; the recording
    // is skipped from now on, so nothing else would drop it.
    if (!options.dryRun) await this.journal.dropFinished((id) => this.manifest.isSaved(id));

    const listingComplete = await this.pump(range);
    const end = this.endOf(listingComplete);
    if (end.kind === "completed" && !options.dryRun) {
      await this.manifest.recordRun({ ...range, oldestRetryable: this.oldestRetryable });
    }

    this.summary.durationMs = Date.now() - this.started;
    if (options.dryRun && !deps.onPlanned) this.summary.planned = this.planned;
    return { summary: this.summary, end };
  }

  private endOf(listingComplete: boolean): RunEnd {
    if (this.fatal) return { kind: "failed", error: this.fatal.error };
    if (this.deps.signal.aborted || !listingComplete) return { kind: "interrupted" };
    return { kind: "completed" };
  }

  /** Feed the listing into the bounded queue; true when the listing reached its end. */
  private async pump(range: TimeRange): Promise<boolean> {
    const limit = pLimit(this.options.concurrency);
    const queued = new Set<Promise<void>>();
    const maxQueued = this.options.concurrency * 2;
    let complete = false;
    try {
      const client = listingClient(this.deps.api, {
        signal: this.signal,
        log: this.deps.log,
        ...(this.deps.retry ? { retry: this.deps.retry } : {}),
      });
      const listing = this.deps.list(range, client);
      for await (const item of untilAborted(listing, this.signal)) {
        this.summary.listed += 1;
        this.deps.progress.listed(this.summary.listed);
        if (await this.manifest.isSaved(item.recordingId)) {
          await this.skip(item);
          continue;
        }
        if (this.options.dryRun) {
          await this.plan(item);
          continue;
        }
        const task: Promise<void> = limit(() => this.fetch(item)).finally(() => queued.delete(task));
        queued.add(task);
        while (queued.size >= maxQueued) await Promise.race(queued);
      }
      complete = !this.signal.aborted;
    } catch (error) {
      // The listing failed (or the login is gone): let the transfers already started finish, then report.
      // A listing request cut short by Ctrl-C is no failure: the run is simply interrupted.
      if (!this.deps.signal.aborted) this.fatal ??= { error };
    } finally {
      // Queued tasks that have not started return at once once the signal is aborted (see fetch).
      await Promise.allSettled(queued);
    }
    return complete;
  }

  private async plan(item: RecordingItem): Promise<void> {
    let path: string;
    try {
      path = await this.claim(item, undefined);
    } catch (error) {
      this.onTaskError(item, error);
      return;
    }
    this.deps.progress.planned();
    if (this.deps.onPlanned) this.deps.onPlanned(path);
    else this.planned.push(path);
  }

  private async skip(item: RecordingItem): Promise<void> {
    this.summary.skipped += 1;
    this.deps.progress.skipped();
    // A rerun with --metadata adds the sidecars that an earlier run without it did not write.
    const entry = this.manifest.entryOf(item.recordingId);
    if (this.options.metadata && entry && !this.options.dryRun) {
      const path = this.manifest.absolute(entry.path);
      if ((await fileSize(sidecarOf(path))) === undefined) await writeSidecar(path, item);
    }
  }

  private async fetch(item: RecordingItem): Promise<void> {
    if (this.signal.aborted) return; // queued, never started: the next run picks it up
    try {
      const result = await transferRecording(
        {
          recordingId: item.recordingId,
          contentUri: item.contentUri,
          choosePath: async (contentType) => {
            const path = this.manifest.absolute(await this.claim(item, contentType));
            await mkdir(dirname(path), { recursive: true });
            return path;
          },
          commit: (result) =>
            this.manifest.append(entryOf(item, result, this.manifest.relativePath(result.path))),
        },
        {
          api: this.deps.api,
          journal: this.journal,
          signal: this.signal,
          log: this.deps.log,
          onBytes: (count) => this.deps.progress.bytes(count),
          ...(this.deps.retry ? { retry: this.deps.retry } : {}),
        },
      );
      if (this.options.metadata) await writeSidecar(result.path, item);
      this.summary.downloaded += 1;
      this.summary.bytes += result.bytes;
      this.deps.progress.saved(this.manifest.relativePath(result.path), result.bytes);
    } catch (error) {
      this.onTaskError(item, error);
    }
  }

  private onTaskError(item: RecordingItem, error: unknown): void {
    if (this.deps.signal.aborted) return; // interrupted: the partial stays for the next run
    if (endsTheRun(error)) {
      // No login left: every other transfer would fail the same way.
      this.fatal ??= { error };
      this.stop.abort(error);
      return;
    }
    const reason = error instanceof TransferFailedError ? error.reason : describe(error);
    if (!(error instanceof TransferFailedError && error.permanent)) {
      const start = Date.parse(item.record.startTime);
      if (Number.isFinite(start)) this.oldestRetryable = Math.min(this.oldestRetryable ?? start, start);
    }
    this.summary.failed += 1;
    this.summary.failures.push({ recordingId: item.recordingId, error: reason });
    this.deps.progress.failed(item.recordingId, reason);
  }

  /**
   * A free DIR-relative path for this recording: its own earlier path (saved, or claimed earlier in this run)
   * is reused; another recording's file, a stranger's file, or a name claimed by another recording gets a
   * suffix.
   */
  private async claim(item: RecordingItem, contentType: string | undefined): Promise<string> {
    const base = this.deps.pathFor(item, contentType);
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : this.deps.withSuffix(base, n);
      // Guards against a template that escapes DIR even if naming let it through (OutsideDirError).
      const absolute = this.manifest.absolute(candidate);
      const key = collisionKey(candidate);
      const holder = this.claims.get(key);
      if (holder === item.recordingId) return candidate;
      if (holder !== undefined) continue;
      const owner = this.manifest.ownerOf(candidate);
      if (owner !== undefined && owner !== item.recordingId) continue;
      // Claimed before the disk check awaits, so a concurrent claim cannot pick the same name.
      this.claims.set(key, item.recordingId);
      if (owner === undefined && (await this.occupied(absolute))) {
        this.claims.set(key, TAKEN_ON_DISK);
        continue;
      }
      return candidate;
    }
  }

  private async occupied(absolute: string): Promise<boolean> {
    // A `.part` from an earlier run counts only while it is still there: a transfer that starts over discards
    // its own `.part` before it asks for a name, possibly after the folder was read.
    return (await this.onDisk.has(absolute)) || (await this.onDisk.stillHas(partPathOf(absolute)));
  }
}

function entryOf(item: RecordingItem, result: TransferResult, path: string): ManifestEntry {
  return {
    recordingId: item.recordingId,
    callId: item.record.id,
    path,
    bytes: result.bytes,
    sha256: result.sha256,
    contentType: result.contentType,
    startTime: item.record.startTime,
  };
}

function sidecarOf(path: string): string {
  return `${path}.json`;
}

/** `<file>.json` beside the recording: the call-log record as the platform sent it. */
async function writeSidecar(recordingPath: string, item: RecordingItem): Promise<void> {
  await writeFileAtomic(sidecarOf(recordingPath), `${JSON.stringify(item.record, null, 2)}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Iterate until the signal aborts, without waiting for a pending page: a listing request may sit in the rate
 * limiter for a minute, and Ctrl-C must not.
 */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextOrAbort(iterator, signal);
      if (next === "aborted" || next.done) return;
      yield next.value;
    }
  } finally {
    // Do not await: a generator busy with a request finishes it first; its result is simply dropped.
    void iterator.return?.()?.catch(() => undefined);
  }
}

/**
 * One `next()`, or "aborted" as soon as the signal fires. The abort listener lives for this call only: racing
 * every `next()` against one long-lived promise would keep every item of the listing reachable.
 */
function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T> | "aborted"> {
  if (signal.aborted) return Promise.resolve("aborted");
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
