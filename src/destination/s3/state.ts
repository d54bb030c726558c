import { createHash, randomBytes } from "node:crypto";
import type { S3Bucket } from "./bucket.js";
import { S3ObjectWriter, type UploadJournal } from "./upload.js";

/** Under the archive's prefix, beside the recordings (a template value can never start with a dot). */
export const STATE_FOLDER = ".rc-recordings/";

/**
 * A run's manifest segment is rewritten whole as lines arrive (S3 cannot append), so it rolls over to a new
 * object after this many lines: each rewrite stays small however long the run.
 */
export const SEGMENT_LINES = 200;

const COMPACTED = "compacted.jsonl";
const JSONL = "application/x-ndjson";

/**
 * The archive's state as objects in the bucket, so that a rerun from any machine (empty HOME, no local state)
 * knows what is already there: `PREFIX/.rc-recordings/`
 * - `manifest/compacted.jsonl`: every line of earlier runs, rewritten when a run starts;
 * - `manifest/segment-<run>-<n>.jsonl`: the lines of one run, up to SEGMENT_LINES per object;
 * - `state.json`: the incremental mark;
 * - `uploads/<digest>.json`: a multipart upload in progress (aborted by the next run if its writer died);
 * - `lock.json`: the run that holds the archive (see s3-lock.ts).
 */
export class S3State implements UploadJournal {
  readonly root: string;
  private readonly run =
    `${new Date().toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
  private segment = 0;
  /** Lines of the current segment that are in the store. */
  private stored: string[] = [];
  /** Lines waiting for the next write, each with the promise its append returned. */
  private waiting: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    readonly bucket: S3Bucket,
    prefix: string,
  ) {
    this.root = `${prefix}${STATE_FOLDER}`;
  }

  private get manifestFolder(): string {
    return `${this.root}manifest/`;
  }

  /** Every manifest line of every earlier run, compacted ones first, then segments oldest first. */
  async *readManifest(): AsyncGenerator<string> {
    for (const key of await this.manifestObjects()) {
      const body = await this.bucket.read(key);
      if (!body) continue; // removed by a concurrent compaction: its lines are in the compacted object now
      let carry = "";
      for await (const chunk of body) {
        const text = carry + (chunk as Buffer).toString("utf8");
        const lines = text.split("\n");
        carry = lines.pop() ?? "";
        yield* lines;
      }
      if (carry !== "") yield carry;
    }
  }

  /**
   * Fold the segments of earlier runs into the compacted object, so that a run reads a bounded number of
   * objects. The new compacted object is written whole (atomic replace) before any segment is removed; a crash
   * in between only leaves lines that are read twice (later lines win anyway).
   */
  async compact(): Promise<void> {
    const objects = await this.manifestObjects();
    const segments = objects.filter((key) => !key.endsWith(COMPACTED));
    if (segments.length === 0) return;
    // Written as it is read, through the same writer as a recording: a big manifest never sits in memory.
    const writer = new S3ObjectWriter(
      this.bucket,
      `${this.manifestFolder}${COMPACTED}`,
      { contentType: JSONL, metadata: {} },
      this,
    );
    try {
      for await (const line of this.readManifest())
        if (line.trim() !== "") await writer.append(Buffer.from(`${line}\n`));
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    for (const key of segments) await this.bucket.remove(key);
  }

  /**
   * Make one line durable: resolves once the store holds it. Lines that arrive while a write is under way go
   * together in the next one, so a busy run makes far fewer writes than lines.
   */
  appendManifest(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ line, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, SEGMENT_LINES - this.stored.length);
      const lines = [...this.stored, ...batch.map((w) => w.line)];
      const key = `${this.manifestFolder}segment-${this.run}-${String(this.segment).padStart(5, "0")}.jsonl`;
      try {
        await this.bucket.write(key, `${lines.join("\n")}\n`, JSONL);
      } catch (error) {
        for (const w of batch) w.reject(error);
        continue;
      }
      this.stored = lines;
      if (this.stored.length >= SEGMENT_LINES) {
        this.segment += 1;
        this.stored = [];
      }
      for (const w of batch) w.resolve();
    }
    this.flushing = undefined;
  }

  async readMark(): Promise<string | undefined> {
    return this.bucket.readText(`${this.root}state.json`);
  }

  async writeMark(text: string): Promise<void> {
    await this.bucket.write(`${this.root}state.json`, text, "application/json");
  }

  async started(key: string, uploadId: string): Promise<void> {
    const record = JSON.stringify({ key, uploadId, startedAt: new Date().toISOString() });
    await this.bucket.write(this.uploadRecordOf(key, uploadId), record, "application/json");
  }

  async finished(key: string, uploadId: string): Promise<void> {
    await this.bucket.remove(this.uploadRecordOf(key, uploadId));
  }

  /**
   * Abort the multipart uploads that earlier runs recorded and never finished (killed mid-upload): their parts
   * cost storage and nothing refers to them. Only for the run that holds the lock. Returns how many.
   */
  async abortAbandonedUploads(): Promise<number> {
    let aborted = 0;
    for await (const { key: recordKey } of this.bucket.list(`${this.root}uploads/`)) {
      const text = await this.bucket.readText(recordKey);
      const record = parseUploadRecord(text);
      if (record) await this.bucket.abortUpload(record.key, record.uploadId);
      await this.bucket.remove(recordKey);
      aborted += 1;
    }
    return aborted;
  }

  private uploadRecordOf(key: string, uploadId: string): string {
    // A digest keeps any object key (and upload id) a single, short, harmless name.
    const name = createHash("sha256").update(`${key}\n${uploadId}`).digest("hex");
    return `${this.root}uploads/${name}.json`;
  }

  private async manifestObjects(): Promise<string[]> {
    const keys: string[] = [];
    for await (const { key } of this.bucket.list(this.manifestFolder)) keys.push(key);
    const compacted = keys.filter((k) => k.endsWith(COMPACTED));
    return [...compacted, ...keys.filter((k) => !k.endsWith(COMPACTED)).sort()];
  }
}

function parseUploadRecord(text: string | undefined): { key: string; uploadId: string } | undefined {
  try {
    const value = JSON.parse(text ?? "") as { key?: unknown; uploadId?: unknown };
    if (typeof value.key === "string" && typeof value.uploadId === "string") {
      return { key: value.key, uploadId: value.uploadId };
    }
  } catch {
    // An unreadable record names no upload; the store's lifecycle rule (README) cleans up after it.
  }
  return undefined;
}
