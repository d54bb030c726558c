import { createHash, type Hash } from "node:crypto";
import { NetworkError } from "../api/errors.js";
import type { ApiResponse } from "../api/types.js";
import type { RelPath } from "../destination/rel-path.js";
import type { PartialObject, PartialRecord } from "../destination/types.js";
import { parseRetryAfter } from "../retry.js";
import { type BodyPlan, judgeBody, judgeStatus } from "./response.js";
import {
  AttemptFailedError,
  type Claim,
  type TransferDeps,
  TransferFailedError,
  type TransferJob,
  type TransferResult,
} from "./types.js";

/** What an attempt tells its watchdog: the response arrived, bytes arrived. */
export interface AttemptWatch {
  readonly signal: AbortSignal;
  responded(): void;
  bytes(count: number): void;
}

/**
 * One recording's transfer (after rclone's `copy` struct): the job, where the destination stands for it, and
 * small steps — check the partial, request, receive, verify, commit. `attempt` runs them once; attempt.ts decides
 * whether to run them again. Every outcome but success is thrown: AttemptFailedError (worth another attempt),
 * TransferFailedError (not), or whatever the API threw (its own policy decides).
 */
export class RecordingTransfer {
  /** The partial this attempt found (or made), and how many of its bytes are held. */
  private partial: PartialRecord | undefined;
  private offset = 0;

  constructor(
    private readonly job: TransferJob,
    private readonly deps: TransferDeps,
  ) {}

  async attempt(watch: AttemptWatch): Promise<TransferResult> {
    const adopted = await this.checkPartial();
    if (adopted) return adopted;
    const res = await this.request(watch.signal);
    watch.responded();
    return this.respond(res, watch);
  }

  /** Find an unfinished transfer; a crash after the commit but before the manifest line is adopted as is. */
  private async checkPartial(): Promise<TransferResult | undefined> {
    const { partials } = this.deps.destination;
    this.partial = await partials.find(this.job.recordingId);
    this.offset = 0;
    if (!this.partial) return undefined;
    if (!this.job.couldBeNamed(this.partial.key, this.partial.contentType)) {
      // Only the record goes: whatever is at that name (and its `.part`) is not ours to touch.
      this.deps.log.warn(
        `recording ${this.job.recordingId}: its unfinished transfer names ${this.partial.key}, not a name this recording could have; downloading it afresh`,
      );
      this.partial = undefined;
      await partials.drop(this.job.recordingId);
      return undefined;
    }
    const held = await partials.held(this.partial.key);
    if (held === undefined && this.partial.total !== undefined) {
      const committed = await this.deps.destination.stat(this.partial.key);
      if (committed?.size === this.partial.total) return this.adopt(this.partial, this.partial.total);
    }
    this.offset = held ?? 0;
    return undefined;
  }

