import { endsRun, isPermanent, PartialFailureError, stopsNewWork } from "../errors.js";
import { TransferFailedError } from "../transfer/types.js";
import { StoppedAtDeadline } from "./deadline.js";
import type { RunEnd } from "./types.js";

/**
 * How one sweep of a run sorts what goes wrong (after rclone's fserrors Fataler / NoRetrier): an error that
 * ends the run (the login is gone: every other transfer would fail the same way), one that stops new work (the
 * destination is full: what is under way finishes, nothing new starts), a failure the next run retries (it holds the
 * mark back to its recording's start) and one that fails its recording for good. A stop (Ctrl-C, the deadline)
 * is none of these: the recording stays unfinished and holds its slice open.
 */
export class Triage {
  private fatal: { error: unknown } | undefined;
  private stopped: { error: unknown } | undefined;
  private oldestRetryable: number | undefined;

  /**
   * `interrupted`: the user's stop (Ctrl-C); `endRun` aborts the sweep's work when an error ends the run.
   */
  constructor(
    private readonly interrupted: AbortSignal,
    private readonly endRun: (error: unknown) => void,
  ) {}

  /** No new transfer may start: the destination is full (a run that ends aborts its signal instead). */
  get stopsNewWork(): boolean {
    return this.stopped !== undefined;
  }

  /** Start time (ms) of the oldest recording that failed but may succeed later: the mark must not pass it. */
  get holdsMarkAt(): number | undefined {
    return this.oldestRetryable;
  }

  /**
   * A recording's failure: why it failed (it is settled), or undefined when it stopped unfinished (interrupted,
   * time-boxed, or the run ends) and must hold its slice open for the next run.
   */
  recording(startTime: string, error: unknown): string | undefined {
    if (this.isStop(error)) return undefined;
    if (endsRun(error)) {
      this.fatal ??= { error };
      this.endRun(error);
      return undefined;
    }
    // The destination says so (its StorageFullError, or the transfer's DiskFullError that carries it).
    if (stopsNewWork(error)) this.stopped ??= { error };
    if (!isPermanent(error)) {
      const start = Date.parse(startTime);
      if (Number.isFinite(start)) this.oldestRetryable = Math.min(this.oldestRetryable ?? start, start);
    }
    return error instanceof TransferFailedError ? error.reason : describe(error);
  }

  /**
   * The listing failed (or the login is gone): the transfers already started finish, then the run reports. A
   * request cut short by Ctrl-C or withdrawn at the deadline is no failure; a full destination met on the way
   * (the extension cache) is the storage-full verdict, not an unexplained error.
   */
  listing(error: unknown): void {
    if (!this.isStop(error)) this.runError(error);
  }

  /** The mark could not be written: a full destination is that verdict (no new work), else the run fails. */
  runError(error: unknown): void {
    if (stopsNewWork(error)) this.stopped ??= { error };
    else this.fatal ??= { error };
  }

  /** How the sweep ended, from what it met and how far the listing got. */
  end(listing: { complete: boolean; notOnDisk: number; deadlineReached: boolean }): RunEnd {
    if (this.fatal) return { kind: "failed", error: this.fatal.error };
    if (this.stopped) return { kind: "failed", error: new StoppedEarlyError(this.stopped.error) };
    if (this.interrupted.aborted) return { kind: "interrupted" };
    const complete = listing.complete && listing.notOnDisk === 0;
    if (listing.deadlineReached && !complete) {
      return { kind: "stopped", remaining: listing.complete ? listing.notOnDisk : undefined };
    }
    if (!listing.complete) return { kind: "interrupted" };
    return { kind: "completed" };
  }

  private isStop(error: unknown): boolean {
    return this.interrupted.aborted || error instanceof StoppedAtDeadline;
  }
}

/**
 * The run stopped starting transfers (the destination is full: its StorageFullError names the disk or the store):
 * exit 3, naming the cause. What was saved is complete and recorded; unfinished recordings keep their partials,
 * and the mark did not move, so the next run (after space is freed) resumes them and lists the whole range again.
 */
class StoppedEarlyError extends PartialFailureError {
  constructor(cause: unknown, what = "stopped starting new transfers") {
    super(`${describe(cause)}: ${what}; free some space and run again (partial downloads are kept)`, {
      cause,
    });
  }
}

/** A destination too full to even take the run's lock or open its manifest is the same verdict: exit 3, named. */
export function fullAtStart(error: unknown): never {
  if (stopsNewWork(error)) throw new StoppedEarlyError(error, "nothing was started");
  throw error;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
