import { createHash, type Hash } from "node:crypto";
import type { CompletedPart } from "@aws-sdk/client-s3";
import { BodyChecksum } from "./body-checksum.js";
import type { S3Bucket } from "./bucket.js";
import { StoreError } from "./errors.js";
import type { ObjectLock } from "./object-lock.js";

/** S3 wants ≥ 5 MiB per part but the last; 8 MiB parts allow objects up to 78 GiB (10 000 parts). */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts on their way to the store at once, per object, while the next one fills. */
export const PARTS_IN_FLIGHT = 2;

/**
 * Part buffers are reused across objects: a freed 8 MiB Buffer lives outside the JS heap and is returned only
 * when a garbage collection happens to run, so fresh buffers per part made a 1 GiB upload peak at ~150 MiB.
 * The pool never holds more than the largest number ever in use at once (concurrency × (PARTS_IN_FLIGHT + 1)).
 */
const freeParts: Buffer[] = [];
const takePart = () => freeParts.pop() ?? Buffer.allocUnsafe(PART_SIZE);
const givePart = (buffer: Buffer) => void freeParts.push(buffer);

export interface ObjectHeaders {
  contentType: string;
  /** x-amz-meta-*: ASCII values (S3 sends them as HTTP headers). */
  metadata: Record<string, string>;
  /** The object's size when the response said it (Content-Length). */
  total?: number | undefined;
  /** The run's signal: the upload's requests stop when it aborts (besides the process's own signal). */
  signal?: AbortSignal | undefined;
  /** Object Lock for an evidence object (a recording), its date taken when the object is created. */
  lock?: ObjectLock | undefined;
}

/** What the writer tells the state about its multipart upload, so a run killed mid-upload can abort it. */
export interface UploadJournal {
  started(key: string, uploadId: string): Promise<void>;
}

/** Parts of PART_SIZE in reused buffers; a multipart upload once a second part is needed. */
interface Mode {
  filling: Buffer;
  used: number;
}

/**
 * One object written as its bytes arrive, never held whole: nothing exists under the key until `commit`
 * completes (one PutObject, or CompleteMultipartUpload); `abort` (or a failure) removes every part. Every
 * body the SDK sees is a Buffer of known length (no aws-chunked framing, which some stores would keep inside the
 * object), sent with its Content-MD5 and x-amz-checksum-sha256 — so the store can refuse bytes damaged on the
 * way, and an Object Lock bucket accepts the PUT at all — and the answer is compared with them (checksum echo,
 * else a plain MD5 ETag): a store that kept other bytes fails the attempt instead of passing for saved. The writer
 * stays usable across attempts of one transfer: after a reset the transfer asks for the rest with a Range
 * request and appends at `offset`.
 */
export class S3ObjectWriter {
  /** Bytes accepted so far. */
  offset = 0;
  private mode: Mode | undefined;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  private partsSent = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private settled = false;
  private readonly stop = new AbortController();
  /** `stop`, the connection's (Ctrl-C, SIGTERM, the time box's end) and the run's: every request of this upload ends when any of them aborts. */
  private readonly signal: AbortSignal;
  /** sha256 of the bytes accepted: a transfer that resumes within the run goes on hashing from here. */
  private readonly hash = createHash("sha256");

  constructor(
    private readonly bucket: S3Bucket,
    readonly key: string,
    readonly headers: ObjectHeaders,
    private readonly journal: UploadJournal,
  ) {
    const { stop: stopped } = bucket.connection;
    const run = headers.signal;
    this.signal = AbortSignal.any([this.stop.signal, ...(stopped ? [stopped] : []), ...(run ? [run] : [])]);
  }

  /** False once the upload failed or ended: the transfer must start the recording over with a new writer. */
  get usable(): boolean {
    return this.failure === undefined && !this.settled;
  }

  hashSoFar(): Hash {
    return this.hash.copy();
  }

  /** Hand bytes over; waits while the store is busy with earlier bytes, so memory stays bounded. */
  async append(bytes: Buffer): Promise<void> {
    this.throwIfFailed();
    try {
      await this.take(bytes);
    } catch (error) {
      // Some of these bytes may be in the store's hands and some not: the writer is done for, and the
      // transfer starts the recording over rather than resume at an offset that is no longer true.
      this.failure ??= { error };
    }
    this.throwIfFailed();
    this.hash.update(bytes);
    this.offset += bytes.length;
  }

  private async take(bytes: Buffer): Promise<void> {
    const { total } = this.headers;
    if (total !== undefined && this.offset + bytes.length > total) {
      throw new StoreError(`${this.where()}: more bytes than the ${total} announced`, true);
    }
    const mode = this.modeOf();
    for (let at = 0; at < bytes.length; ) {
      const n = bytes.copy(mode.filling, mode.used, at);
      mode.used += n;
      at += n;
      if (mode.used === PART_SIZE) await this.sendFilledPart(mode);
    }
  }

