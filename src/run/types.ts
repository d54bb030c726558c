import type { ApiClient } from "../api/types.js";
import type { CheckpointSigner } from "../archive/checkpoint.js";
import type { NameTemplate } from "../archive/naming.js";
import type { Destination } from "../destination/types.js";
import type { TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import type { TransferBudget } from "../retry.js";
import type { Deadline } from "./deadline.js";
import type { DownloadSummary, RunStats } from "./stats.js";

// The downloader's public types: what a run takes, what it reports while it works, and how it ended.

export interface DownloadOptions {
  /** Where the recordings go (`--out`). Which recordings: the source's (listing/source.ts). */
  destination: Destination;
  concurrency: number;
  metadata: boolean;
  dryRun: boolean;
  /** `--max-duration`: after it no new page or transfer starts (see deadline.ts). */
  deadline?: Deadline;
  /** `--signing-key`: the run ends with a signed checkpoint of the manifest's chain. */
  signer?: CheckpointSigner;
}

/** A recording this run saved (and verified): what the log's `saved` event reports. */
export interface SavedRecording {
  recordingId: string;
  /** Where, relative to the destination ("/"-separated). */
  key: string;
  bytes: number;
  sha256: string;
  /** The call-log record's id and the call's start time (what a post-save hook is told). */
  callId: string;
  startTime: string;
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
  /** The listing's client (with a pool: see api/pool.ts); default `api`. The run lends it to its source. */
  listApi?: ApiClient;
  /** The names recordings are saved under (template rendered and sanitised; collisions are the claimer's). */
  template: NameTemplate;
  progress: ProgressSink;
  /** The run's counts; the progress sink reads the same object. Default: a fresh one. */
  stats?: RunStats;
  /**
   * Dry run: each planned path as soon as it is known (printing them while listing keeps a 100 000-record
   * dry run small: no path is held).
   */
  onPlanned?: (path: string) => void;
  /**
   * Work that shares the run's lock, so that two runs never interleave it: `start` once the destination is locked
   * and its manifest open, `finish` before the lock is released, also when the run ends early. (The `--exec`
   * hooks: the list of recordings whose hook failed is read and rewritten here.)
   */
  locked?: LockedWork;
  log: Logger;
  signal: AbortSignal;
  retry?: Partial<TransferBudget>;
}

/** See DownloaderDeps.locked. */
export interface LockedWork {
  start(): Promise<void>;
  finish(): Promise<void>;
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
