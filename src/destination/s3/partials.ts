import type { Hash } from "node:crypto";
import type { LockWatch } from "../lock-holder.js";
import { isRelPath, type RelPath, relPath } from "../rel-path.js";
import type {
  PartialMeta,
  PartialObject,
  PartialOpenOptions,
  PartialRecord,
  PartialStore,
} from "../types.js";
import type { S3Bucket } from "./bucket.js";
import type { ObjectLock } from "./object-lock.js";
import { S3ObjectWriter } from "./upload.js";

/** A partial record as the bucket keeps it: the seam's record, plus the multipart upload once there is one. */
interface StoredRecord extends PartialRecord {
  uploadId?: string | undefined;
}

const JSON_TYPE = "application/json";

/**
 * Unfinished transfers into a bucket. The bytes of a transfer are an upload in progress (S3ObjectWriter), which
 * lives as long as the run: a reset within the run resumes it with a Range request, but a later run starts the
 * recording again (S3 offers no cheap way to read back the parts for the hash). The journal is one small object
 * per recording in `PREFIX/.rc-recordings/uploads/`, written before the first byte is sent and naming the
 * multipart upload once it exists. The next run that takes the lock aborts those uploads (their run was killed),
 * and a recording whose object was completed just before the kill is adopted without being fetched again.
 */
export class S3Partials implements PartialStore {
  private readonly records = new Map<string, StoredRecord>();
  /** Uploads in progress, by key. */
  private readonly writers = new Map<RelPath, { recordingId: string; writer: S3ObjectWriter }>();

  constructor(
    private readonly bucket: S3Bucket,
    /** PREFIX: the objects' keys are `prefix + key`. */
    private readonly prefix: string,
    /** `PREFIX/.rc-recordings/uploads/` */
    private readonly folder: string,
    /** Every write is refused once the run's lock was lost. */
    private readonly watch: LockWatch,
    /** Object Lock for every recording object, when the run asks for it (never for the journal). */
    private readonly objectLock?: ObjectLock | undefined,
  ) {}

  /**
   * Read the journal of earlier runs and abort their multipart uploads (for the run that holds the lock only:
   * another run's uploads are its own). A dry run never loads it.
   */
  async load(): Promise<void> {
    for await (const { key } of this.bucket.list(this.folder)) {
      const record = parseRecord(await this.bucket.readText(key));
      if (!record) {
        await this.bucket.remove(key); // unreadable: names nothing a run could resume or abort
        continue;
      }
      if (record.uploadId) await this.bucket.abortUpload(`${this.prefix}${record.key}`, record.uploadId);
      this.records.set(record.recordingId, {
        key: record.key,
        contentType: record.contentType,
        ...totalOf(record),
      });
    }
  }

  async find(recordingId: string): Promise<PartialRecord | undefined> {
    const record = this.records.get(recordingId);
    return record && { key: record.key, contentType: record.contentType, ...totalOf(record) };
  }

  async held(key: RelPath): Promise<number | undefined> {
    const live = this.writers.get(key);
    return live?.writer.usable ? live.writer.offset : undefined;
  }

  async open(key: RelPath, meta: PartialMeta, options: PartialOpenOptions): Promise<PartialObject> {
    this.watch.check();
    const live = this.writers.get(key);
    if (options.resume && live?.writer.usable && live.writer.headers.contentType === meta.contentType) {
      return this.wrap(key, live.recordingId, live.writer);
    }
    if (live) await this.stopWriter(key);
    const record: StoredRecord = { key, contentType: meta.contentType, ...totalOf(meta) };
    await this.put(meta.recordingId, record);
    const writer = new S3ObjectWriter(
      this.bucket,
      `${this.prefix}${key}`,
      {
        contentType: meta.contentType,
        metadata: meta.metadata ?? {},
        total: meta.total,
        signal: options.signal,
        lock: this.objectLock,
      },
      // Recorded before the first part is sent: a run killed now leaves an upload the next run can abort.
      {
        started: (_, uploadId) => this.put(meta.recordingId, { ...record, uploadId }),
      },
    );
    this.writers.set(key, { recordingId: meta.recordingId, writer });
    return this.wrap(key, meta.recordingId, writer);
  }

  async drop(recordingId: string, key?: RelPath): Promise<void> {
    if (key !== undefined) await this.stopWriter(key);
    if (!this.records.has(recordingId)) return;
    await this.bucket.remove(this.recordKeyOf(recordingId));
    this.records.delete(recordingId);
  }

  async dropFinished(isFinished: (recordingId: string) => boolean | Promise<boolean>): Promise<number> {
    let dropped = 0;
    for (const recordingId of [...this.records.keys()]) {
      if (!(await isFinished(recordingId))) continue;
      await this.drop(recordingId);
      dropped += 1;
    }
    return dropped;
  }

  /** The run is over (done, failed or Ctrl-C): uploads cannot be resumed by a later run, so abort them all. */
  async abortAll(): Promise<void> {
    const live = [...this.writers.entries()];
    await Promise.allSettled(live.map(([key, { recordingId }]) => this.drop(recordingId, key)));
  }

  private wrap(key: RelPath, recordingId: string, writer: S3ObjectWriter): PartialObject {
    return {
      key,
      offset: writer.offset,
      heldHash: (): Hash => writer.hashSoFar(),
      // Never read: heldHash is there. An upload's parts cannot be read back.
      readHeld: async function* () {},
      append: (chunk) => {
        this.watch.check();
        return writer.append(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      },
      close: async () => {}, // the upload stays open for a resume within the run
      commit: async () => {
        this.watch.check();
        this.writers.delete(key);
        try {
          await writer.commit();
        } catch (error) {
          // The writer aborted its upload (a failure, or Ctrl-C during the commit): nothing is left to resume or
          // to abort, so its record goes too (it is no longer among the writers that the lock's release drops).
          await this.drop(recordingId).catch(() => undefined);
          throw error;
        }
      },
      abort: async () => {
        await this.drop(recordingId, key);
      },
    };
  }

  private async stopWriter(key: RelPath): Promise<void> {
    const live = this.writers.get(key);
    this.writers.delete(key);
    await live?.writer.abort();
  }

  private async put(recordingId: string, record: StoredRecord): Promise<void> {
    await this.bucket.write(
      this.recordKeyOf(recordingId),
      JSON.stringify({ recordingId, ...record }),
      JSON_TYPE,
    );
    this.records.set(recordingId, record);
  }

  private recordKeyOf(recordingId: string): string {
    // Recording ids are digits on the platform; encode anything else so an id can never name another key.
    return `${this.folder}${encodeURIComponent(recordingId).replace(/\./g, "%2E")}.json`;
  }
}

function totalOf(value: { total?: number | undefined }): { total?: number } {
  return typeof value.total === "number" ? { total: value.total } : {};
}

function parseRecord(text: string | undefined): (StoredRecord & { recordingId: string }) | undefined {
  try {
    const value = JSON.parse(text ?? "") as Partial<StoredRecord & { recordingId: string; key: string }>;
    if (typeof value.recordingId !== "string" || typeof value.contentType !== "string") return undefined;
    if (typeof value.key !== "string" || !isRelPath(value.key)) return undefined;
    return {
      recordingId: value.recordingId,
      key: relPath(value.key),
      contentType: value.contentType,
      ...totalOf(value),
      ...(typeof value.uploadId === "string" ? { uploadId: value.uploadId } : {}),
    };
  } catch {
    return undefined;
  }
}
