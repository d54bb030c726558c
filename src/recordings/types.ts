import type { ApiClient } from "../api/types.js";
import type { Destination, StateStore } from "../destination/types.js";
import type { Logger } from "../log/logger.js";
import type { TransferBudget } from "../retry.js";
import type { Deadline } from "./deadline.js";
import type { ExtensionDirectory } from "./extensions.js";
import type { SliceOptions } from "./slices.js";
import type { RunStats } from "./stats.js";

/** A party of a call as the call log reports it (all fields optional on the platform). */
export interface CallParty {
  phoneNumber?: string;
  extensionNumber?: string;
  extensionId?: string;
  name?: string;
}

/** One call-log record, reduced to the fields rc-recordings reads (the raw record is kept for --metadata). */
export interface CallLogRecord {
  id: string;
  sessionId?: string;
  telephonySessionId?: string;
  startTime: string;
  duration?: number;
  type?: string;
  direction?: "Inbound" | "Outbound" | string;
  from?: CallParty;
  to?: CallParty;
  extension?: { id?: number | string; uri?: string };
  recording?: CallRecording;
  /** Detailed view only. A transferred call may have a recording per leg and none on the record itself. */
  legs?: CallLogLeg[];
}

export interface CallRecording {
  id: string;
  uri?: string;
  type?: "Automatic" | "OnDemand" | string;
  contentUri: string;
}

/** One leg of a call (Detailed view), reduced to what rc-recordings reads. */
export interface CallLogLeg {
  legType?: string;
  master?: boolean;
  recording?: CallRecording;
}

/**
 * One recording to download, with the first call-log record that carried it, on the record itself or on one of
 * its legs (records and legs sharing it are dropped).
 */
export interface RecordingItem {
  recordingId: string;
  contentUri: string;
  /** Automatic or OnDemand, from wherever the recording was found (a leg's may differ from the record's). */
  recordingType?: string;
  record: CallLogRecord;
  /** The extension the record belongs to, as the account's directory names it (set by the downloader). */
  extension?: Extension;
}

/** An extension of the account as its directory names it. */
export interface Extension {
  id: string;
  extensionNumber: string;
  name: string;
}

/** A compiled `--template` (naming.ts). */
export interface NameTemplate {
  /** The "/"-separated path for a recording, relative to DIR; `contentType` undefined = dry run. */
  render(item: RecordingItem, contentType: string | undefined): string;
  /** `a/b.mp3`, 2 → `a/b_2.mp3`. */
  withSuffix(path: string, n: number): string;
}

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

export interface TimeRange {
  from: Date;
  to: Date;
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

export interface Failure {
  recordingId: string;
  error: string;
}

export interface DownloadSummary {
  listed: number;
  downloaded: number;
  skipped: number;
  failed: number;
  bytes: number;
  durationMs: number;
  failures: Failure[];
  /** Dry run without `onPlanned`: the paths (relative to DIR) that a real run would write. */
  planned?: string[];
  /** Everything in the range is on disk (a dry run: nothing would be downloaded). */
  complete: boolean;
  /** Recordings of the range not on disk after this run; null when the listing did not reach the end. */
  remaining: number | null;
  /** Dry run: the Heavy requests a real run still needs (pages + downloads) and how long they take. */
  estimate?: { requests: number; durationMs: number | null };
  /** A pool (several --profile): what each profile did, and why one was dropped. */
  profiles?: { name: string; downloaded: number; error: string | null }[];
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