  /**
   * Finish: the object appears under its key now, whole. Then check what the store holds: its size must be
   * what was sent, or the object is removed again and this attempt fails.
   */
  async commit(): Promise<void> {
    this.throwIfFailed();
    const mode = this.modeOf();
    try {
      if (this.uploadId === undefined) {
        await this.putWhole(mode.filling.subarray(0, mode.used));
      } else {
        if (mode.used > 0) {
          const [last, length] = [mode.filling, mode.used];
          mode.used = -1; // the part owns the buffer now and gives it back to the pool when it is done
          await this.sendPart(last, length);
        }
        await Promise.all(this.inFlight);
        this.throwIfFailed();
        await this.complete();
      }
    } catch (error) {
      this.failure ??= { error };
      await this.abort();
      this.throwIfFailed();
    } finally {
      this.release(mode);
    }
    this.settled = true;
    const held = await this.bucket.head(this.key);
    if (held?.size !== this.offset) {
      await this.bucket.remove(this.key);
      throw new StoreError(
        `${this.where()}: the store holds ${held?.size ?? "no"} bytes of the ${this.offset} sent; removed`,
        true,
      );
    }
  }

  /** Stop and remove every part sent; nothing appears under the key. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.failure ??= { error: new StoreError(`${this.where()}: upload aborted`, false) };
    this.stop.abort();
    const mode = this.mode;
    await Promise.allSettled(this.inFlight);
    if (mode) this.release(mode);
    if (this.uploadId !== undefined) {
      await this.bucket.abortUpload(this.key, this.uploadId);
    }
  }

  /** Chosen at the first byte (or at a commit of nothing): how this object goes to the store. */
  private modeOf(): Mode {
    this.mode ??= this.start();
    return this.mode;
  }

  private start(): Mode {
    return { filling: takePart(), used: 0 };
  }

  /** The fields of the request that creates the object (PutObject, CreateMultipartUpload). */
  private objectParams() {
    return {
      Bucket: this.bucket.name,
      Key: this.key,
      ContentType: this.headers.contentType,
      Metadata: this.headers.metadata,
      ...this.headers.lock?.params(),
    };
  }

  /** The multipart upload's checksum algorithm: each part then carries its SHA-256, and the completion lists them. */
  private algorithm() {
    return this.bucket.connection.checksums ? { ChecksumAlgorithm: "SHA256" as const } : {};
  }

  private async putWhole(body: Buffer): Promise<void> {
    const { client, sdk, checksums } = this.bucket.connection;
    const checksum = BodyChecksum.of(body);
    const out = await client.send(
      new sdk.PutObjectCommand({
        ...this.objectParams(),
        ...checksum.params(checksums),
        Body: body,
        ContentLength: body.length,
      }),
      { abortSignal: this.signal },
    );
    try {
      checksum.check(out, this.where());
    } catch (error) {
      await this.bucket.remove(this.key); // complete, but not these bytes: never leave it under the key
      throw error;
    }
  }

  /** The filling buffer is full: send it (starting the multipart upload first) and fill the next one. */
  private async sendFilledPart(mode: Mode): Promise<void> {
    const full = mode.filling;
    mode.filling = takePart();
    mode.used = 0;
    await this.sendPart(full, PART_SIZE);
  }

  /** Start one part on its way (its buffer goes back to the pool when it is done); waits while too many are. */
  private async sendPart(buffer: Buffer, length: number): Promise<void> {
    if (this.uploadId === undefined) await this.createUpload();
    this.partsSent += 1;
    const partNumber = this.partsSent;
    const { client, sdk, checksums } = this.bucket.connection;
    const body = buffer.subarray(0, length);
    const checksum = BodyChecksum.of(body);
    const sent: Promise<void> = client
      .send(
        new sdk.UploadPartCommand({
          Bucket: this.bucket.name,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: length,
          ...checksum.params(checksums),
        }),
        { abortSignal: this.signal },
      )
      .then(
        (out) => {
          checksum.check(out, `${this.where()} part ${partNumber}`);
          this.parts.push({
            PartNumber: partNumber,
            ETag: out.ETag,
            ...(checksums ? { ChecksumSHA256: out.ChecksumSHA256 ?? checksum.sha256 } : {}),
          });
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        this.inFlight.delete(sent);
        givePart(buffer);
      });
    this.inFlight.add(sent);
    while (this.inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.inFlight);
  }

  /** The upload is recorded in the state before its first part is sent, so a killed run leaves no orphan. */
  private async createUpload(): Promise<void> {
    const { client, sdk } = this.bucket.connection;
    const out = await client.send(
      new sdk.CreateMultipartUploadCommand({ ...this.objectParams(), ...this.algorithm() }),
      { abortSignal: this.signal },
    );
    if (!out.UploadId) throw new StoreError(`${this.where()}: the store gave no upload id`, true);
    this.uploadId = out.UploadId;
    await this.journal.started(this.key, out.UploadId);
  }

  private async complete(): Promise<void> {
    const { client, sdk } = this.bucket.connection;
    const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: this.bucket.name,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: this.signal },
    );
  }

  private release(mode: Mode): void {
    if (mode.used >= 0) givePart(mode.filling);
    mode.used = -1; // released: never give the same buffer back twice
  }

  private where(): string {
    return `s3://${this.bucket.name}/${this.key}`;
  }

  private throwIfFailed(): void {
    if (!this.failure) return;
    throw this.bucket.failure(this.failure.error, `upload ${this.key}`);
  }
}
