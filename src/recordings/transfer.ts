import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { ForeignHostError, NetworkError, RateLimitedError } from "../api/errors.js";
import type { ApiClient, ApiResponse } from "../api/types.js";
import { CliError, InterruptedError, LoginRequiredError, OperationError } from "../errors.js";
import { fileSize, fsyncDir, fsyncFile } from "../fs-util.js";
import type { Logger } from "../log/logger.js";
import { backoffMs, isRetryable, parseRetryAfter, type RetryBudget, sleep } from "../retry.js";
import { OutsideDirError } from "./naming.js";
import { type PartialJournal, type PartialRecord, partPathOf } from "./partials.js";

/** One recording to fetch. The caller decides names and what "recorded" means; the transfer moves bytes. */
export interface TransferJob {
  recordingId: string;
  contentUri: string;
  /** The final absolute path for a fresh download, once the response's Content-Type is known. */
  choosePath(contentType: string): Promise<string>;
  /** Runs after the rename, before the in-progress record is dropped: make the result durable (manifest). */
  commit(result: TransferResult): Promise<void>;
}

export interface TransferResult {
  path: string;
  bytes: number;
  sha256: string;
  contentType: string;
  /** Bytes that were already on disk from an earlier attempt or run (0 for a fresh download). */
  resumedFrom: number;
}

/** `attempts`: attempts in a row that may fail without writing a byte before the recording fails. */
export interface RetryPolicy extends RetryBudget {
  /** Hard cap on requests per recording, even when every attempt makes some progress. */
  maxRequests: number;
  /** No byte (or no response) for this long: the attempt is abandoned and retried. */
  idleTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  maxRequests: 20,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  idleTimeoutMs: 60_000,
};

export interface TransferDeps {
  api: ApiClient;
  journal: PartialJournal;
  /** The run's signal: when it aborts the transfer stops, keeps its `.part`, and throws InterruptedError. */
  signal: AbortSignal;
  log: Logger;
  onBytes?: (count: number) => void;
  retry?: Partial<RetryPolicy>;
}

/** This recording could not be saved; the run goes on. `permanent`: retrying later will not help (404, 403). */
export class TransferFailedError extends OperationError {
  constructor(
    readonly reason: string,
    readonly permanent: boolean,
  ) {
    super(reason);
  }
}

type Attempt =
  | { kind: "done"; result: TransferResult }
  | { kind: "retry"; reason: string; progressed: boolean; delayMs?: number }
  /** `permanent`: retrying later will not help either (404, 403, a foreign host). */
  | { kind: "fail"; reason: string; permanent: boolean };

const MAX_RETRY_AFTER_MS = 120_000;

/**
 * Fetch one recording into `<final>.part`, verify it, fsync, rename, commit. Resumes a surviving `.part` with
 * `Range`, retries transient failures with exponential backoff and jitter, and never leaves anything but
 * verified audio under a final name.
 */
export async function transferRecording(job: TransferJob, deps: TransferDeps): Promise<TransferResult> {
  const policy = { ...DEFAULT_RETRY, ...deps.retry };
  let failuresInARow = 0;
  let lastReason = "no attempt made";
  for (let request = 1; request <= policy.maxRequests; request++) {
    throwIfInterrupted(deps.signal);
    const attempt = await runAttempt(job, deps, policy.idleTimeoutMs);
    if (attempt.kind === "done") return attempt.result;
    if (attempt.kind === "fail") throw new TransferFailedError(attempt.reason, attempt.permanent);
    lastReason = attempt.reason;
    failuresInARow = attempt.progressed ? 0 : failuresInARow + 1;
    if (failuresInARow >= policy.attempts) break;
    const delayMs = attempt.delayMs ?? backoffMs(failuresInARow, policy);
    deps.log.debug(`recording ${job.recordingId}: ${attempt.reason}; retrying in ${delayMs} ms`);
    if (delayMs > 0) await sleep(delayMs, deps.signal).catch(() => throwIfInterrupted(deps.signal));
  }
  throwIfInterrupted(deps.signal);
  throw new TransferFailedError(`${lastReason} (gave up after retries)`, false);
}

/** A Retry-After of hours (a typo, a confused proxy) must not stall a run: past this, back off as usual. */
function retryAfterMs(header: string | null): number | undefined {
  const ms = parseRetryAfter(header);
  return ms === undefined ? undefined : Math.min(MAX_RETRY_AFTER_MS, ms);
}

interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

export function parseContentRange(header: string | null): ContentRange | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? "");
  if (!match) return undefined;
  const [start, end] = [Number(match[1]), Number(match[2])];
  const total = match[3] === "*" ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

