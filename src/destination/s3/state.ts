import { randomBytes } from "node:crypto";
import { LockWatch } from "../lock-holder.js";
import { manifestLines, skippedLinesWarning } from "../manifest-lines.js";
import type { ManifestLog, StateRecordName, StateStore } from "../types.js";
import type { S3Bucket } from "./bucket.js";
import { S3ObjectWriter } from "./upload.js";

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
 * - `uploads/<recording id>.json`: a transfer in progress (see S3Partials);
 * - `lock.json`: the run that holds the archive (see lock.ts);
 * - `extensions.json` and any other StateRecordName: small records of the tool's own.
 */
export class S3State implements StateStore {
  readonly root: string;
  private readonly run =
    `${new Date().toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
  private segment = 0;
  /** Lines of the current segment that are in the store. */
  private stored: string[] = [];
  /** Lines waiting for the next write, each with the promise its append returned. */
  private waiting: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  /** Warnings of lines the compaction left out (too long), for the run's first manifest reader. */
  private readonly dropped: string[] = [];

  constructor(
    readonly bucket: S3Bucket,
    prefix: string,
    /** Every write is refused once the run's lock was lost. */
    private readonly watch = new LockWatch(),
  ) {
    this.root = `${prefix}${STATE_FOLDER}`;
  }

  private get manifestFolder(): string {
    return `${this.root}manifest/`;
  }

  async openManifest(options: {
    writable: boolean;
    warn?: ((line: string) => void) | undefined;
  }): Promise<ManifestLog> {
    const warn = options.warn ?? (() => undefined);
    return {
      lines: () => this.linesTelling(warn),
      append: (line) => this.appendManifest(line),
      close: async () => {
        await this.flushing;
      },
    };
  }

  private async *linesTelling(warn: (line: string) => void): AsyncGenerator<string> {
    yield* this.readManifest(warn);
    // Lines the compaction at the start of this run left out: said once, to the first reader that listens.
    for (const line of this.dropped.splice(0)) warn(line);
  }

  /**
   * Every manifest line of every earlier run, compacted ones first, then segments oldest first. A line over
   * MAX_LINE_BYTES is left out (one `warn` per object that had any), never gathered.
   */
  async *readManifest(warn: (line: string) => void = () => undefined): AsyncGenerator<string> {
    for (const key of await this.manifestObjects()) {
      const body = await this.bucket.read(key);
      if (!body) continue; // removed by a concurrent compaction: its lines are in the compacted object now
      const end = yield* manifestLines(body as AsyncIterable<Uint8Array>);
      if (end.unterminated !== undefined) yield end.unterminated;
      if (end.skipped > 0) warn(skippedLinesWarning(`s3://${this.bucket.name}/${key}`, end.skipped));
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
    // An upload of its own is never recorded: only a manifest over 8 MiB is a multipart upload, and one left by a
    // killed compaction is for the bucket's lifecycle rule (docs/s3.md).
    const writer = new S3ObjectWriter(
      this.bucket,
      `${this.manifestFolder}${COMPACTED}`,
      { contentType: JSONL, metadata: {} },
      { started: async () => {} },
    );
    try {
      for await (const line of this.readManifest((line) => this.dropped.push(line)))
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
        this.watch.check();
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

  readRecord(name: StateRecordName): Promise<string | undefined> {
    return this.bucket.readText(`${this.root}${name}`);
  }

  async writeRecord(name: StateRecordName, text: string): Promise<void> {
    this.watch.check();
    await this.bucket.write(`${this.root}${name}`, text, "application/json");
  }

  async readMark(): Promise<string | undefined> {
    return this.bucket.readText(`${this.root}state.json`);
  }

  async writeMark(text: string): Promise<void> {
    this.watch.check();
    await this.bucket.write(`${this.root}state.json`, text, "application/json");
  }

  private async manifestObjects(): Promise<string[]> {
    const keys: string[] = [];
    for await (const { key } of this.bucket.list(this.manifestFolder)) keys.push(key);
    const compacted = keys.filter((k) => k.endsWith(COMPACTED));
    return [...compacted, ...keys.filter((k) => !k.endsWith(COMPACTED)).sort()];
  }
}