  /**
   * A resume asks for the rest of the version it holds (`If-Range`): a server whose recording changed since
   * answers with the new version whole (200), which replaces the held bytes instead of being spliced onto them.
   */
  private request(signal: AbortSignal): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (this.offset > 0) {
      headers.Range = `bytes=${this.offset}-`;
      if (this.partial?.validator) headers["If-Range"] = this.partial.validator;
    }
    return this.deps.api.get(this.job.contentUri, { headers, signal });
  }

  private async respond(res: ApiResponse, watch: AttemptWatch): Promise<TransferResult> {
    const verdict = judgeStatus(res, this.partial !== undefined && this.offset > 0);
    if (verdict.kind === "body") return this.receive(res, watch);
    res.discard();
    switch (verdict.kind) {
      case "range-not-satisfiable":
        // The partial may already hold every byte (a crash between the last write and the commit).
        if (this.partial?.total === this.offset) return this.commitHeld(this.partial);
        return this.startOver("range not satisfiable");
      case "gone":
        // Gone for good: no later run will resume these bytes, and its incremental window will not list it again.
        await this.dropPartial();
        throw new TransferFailedError(verdict.reason, true, { notFound: true });
      case "denied":
        // Retried by a later run (the partial stays for it), not in this one: the login's permission is the same.
        throw new TransferFailedError(verdict.reason, false);
      case "retry":
        throw new AttemptFailedError(verdict.reason, { retryAfterMs: parseRetryAfter(verdict.retryAfter) });
      case "fail":
        throw new TransferFailedError(verdict.reason, true);
    }
  }

  private async receive(res: ApiResponse, watch: AttemptWatch): Promise<TransferResult> {
    const verdict = judgeBody(res, this.offset);
    if (verdict.kind !== "accept") res.discard();
    if (verdict.kind === "reject") throw new TransferFailedError(verdict.reason, true);
    if (verdict.kind === "retry") throw new AttemptFailedError(verdict.reason);
    if (verdict.kind === "restart") return this.startOver(verdict.reason);
    const { plan } = verdict;
    const changed = plan.start > 0 ? this.versionChange(res, plan) : undefined;
    if (changed) {
      res.discard();
      return this.startOver(changed);
    }
    if (plan.total === 0 && !this.job.mayBeEmpty) {
      res.discard();
      throw emptyBody();
    }
    const target = await this.open(res, plan, watch).catch((error: unknown) => {
      res.discard(); // a disk error before the body: release the connection now, not at its idle timeout
      throw error;
    });
    if ("adopted" in target) return target.adopted;
    const { object } = target;
    if (object.offset !== plan.start) {
      // The destination could not continue where the response starts (it holds other bytes now, or cannot
      // resume at all): never stitch two bodies together.
      res.discard();
      await object.abort();
      return this.startOver("the destination cannot resume there");
    }
    const hash = await hashOf(object);
    const written = await writeBody(res, object, hash, watch);
    if (plan.start + written === 0 && !this.job.mayBeEmpty) {
      await object.abort();
      throw emptyBody();
    }
    return this.verify(object, plan, written, hash);
  }

  /** Why a 206 cannot continue the held bytes: another version (validator, size or type), or undefined. */
  private versionChange(res: ApiResponse, plan: BodyPlan): string | undefined {
    const partial = this.partial;
    if (partial?.contentType !== plan.contentType) return "content type changed";
    if (partial.total !== undefined && plan.total !== undefined && partial.total !== plan.total)
      return `the recording's size changed (${partial.total} → ${plan.total} bytes)`;
    const validator = validatorOf(res);
    if (partial.validator && validator && validator !== partial.validator) return "the recording changed";
    return undefined;
  }

  /**
   * The partial to write a body into: the held one (a 206 at its end), or a fresh one under a claimed key — or,
   * when the claimed key is already held by a file that holds exactly this body, that file, adopted as it is.
   */
  private async open(
    res: ApiResponse,
    plan: BodyPlan,
    watch: AttemptWatch,
  ): Promise<{ object: PartialObject } | { adopted: TransferResult }> {
    const { partials } = this.deps.destination;
    const { recordingId } = this.job;
    const partial = this.partial;
    const validator = validatorOf(res);
    if (plan.start > 0 && partial) {
      const total = plan.total ?? partial.total;
      const meta = {
        recordingId,
        metadata: this.job.metadata,
        contentType: partial.contentType,
        ...(total === undefined ? {} : { total }),
        ...(partial.validator === undefined ? {} : { validator: partial.validator }),
      };
      return { object: await partials.open(partial.key, meta, { resume: true, signal: this.deps.signal }) };
    }
    // A fresh start keeps the journalled key only while its partial holds bytes: without them, that name is
    // no longer reserved and may have gone to another recording, so name claiming chooses again.
    const keepKey = partial !== undefined && partial.contentType === plan.contentType && this.offset > 0;
    if (partial && !keepKey) await partials.drop(recordingId, partial.key);
    let key: RelPath;
    if (keepKey) key = partial.key;
    else {
      const claim = await this.claimFor(res, plan);
      if (claim.occupant) return { adopted: await this.adoptIfSame(res, plan, claim.key, watch) };
      key = claim.key;
    }
    const meta = {
      recordingId,
      metadata: this.job.metadata,
      contentType: plan.contentType,
      ...(plan.total === undefined ? {} : { total: plan.total }),
      ...(validator === undefined ? {} : { validator }),
    };
    return { object: await partials.open(key, meta, { resume: false, signal: this.deps.signal }) };
  }

  /**
   * A name for a fresh body. A name held by a file the manifest does not know is offered for adoption only when
   * its size can be this body's (the response headers tell, without another request); otherwise it is refused
   * and the next name asked for. If naming fails, the unread body is dropped so the connection is released.
   */
  private async claimFor(res: ApiResponse, plan: BodyPlan): Promise<Claim> {
    try {
      for (;;) {
        const claim = await this.job.choosePath(plan.contentType);
        const size = claim.occupant?.size;
        if (size === undefined || plan.total === undefined || size === plan.total) return claim;
        this.job.refuse(claim.key);
      }
    } catch (error) {
      res.discard();
      throw error;
    }
  }

  /**
   * Compare the body, byte for byte, with the file already under `key`, hashing it on the way: the same bytes are
   * this recording, saved before (its manifest line lost): adopt it, write nothing. Different bytes are someone
   * else's file: refuse the name, and the next attempt claims another one.
   */
  private async adoptIfSame(
    res: ApiResponse,
    plan: BodyPlan,
    key: RelPath,
    watch: AttemptWatch,
  ): Promise<TransferResult> {
    const hash = createHash("sha256");
    const same = await sameBytes(received(res, watch.signal), this.deps.destination.read(key), hash, watch);
    if (!same) {
      res.discard();
      this.job.refuse(key);
      throw new AttemptFailedError(`${key} holds other bytes; choosing another name`, { retryAfterMs: 0 });
    }
    const result: TransferResult = {
      key,
      bytes: await this.sizeOf(key),
      sha256: hash.digest("hex"),
      contentType: plan.contentType,
      resumedFrom: 0,
    };
    if (result.bytes === 0 && !this.job.mayBeEmpty) throw emptyBody();
    this.deps.log.debug(`recording ${this.job.recordingId}: ${key} already holds it; adopted`);
    await this.record(result);
    return result;
  }

  private async sizeOf(key: RelPath): Promise<number> {
    return (await this.deps.destination.stat(key))?.size ?? 0;
  }

  /** Every announced byte, no more: then commit; a short body is kept for the resume, a long one dropped. */
  private async verify(
    object: PartialObject,
    plan: BodyPlan,
    written: number,
    hash: Hash,
  ): Promise<TransferResult> {
    const expected = plan.total === undefined ? undefined : plan.total - plan.start;
    if (expected !== undefined && written < expected) {
      await object.close();
      throw new AttemptFailedError(`short body: ${written} of ${expected} bytes`, {
        progressed: written > 0,
      });
    }
    if (expected !== undefined && written > expected) {
      await object.abort();
      throw new AttemptFailedError(`body longer than announced (${written} > ${expected} bytes)`);
    }
    return this.commit(object, {
      bytes: plan.start + written,
      hash,
      contentType: plan.contentType,
      resumedFrom: plan.start,
    });
  }

  /** A 416 for a partial that holds every byte: commit what is held. */
  private async commitHeld(partial: PartialRecord): Promise<TransferResult> {
    const meta = {
      recordingId: this.job.recordingId,
      metadata: this.job.metadata,
      contentType: partial.contentType,
      ...(partial.total === undefined ? {} : { total: partial.total }),
    };
    const object = await this.deps.destination.partials.open(partial.key, meta, {
      resume: true,
      signal: this.deps.signal,
    });
    const hash = await hashOf(object);
    return this.commit(object, {
      bytes: object.offset,
      hash,
      contentType: partial.contentType,
      resumedFrom: object.offset,
    });
  }

  private async commit(
    object: PartialObject,
    done: { bytes: number; hash: Hash; contentType: string; resumedFrom: number },
  ): Promise<TransferResult> {
    await object.commit();
    const result: TransferResult = {
      key: object.key,
      bytes: done.bytes,
      sha256: done.hash.digest("hex"),
      contentType: done.contentType,
      resumedFrom: done.resumedFrom,
    };
    await this.record(result);
    return result;
  }

  /** The object is complete under its key already (committed just before a crash): record it, fetch nothing. */
  private async adopt(partial: PartialRecord, total: number): Promise<TransferResult> {
    const hash = createHash("sha256");
    for await (const chunk of this.deps.destination.read(partial.key)) hash.update(chunk);
    const result: TransferResult = {
      key: partial.key,
      bytes: total,
      sha256: hash.digest("hex"),
      contentType: partial.contentType,
      resumedFrom: total,
    };
    await this.record(result);
    return result;
  }

  /** The manifest line first, then the partial record goes: a crash between them is repaired at the next start. */
  private async record(result: TransferResult): Promise<void> {
    await this.job.commit(result);
    await this.deps.destination.partials.drop(this.job.recordingId);
  }

  private async startOver(reason: string): Promise<never> {
    await this.dropPartial();
    throw new AttemptFailedError(`${reason}; starting over`, { retryAfterMs: 0 });
  }

  private dropPartial(): Promise<void> {
    return this.deps.destination.partials.drop(this.job.recordingId, this.partial?.key);
  }
}