function mediaTypeOf(res: ApiResponse): string {
  return (res.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
}

/** Errors that end the whole run rather than one recording: no login, or the user stopped us. */
export function endsTheRun(error: unknown): boolean {
  return error instanceof LoginRequiredError || error instanceof InterruptedError;
}

/** Worth another attempt: typed network/server failures only, so a bug or a bad path fails at once. */
function isTransient(error: unknown): boolean {
  return isRetryable(error) || error instanceof RateLimitedError;
}

/** What an attempt reports while it runs: the response arrived, bytes arrived. */
interface AttemptProgress {
  responded(): void;
  bytes(count: number): void;
}

async function runAttempt(job: TransferJob, deps: TransferDeps, idleTimeoutMs: number): Promise<Attempt> {
  // One controller per attempt, fed by the run's signal through a listener removed afterwards (AbortSignal.any
  // would tie one dependent signal per attempt to the long-lived run signal).
  const attempt = new AbortController();
  const signal = attempt.signal;
  const forward = () => attempt.abort(deps.signal.reason);
  if (deps.signal.aborted) forward();
  else deps.signal.addEventListener("abort", forward, { once: true });
  let stalled = false;
  let idle: NodeJS.Timeout | undefined;
  // Armed only once the response is there: before that the request may wait in the rate limiter for a minute
  // or more, which is not a stall (and the transport bounds a server that never answers).
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      attempt.abort(new Error("stalled"));
    }, idleTimeoutMs);
  };
  let progressed = false;
  try {
    return await attemptOnce(job, deps, signal, {
      responded: touch,
      bytes: (count) => {
        progressed = true;
        touch();
        deps.onBytes?.(count);
      },
    });
  } catch (error) {
    throwIfInterrupted(deps.signal);
    if (endsTheRun(error)) throw error;
    if (stalled)
      return { kind: "retry", reason: `no data for ${Math.round(idleTimeoutMs / 1000)} s`, progressed };
    // Neither a foreign host nor a name that would leave DIR changes by retrying, now or in a later run.
    if (error instanceof ForeignHostError || error instanceof OutsideDirError) {
      return { kind: "fail", reason: error.message, permanent: true };
    }
    if (isTransient(error)) return { kind: "retry", reason: describeError(error), progressed };
    return { kind: "fail", reason: describeError(error), permanent: false };
  } finally {
    clearTimeout(idle);
    deps.signal.removeEventListener("abort", forward);
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}

async function attemptOnce(
  job: TransferJob,
  deps: TransferDeps,
  signal: AbortSignal,
  progress: AttemptProgress,
): Promise<Attempt> {
  const partial = await deps.journal.get(job.recordingId);
  if (partial) {
    const adopted = await adoptRenamed(job, deps, partial);
    if (adopted) return adopted;
  }
  const offset = partial ? ((await fileSize(partPathOf(partial.path))) ?? 0) : 0;
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  const res = await deps.api.get(job.contentUri, { headers, signal });
  progress.responded();
  const status = res.status;

  if (status === 200 || status === 206)
    return receive(job, deps, res, partial, offset, signal, progress.bytes);
  res.discard();
  if (status === 416 && partial && offset > 0) {
    // The partial may already hold every byte (a crash between the last write and the rename).
    if (partial.total === offset)
      return finish(job, deps, partial, offset, await hashFile(partPathOf(partial.path)));
    await discard(job, deps, partial);
    return { kind: "retry", reason: "range not satisfiable; starting over", progressed: false, delayMs: 0 };
  }
  if (status === 404 || status === 403) {
    // Gone for good: no later run will resume these bytes, and its incremental window will not list it again.
    await discard(job, deps, partial);
    const reason = status === 404 ? "recording not found (HTTP 404)" : "access denied (HTTP 403)";
    return { kind: "fail", reason, permanent: true };
  }
  if (status === 408 || status >= 500) {
    const delayMs = retryAfterMs(res.headers.get("retry-after"));
    return {
      kind: "retry",
      reason: `HTTP ${status}`,
      progressed: false,
      ...(delayMs === undefined ? {} : { delayMs }),
    };
  }
  return { kind: "fail", reason: `unexpected HTTP ${status}`, permanent: true };
}

/** Crash after the rename but before the manifest line: the final file is complete; record it, fetch nothing. */
async function adoptRenamed(
  job: TransferJob,
  deps: TransferDeps,
  partial: PartialRecord,
): Promise<Attempt | undefined> {
  if (partial.total === undefined || (await fileSize(partPathOf(partial.path))) !== undefined)
    return undefined;
  if ((await fileSize(partial.path)) !== partial.total) return undefined;
  const hash = await hashFile(partial.path);
  const result: TransferResult = {
    path: partial.path,
    bytes: partial.total,
    sha256: hash.digest("hex"),
    contentType: partial.contentType,
    resumedFrom: partial.total,
  };
  await job.commit(result);
  await deps.journal.remove(job.recordingId);
  return { kind: "done", result };
}

