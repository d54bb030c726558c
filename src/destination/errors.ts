import { BusyError, OperationError } from "../errors.js";

/**
 * The destination cannot take more bytes: a full disk or quota (ENOSPC, EDQUOT), an object store out of space or
 * over its quota (507, XMinioStorageFull, QuotaExceeded). Every destination raises this one type for it and keeps
 * the store's own error as `cause`, so the pipeline never reads OS or store codes: this item failed (its partial
 * is kept), any new one would fail the same way, so the run starts no more, lets the others finish and ends with
 * exit 3. Freeing space is the user's part; nothing is permanent about it.
 */
export class StorageFullError extends OperationError {
  readonly stopsNewWork = true;
  readonly retryable = false;
  readonly permanent = false;
}

/**
 * This run's lock on its destination is no longer its own (another run took it over, or the heartbeat could not
 * reach the store for so long that others may take it): the run ends at once, writing nothing more (exit 5, as a
 * busy destination at the start).
 */
export class LockLostError extends BusyError {
  readonly endsRun = true;

  constructor(why: string) {
    super(`the lock on the destination was lost (${why}); stopped writing: another run may be using it`);
  }
}