/** An empty body where the platform says there is a recording: never saved; a later run asks again. */
function emptyBody(): TransferFailedError {
  return new TransferFailedError(
    "the server sent an empty body (0 bytes) for a recording with a duration",
    false,
  );
}

/**
 * The version a response's bytes belong to, usable as `If-Range`: a strong ETag, else Last-Modified (a weak
 * ETag cannot be used for ranges).
 */
function validatorOf(res: ApiResponse): string | undefined {
  const etag = res.headers.get("etag")?.trim();
  if (etag && !etag.startsWith("W/")) return etag;
  return res.headers.get("last-modified")?.trim() || undefined;
}

/** Whether `body` and `file` hold exactly the same bytes (hashing the body's); stops at the first difference. */
async function sameBytes(
  body: AsyncIterable<Buffer>,
  file: AsyncIterable<Uint8Array>,
  hash: Hash,
  watch: AttemptWatch,
): Promise<boolean> {
  const local = file[Symbol.asyncIterator]();
  let pending = Buffer.alloc(0);
  const take = async (n: number): Promise<Buffer> => {
    while (pending.length < n) {
      const next = await local.next();
      if (next.done) break;
      pending = pending.length === 0 ? Buffer.from(next.value) : Buffer.concat([pending, next.value]);
    }
    const out = pending.subarray(0, n);
    pending = pending.subarray(out.length);
    return out;
  };
  try {
    for await (const chunk of body) {
      watch.bytes(chunk.length); // received (and compared), though not written
      if (!chunk.equals(await take(chunk.length))) return false;
      hash.update(chunk);
    }
    watch.signal.throwIfAborted();
    return (await take(1)).length === 0; // the file ends where the body does
  } finally {
    await local.return?.();
  }
}

