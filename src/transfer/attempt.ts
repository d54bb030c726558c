import { CliError, endsRun, InterruptedError, isPermanent, stopsNewWork } from "../errors.js";
import { BUDGETS, callWithRetries, isRetryable } from "../retry.js";
import { logRetry } from "../waits.js";
import { type AttemptWatch, RecordingTransfer } from "./transfer.js";
import {
  AttemptFailedError,
  DiskFullError,
  type TransferDeps,
  TransferFailedError,
  type TransferJob,
  type TransferResult,
} from "./types.js";

/**
 * Fetch one recording into a partial, verify it, commit it, record it. Resumes a surviving partial with `Range`,
 * retries what says it is retryable within the transfer budget (BUDGETS.transfer: failures in a row without a
 * byte, a cap on requests, a silence that counts as a stall), and never leaves anything but verified audio
 * under a final key.
 */
export async function transferRecording(job: TransferJob, deps: TransferDeps): Promise<TransferResult> {
  const budget = { ...BUDGETS.transfer, ...deps.retry };
  const transfer = new RecordingTransfer(job, deps);
  try {
    return await callWithRetries(() => watched(transfer, deps, budget.idleTimeoutMs), budget, {
      signal: deps.signal,
      beforeCall: () => throwIfInterrupted(deps.signal),
      onRetry: (error, delayMs) =>
        logRetry(deps.log, `recording ${job.recordingId}`, reasonOf(error), delayMs, {
          recordingId: job.recordingId,
        }),
      giveUp: (error) => new TransferFailedError(`${reasonOf(error)} (gave up after retries)`, false),
    });
  } catch (error) {
    throwIfInterrupted(deps.signal);
    throw error;
  }
}

/**
 * One attempt under a watchdog: its own controller fed by the run's signal (through a listener removed
 * afterwards: AbortSignal.any would tie one dependent signal per attempt to the long-lived run signal), and an
 * idle timer armed once the response is there — before that the request may wait in the rate limiter for a
 * minute or more, which is not a stall (and the transport bounds a server that never answers). Whatever the
 * attempt throws is sorted here into "try again" (AttemptFailedError), "this recording failed"
 * (TransferFailedError) or "the run ends" (an error that says so).
 */
async function watched(
  transfer: RecordingTransfer,
  deps: TransferDeps,
  idleTimeoutMs: number,
): Promise<TransferResult> {
  const controller = new AbortController();
  const forward = () => controller.abort(deps.signal.reason);
  if (deps.signal.aborted) forward();
  else deps.signal.addEventListener("abort", forward, { once: true });
  let stalled = false;
  let progressed = false;
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      controller.abort(new Error("stalled"));
    }, idleTimeoutMs);
  };
  const watch: AttemptWatch = {
    signal: controller.signal,
    responded: touch,
    bytes: (count) => {
      progressed = true;
      touch();
      deps.onBytes?.(count);
    },
  };
  try {
    return await transfer.attempt(watch);
  } catch (error) {
    throwIfInterrupted(deps.signal);
    if (endsRun(error) || error instanceof TransferFailedError) throw error;
    if (stalled)
      throw new AttemptFailedError(`no data for ${Math.round(idleTimeoutMs / 1000)} s`, { progressed });
    if (error instanceof AttemptFailedError) throw error;
    const disk = diskFailureOf(error);
    if (disk) throw disk;
    // Neither a foreign host nor a name that would leave DIR changes by retrying, now or in a later run.
    if (isPermanent(error)) throw new TransferFailedError(describeError(error), true);
    if (isRetryable(error)) throw new AttemptFailedError(describeError(error), { progressed });
    throw new TransferFailedError(describeError(error), false);
  } finally {
    clearTimeout(idle);
    deps.signal.removeEventListener("abort", forward);
  }
}

/** Codes of a disk that failed this write: the recording fails, its partial is kept for the next run. */
const BROKEN = new Set(["EIO", "EROFS"]);

/**
 * A storage failure as the error the run acts on: full (the destination says so with its StorageFullError: no new
 * transfer either), or a broken disk (this one fails).
 */
function diskFailureOf(error: unknown): TransferFailedError | undefined {
  if (stopsNewWork(error)) return new DiskFullError((error as Error).message);
  const where = (error as NodeJS.ErrnoException | undefined)?.path;
  const at = where ? ` writing ${where}` : "";
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  if (BROKEN.has(code))
    return new TransferFailedError(`disk error (${code})${at}: ${(error as Error).message}`, false);
  return undefined;
}

function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
}

function reasonOf(error: Error): string {
  return error instanceof AttemptFailedError ? error.reason : error.message;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}
