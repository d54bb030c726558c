import type { ApiClient } from "../api/types.js";
import type { RelPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import { OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { Retryable, TransferBudget } from "../retry.js";

/** One recording to fetch. The caller decides names and what "recorded" means; the transfer moves bytes. */
export interface TransferJob {
  recordingId: string;
  contentUri: string;
  /** Labels for the object where the destination keeps them (see PartialMeta.metadata). */
  metadata?: Record<string, string> | undefined;
  /**
   * The platform says this recording is empty (its call lasted 0 s): only then is a 0-byte body a recording.
   * Anything else that arrives empty is a server's glitch, never saved.
   */
  mayBeEmpty: boolean;
  /**
   * The key for a fresh download, once the response's Content-Type is known (name claiming). `occupant`: an
   * object the run does not know already has that name (a DIR copied without its state, a torn manifest line);
   * the transfer adopts it when it holds exactly the bytes the server sends, else calls `refuse`.
   */
  choosePath(contentType: string): Promise<Claim>;
  /**
   * Whether a partial's journalled key is a name this recording could have been given (the destination's journal
   * is state on disk or in a bucket, and may have been edited): a key it could not is never written, renamed,
   * deleted or adopted.
   */
  couldBeNamed(key: RelPath, contentType: string): boolean;
  /** The occupant of a claimed key is someone else's: the key is not this recording's; ask for another. */
  refuse(key: RelPath): void;
  /** Runs after the object is committed, before its partial record is dropped: make the result durable. */
  commit(result: TransferResult): Promise<void>;
}

export interface Claim {
  key: RelPath;
  occupant?: { size: number } | undefined;
}

export interface TransferResult {
  key: RelPath;
  bytes: number;
  sha256: string;
  contentType: string;
  /** Bytes that were already held from an earlier attempt or run (0 for a fresh download). */
  resumedFrom: number;
}

export interface TransferDeps {
  api: ApiClient;
  destination: Destination;
  /** The run's signal: when it aborts the transfer stops, keeps its partial, and throws InterruptedError. */
  signal: AbortSignal;
  log: Logger;
  onBytes?: (count: number) => void;
  retry?: Partial<TransferBudget>;
}

/**
 * This recording could not be saved; the run goes on. `permanent`: retrying later will not help (404, 403).
 * `notFound`: the server answered 404 for content it listed: the recording was deleted (evidence for `report`).
 */
export class TransferFailedError extends OperationError {
  readonly notFound: boolean;

  constructor(
    readonly reason: string,
    readonly permanent: boolean,
    options: { notFound?: boolean } = {},
  ) {
    super(reason);
    this.notFound = options.notFound ?? false;
  }
}

/**
 * The disk is full (ENOSPC, EDQUOT): this recording failed with its partial kept, and any new transfer would fail
 * the same way, so the run starts no more and ends naming the cause.
 */
export class DiskFullError extends TransferFailedError {
  readonly stopsNewWork = true;

  constructor(reason: string) {
    super(reason, false);
  }
}

/** One attempt did not finish but another may (a 503, a short body, a stall): the budget decides. */
export class AttemptFailedError extends OperationError implements Retryable {
  readonly retryable = true;
  readonly progressed: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly reason: string,
    options: { progressed?: boolean; retryAfterMs?: number | undefined } = {},
  ) {
    super(reason);
    this.progressed = options.progressed ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