async function hashOf(object: PartialObject): Promise<Hash> {
  if (object.heldHash) return object.heldHash();
  const hash = createHash("sha256");
  for await (const chunk of object.readHeld()) hash.update(chunk);
  return hash;
}

/**
 * Stream the body into the partial, hashing and counting on the way. One chunk at a time, each append awaited:
 * memory stays constant and every byte received before a reset is held for the resume.
 */
async function writeBody(
  res: ApiResponse,
  object: PartialObject,
  hash: Hash,
  watch: AttemptWatch,
): Promise<number> {
  let written = 0;
  try {
    for await (const bytes of received(res, watch.signal)) {
      await object.append(bytes);
      hash.update(bytes);
      written += bytes.length;
      watch.bytes(bytes.length);
    }
    watch.signal.throwIfAborted();
    return written;
  } catch (error) {
    await object.close();
    throw error;
  }
}

/**
 * The body's chunks; a failure of the stream itself (reset, abort, stall) is a NetworkError, a disk error is not.
 * On abort (Ctrl-C, a stall) the body is destroyed, even when it ignores the signal: both of its readers (the
 * write into the partial, and the byte-for-byte comparison that adopts a file) stop at once.
 */
async function* received(res: ApiResponse, signal: AbortSignal): AsyncGenerator<Buffer> {
  const stop = () => res.body.destroy();
  signal.addEventListener("abort", stop, { once: true });
  if (signal.aborted) stop(); // aborted before reading began: the listener never fires
  try {
    for await (const chunk of res.body) yield chunk as Buffer;
  } catch (error) {
    throw new NetworkError(URL.canParse(res.url) ? new URL(res.url).pathname : res.url, error);
  } finally {
    signal.removeEventListener("abort", stop);
  }
}
