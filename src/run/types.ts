import type { ApiClient } from "../api/types.js";
import type { NameTemplate } from "../archive/naming.js";
import type { Destination, StateStore } from "../destination/types.js";
import type { ExtensionDirectory } from "../listing/extensions.js";
import type { SliceOptions } from "../listing/slices.js";
import type { RecordingItem, TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import type { TransferBudget } from "../retry.js";
import type { Deadline } from "./deadline.js";
import type { DownloadSummary, RunStats } from "./stats.js";

// The downloader's public types: what a run takes, what it reports while it works, and how it ended.

export interface DownloadOptions {
  /** Where the recordings go (`--out`). */
  destination: Destination;
  /** Explicit start; undefined: continue from the last completed run into `dir` (or the last 24 h). */
  from: Date | undefined;
  to: Date;
  concurrency: number;
  metadata: boolean;
  dryRun: boolean;
  /** `--extension`: checked against the account's directory before anything is listed (unknown → exit 2). */
  extensionNumbers?: readonly string[];
  /** `--max-duration`: after it no new page or transfer starts (see deadline.ts). */
  deadline?: Deadline;
}

/** A recording this run saved (and verified): what the log's `saved` event reports. */
export interface SavedRecording {
  recordingId: string;
  /** Where, relative to the destination ("/"-separated). */
  key: string;
  bytes: number;
  sha256: string;
}

/**
 * What the run shows while it works. Counts are in the run's RunStats (stats.ts), which the sink reads; these
 * calls only say when something happened. Every method is cheap and synchronous; the reporter throttles output.
 */
export interface ProgressSink {
  started(range: TimeRange): void;
  /** The counts moved (listed, skipped, planned): a chance to redraw. Bytes received are only counted. */
  changed(): void;
  /** Already in the archive (`key`: where, when the manifest knows it); the counts moved too. */
  skipped(recordingId: string, key: string | undefined): void;
  saved(saved: SavedRecording): void;
  failed(recordingId: string, reason: string): void;
}

export interface DownloaderDeps {
  /** Transfers go through this client (with a pool: whichever profile has budget free first). */
  api: ApiClient;
  /** The listing's client (with a pool: the first profile still alive); default `api`. */
  listApi?: ApiClient;
  /** How the range is cut into oldest-first slices (tests; see slices.ts for the defaults). */
  slicing?: SliceOptions;
  /**
   * The call-log listing for a range: streamed page by page, deduplicated across legs. It must use `api`, which
   * carries the run's signal and retries transient page failures (see listing-client.ts).
   */
  list(range: TimeRange, api: ApiClient): AsyncIterable<RecordingItem>;
  /** The names recordings are saved under (template rendered and sanitised; collisions are the claimer's). */
  template: NameTemplate;
  /**
   * The directory that names each recording's extension, over the run's client. Its cache is a record in the
   * destination's state, written only when `writable` (not by a dry run).
   */
  extensions(api: ApiClient, cache: { state: StateStore; writable: boolean }): ExtensionDirectory;
  progress: ProgressSink;
  /** The run's counts; the progress sink reads the same object. Default: a fresh one. */
  stats?: RunStats;
  /**
   * Dry run: each planned path as soon as it is known (printing them while listing keeps a 100 000-record
   * dry run small). Without it the paths are collected into `summary.planned`.
   */
  onPlanned?: (path: string) => void;
  log: Logger;
  signal: AbortSignal;
  retry?: Partial<TransferBudget>;
  now?: () => Date;
}

/** How a run that started ended. */
export type RunEnd =
  /** The listing reached its end (some recordings may have failed: see the summary). */
  | { kind: "completed" }
  /** Stopped by SIGINT/SIGTERM: in-flight partials are kept, the manifest is consistent. */
  | { kind: "interrupted" }
  /** `--max-duration` ran out with recordings left (undefined: the listing had not reached the end). */
  | { kind: "stopped"; remaining: number | undefined }
  /** An error ended the whole run (the listing failed for good, the login is gone). */
  | { kind: "failed"; error: unknown };

export interface DownloadOutcome {
  /** What was done, also when the run ended early. */
  summary: DownloadSummary;
  end: RunEnd;
}