async function receive(
  job: TransferJob,
  deps: TransferDeps,
  res: ApiResponse,
  partial: PartialRecord | undefined,
  offset: number,
  signal: AbortSignal,
  onBytes: (count: number) => void,
): Promise<Attempt> {
  const contentType = mediaTypeOf(res);
  const restart = async (reason: string): Promise<Attempt> => {
    res.discard();
    await discard(job, deps, partial);
    return { kind: "retry", reason: `${reason}; starting over`, progressed: false, delayMs: 0 };
  };
  if (!contentType.startsWith("audio/")) {
    res.discard();
    return {
      kind: "fail",
      reason: `not a recording: HTTP ${res.status} with ${contentType || "no"} Content-Type`,
      permanent: true,
    };
  }
  const length = headerNumber(res.headers.get("content-length"));
  if (length === undefined && res.status === 200 && !isChunked(res)) {
    // The body ends when the connection closes, so a cut-short body looks exactly like a complete one.
    res.discard();
    return {
      kind: "retry",
      reason: "no Content-Length and not chunked: a complete body cannot be told from a truncated one",
      progressed: false,
    };
  }

  let start = 0;
  let total = length;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get("content-range"));
    if (!range || range.start !== offset)
      return restart(`unexpected Content-Range ${res.headers.get("content-range")}`);
    if (length !== undefined && length !== range.end - range.start + 1)
      return restart("Content-Length does not match Content-Range");
    if (offset > 0 && partial?.contentType !== contentType) return restart("content type changed");
    start = offset;
    // We ask for an open range, so its last byte is the file's last byte even when the total is "*".
    total = range.total ?? range.end + 1;
  }

  // A fresh start keeps the journalled path only while its `.part` exists: without one, that name is no
  // longer reserved on disk and may have gone to another recording, so the caller chooses again.
  const keepPath = partial !== undefined && partial.contentType === contentType && offset > 0;
  let record: PartialRecord;
  if (start > 0 && partial) {
    record = total === undefined || partial.total === total ? partial : { ...partial, total };
  } else {
    if (partial && !keepPath) await discard(job, deps, partial);
    const path = keepPath ? partial.path : await choosePathOrDiscard(job, res, contentType);
    record = { path, contentType, ...(total === undefined ? {} : { total }) };
  }
  if (record !== partial) await deps.journal.put(job.recordingId, record);

  const partPath = partPathOf(record.path);
  const hash = start > 0 ? await hashFile(partPath) : createHash("sha256");
  const expected = total === undefined ? undefined : total - start;
  const written = await writeBody(res, partPath, start > 0, hash, signal, onBytes);
  if (expected !== undefined && written < expected) {
    return { kind: "retry", reason: `short body: ${written} of ${expected} bytes`, progressed: written > 0 };
  }
  if (expected !== undefined && written > expected) {
    await discard(job, deps, record);
    return {
      kind: "retry",
      reason: `body longer than announced (${written} > ${expected} bytes)`,
      progressed: false,
    };
  }
  return finish(job, deps, record, start + written, hash, start);
}

/** The name for a fresh body; if naming fails, the unread body is dropped so the connection is released. */
async function choosePathOrDiscard(job: TransferJob, res: ApiResponse, contentType: string): Promise<string> {
  try {
    return await job.choosePath(contentType);
  } catch (error) {
    res.discard();
    throw error;
  }
}

/** Chunked framing has an explicit end; Node's parser reports a body cut before it as an error. */
function isChunked(res: ApiResponse): boolean {
  return /(^|,)\s*chunked\s*$/i.test(res.headers.get("transfer-encoding") ?? "");
}

function headerNumber(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/**
 * Stream the body to the `.part` file, hashing and counting on the way. One chunk at a time, each write awaited:
 * memory stays constant and every byte received before a reset is on disk for the resume.
 */
async function writeBody(
  res: ApiResponse,
  partPath: string,
  append: boolean,
  hash: Hash,
  signal: AbortSignal,
  onBytes: (count: number) => void,
): Promise<number> {
  let written = 0;
  const handle = await open(partPath, append ? "a" : "w");
  // Stop reading on abort even when the body itself ignores the signal; the bytes so far stay on disk.
  const stop = () => res.body.destroy();
  signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const bytes of received(res)) {
      await handle.write(bytes);
      hash.update(bytes);
      written += bytes.length;
      onBytes(bytes.length);
    }
    signal.throwIfAborted();
    return written;
  } finally {
    signal.removeEventListener("abort", stop);
    await handle.close();
  }
}

/** The body's chunks; a failure of the stream itself (reset, abort, stall) is a NetworkError, a disk error is not. */
async function* received(res: ApiResponse): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of res.body) yield chunk as Buffer;
  } catch (error) {
    throw new NetworkError(URL.canParse(res.url) ? new URL(res.url).pathname : res.url, error);
  }
}

async function finish(
  job: TransferJob,
  deps: TransferDeps,
  record: PartialRecord,
  bytes: number,
  hash: Hash,
  resumedFrom = bytes,
): Promise<Attempt> {
  const partPath = partPathOf(record.path);
  await fsyncFile(partPath);
  await rename(partPath, record.path);
  await fsyncDir(dirname(record.path));
  const result: TransferResult = {
    path: record.path,
    bytes,
    sha256: hash.digest("hex"),
    contentType: record.contentType,
    resumedFrom,
  };
  await job.commit(result);
  await deps.journal.remove(job.recordingId);
  return { kind: "done", result };
}

async function hashFile(path: string): Promise<Hash> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

async function discard(
  job: TransferJob,
  deps: TransferDeps,
  record: PartialRecord | undefined,
): Promise<void> {
  if (record) await rm(partPathOf(record.path), { force: true });
  await deps.journal.remove(job.recordingId);
}
