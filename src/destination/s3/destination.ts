import { S3Bucket } from "./bucket.js";
import { connectS3 } from "./client.js";
import { acquireS3Lock, type S3Lock } from "./lock.js";
import { S3State } from "./state.js";
import { S3ObjectWriter } from "./upload.js";
import { describeLocation, type S3Location } from "./url.js";

/** What an object carries besides its bytes. */
export interface ObjectDescription {
  recordingId: string;
  contentType: string;
  /** x-amz-meta-*: recording id, call id, start time. */
  metadata: Record<string, string>;
  /** The size, when the response said it. */
  total?: number | undefined;
}

/**
 * An archive in an S3-compatible bucket: every key the run uses is `PREFIX + a DIR-relative path`, the state
 * lives under `PREFIX/.rc-recordings/` (see S3State). One writer per recording in progress: a transfer that
 * resumes after a reset within the run appends to the same upload; after a failure it starts a new one.
 */
export class S3Destination {
  readonly state: S3State;
  private readonly writers = new Map<string, S3ObjectWriter>();

  private constructor(
    readonly location: S3Location,
    readonly bucket: S3Bucket,
  ) {
    this.state = new S3State(bucket, location.prefix);
  }

  /** Loads the SDK and builds the client; no request yet. */
  static async open(location: S3Location, env: NodeJS.ProcessEnv): Promise<S3Destination> {
    const connection = await connectS3(env);
    return new S3Destination(location, new S3Bucket(connection, location.bucket));
  }

  describe(): string {
    return describeLocation(this.location);
  }

  /** One cheap request (list one key of the state folder): credentials, region, bucket, permission. */
  async preflight(): Promise<void> {
    await this.bucket.probe(this.state.root);
  }

  /**
   * Take the archive for this run, then clean up after a run that was killed while it held it: its multipart
   * uploads were never completed (nothing is under their keys) and are aborted now.
   */
  async lock(): Promise<S3Lock> {
    const lock = await acquireS3Lock(this.bucket, `${this.state.root}lock.json`, this.describe());
    try {
      await this.state.abortAbandonedUploads();
      await this.state.compact();
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
    return lock;
  }

  keyOf(path: string): string {
    return `${this.location.prefix}${path}`;
  }

  /** Size of the object at a path, and the recording it holds (its metadata) when it says. */
  async stat(path: string): Promise<{ size: number; recordingId: string | undefined } | undefined> {
    const info = await this.bucket.head(this.keyOf(path));
    return info && { size: info.size, recordingId: info.metadata["recording-id"] };
  }

  /**
   * The upload of `path` for this recording: the one in progress (same key and content type, still healthy),
   * or a new one at offset 0 (any other is aborted first).
   */
  async openPartial(path: string, object: ObjectDescription): Promise<S3ObjectWriter> {
    const key = this.keyOf(path);
    const current = this.writers.get(object.recordingId);
    if (current?.usable && current.key === key && current.headers.contentType === object.contentType) {
      return current;
    }
    if (current) await this.discardPartial(object.recordingId);
    const writer = new S3ObjectWriter(this.bucket, key, object, this.state);
    this.writers.set(object.recordingId, writer);
    return writer;
  }

  /** The writer in progress for a recording, if any (its `offset` is where a resume starts). */
  partialOf(recordingId: string): S3ObjectWriter | undefined {
    const writer = this.writers.get(recordingId);
    return writer?.usable ? writer : undefined;
  }

  /** Forget a recording's writer after its commit. */
  finished(recordingId: string): void {
    this.writers.delete(recordingId);
  }

  /** Abort a recording's upload in progress (nothing appears under its key). */
  async discardPartial(recordingId: string): Promise<void> {
    const writer = this.writers.get(recordingId);
    this.writers.delete(recordingId);
    await writer?.abort();
  }

  /** A clean stop: abort every upload in progress. */
  async abortAll(): Promise<void> {
    const ids = [...this.writers.keys()];
    await Promise.allSettled(ids.map((id) => this.discardPartial(id)));
  }

  async remove(path: string): Promise<void> {
    await this.bucket.remove(this.keyOf(path));
  }

  /** A small object written whole (a sidecar, an index). */
  async writeSmall(path: string, text: string, contentType: string): Promise<void> {
    await this.bucket.write(this.keyOf(path), text, contentType);
  }
}
