import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { fileSize, isNotFound, writeFileAtomic } from "../fs-util.js";
import { collisionKey } from "./folder-names.js";
import { isInside, relativeInside, resolveInside } from "./naming.js";

/** One verified recording on disk. `path` is relative to DIR with "/" separators, so a DIR can move. */
export interface ManifestEntry {
  recordingId: string;
  callId: string;
  path: string;
  bytes: number;
  sha256: string;
  contentType: string;
  startTime: string;
}

/** Where the next run without `--from` starts. */
export interface RunState {
  /** The incremental high-water mark: everything before it was listed (see `nextLastTo`). */
  lastTo: string;
  finishedAt: string;
}

/** A run whose listing reached its end, as far as the incremental state is concerned. */
export interface ListedRun {
  from: Date;
  to: Date;
  /** Start time (ms) of the oldest recording that failed but may succeed later, if any. */
  oldestRetryable: number | undefined;
}

/**
 * The next high-water mark after `run`. It advances to `run.to` only when the run's listing joined up with
 * the previous mark (otherwise the gap between them was never listed: a `--from 1h` test run after nights
 * that failed must not make the next nightly skip those days), and a range that ends earlier never moves it
 * back. A recording that failed but may succeed later holds the mark at its start, even below the previous
 * mark, so that the next incremental run lists it again.
 */
export function nextLastTo(previous: number | undefined, run: ListedRun): number {
  const retryFrom = run.oldestRetryable ?? Number.POSITIVE_INFINITY;
  if (previous === undefined) return Math.min(run.to.getTime(), retryFrom);
  const joined = run.from.getTime() <= previous;
  const reached = joined ? Math.max(previous, run.to.getTime()) : previous;
  return Math.min(reached, retryFrom);
}

/** The folder inside DIR for everything that is not a recording: manifest, state, lock, partial records. */
export const STATE_DIR_NAME = ".rc-recordings";

/**
 * The call log is filtered by a call's start time, but a call is logged only once it ends (and 15-30 s late),
 * so the next run re-reads this window before the last `to`. A call longer than 12 h that spans a run boundary
 * can still be missed; `--from` covers it. Re-listed recordings cost a line in a call-log page, never a
 * content request: the manifest skips them.
 */
export const INCREMENTAL_OVERLAP_MS = 12 * 60 * 60 * 1000;
export const FIRST_RUN_WINDOW_MS = 24 * 60 * 60 * 1000;

type Saved = Pick<ManifestEntry, "path" | "bytes">;

/**
 * `DIR/.rc-recordings/manifest.jsonl`: one line per verified recording, appended and fsynced after the
 * rename. Later lines win. A torn last line (crash mid-append) is dropped when the manifest opens.
 */
export class Manifest {
  readonly stateDir: string;
  private readonly saved = new Map<string, Saved>();
  /** Collision key of a saved path (see `collisionKey`) → its recording. */
  private readonly owners = new Map<string, string>();
  private handle: FileHandle | undefined;
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string) {
    this.stateDir = join(dir, STATE_DIR_NAME);
  }

  get file(): string {
    return join(this.stateDir, "manifest.jsonl");
  }

  private get stateFile(): string {
    return join(this.stateDir, "state.json");
  }

  /** Read the manifest (if any). `writable` creates the state folder and repairs a torn last line. */
  static async open(dir: string, options: { writable: boolean }): Promise<Manifest> {
    const manifest = new Manifest(dir);
    const tornAt = await manifest.load();
    if (options.writable) {
      await mkdir(manifest.stateDir, { recursive: true });
      if (tornAt !== undefined) await truncate(manifest.file, tornAt);
      manifest.handle = await open(manifest.file, "a");
    }
    return manifest;
  }

  /** Listed, and its file is still there with the recorded size: nothing to fetch. */
  async isSaved(recordingId: string): Promise<boolean> {
    const entry = this.saved.get(recordingId);
    if (!entry) return false;
    return (await fileSize(this.absolute(entry.path))) === entry.bytes;
  }

  /** Where the manifest says this recording is, if it lists it. */
  entryOf(recordingId: string): Saved | undefined {
    return this.saved.get(recordingId);
  }

  /** The recording whose file this is (relative path), if the manifest knows it. */
  ownerOf(path: string): string | undefined {
    return this.owners.get(collisionKey(path));
  }

  /** DIR-relative "/" path for an absolute path inside DIR; OutsideDirError for any other. */
  relativePath(absolutePath: string): string {
    return relativeInside(this.dir, absolutePath);
  }

  /** Absolute path for a DIR-relative "/" path; OutsideDirError when it would leave DIR. */
  absolute(path: string): string {
    return resolveInside(this.dir, path);
  }

  /** Append one line and fsync it. Appends are serialised so concurrent transfers never interleave lines. */
  append(entry: ManifestEntry): Promise<void> {
    const handle = this.handle;
    if (!handle) return Promise.reject(new Error("manifest opened read-only"));
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.writes.then(async () => {
      await handle.write(line);
      await handle.sync();
      this.remember(entry);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle?.close();
    this.handle = undefined;
  }

  async readState(): Promise<RunState | undefined> {
    try {
      const state = JSON.parse(await readFile(this.stateFile, "utf8")) as Partial<RunState>;
      if (typeof state.lastTo !== "string" || Number.isNaN(Date.parse(state.lastTo))) return undefined;
      return { lastTo: state.lastTo, finishedAt: String(state.finishedAt ?? "") };
    } catch (error) {
      if (isNotFound(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Move the incremental mark for a run whose listing completed (see `nextLastTo`). */
  async recordRun(run: ListedRun, finishedAt = new Date()): Promise<void> {
    const previous = await this.readState();
    const lastTo = nextLastTo(previous === undefined ? undefined : Date.parse(previous.lastTo), run);
    await this.writeState({ lastTo: new Date(lastTo).toISOString(), finishedAt: finishedAt.toISOString() });
  }

  async writeState(state: RunState): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await writeFileAtomic(this.stateFile, `${JSON.stringify(state)}\n`);
  }

  /** Where a run without `--from` starts: the last run's `to` minus the overlap, else the last 24 hours. */
  async incrementalFrom(to: Date): Promise<Date> {
    const state = await this.readState();
    if (!state) return new Date(to.getTime() - FIRST_RUN_WINDOW_MS);
    return new Date(Math.min(Date.parse(state.lastTo), to.getTime()) - INCREMENTAL_OVERLAP_MS);
  }

  private remember(entry: ManifestEntry): void {
    const previous = this.saved.get(entry.recordingId);
    if (previous && this.ownerOf(previous.path) === entry.recordingId)
      this.owners.delete(collisionKey(previous.path));
    this.saved.set(entry.recordingId, { path: entry.path, bytes: entry.bytes });
    this.owners.set(collisionKey(entry.path), entry.recordingId);
  }

  /** Stream the lines in; returns the byte offset to truncate to when the last line is torn. */
  private async load(): Promise<number | undefined> {
    let complete = 0;
    let carry: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of createReadStream(this.file)) {
        const buffer = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
        let start = 0;
        for (let nl = buffer.indexOf(10); nl !== -1; nl = buffer.indexOf(10, start)) {
          this.ingest(buffer.toString("utf8", start, nl));
          start = nl + 1;
        }
        complete += start;
        carry = buffer.subarray(start);
      }
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return carry.length > 0 ? complete : undefined;
  }

  private ingest(line: string): void {
    const entry = parseEntry(line);
    // A line whose path leads out of DIR (edited, or from elsewhere) is ignored: the recording is fetched again.
    if (entry && isInside(this.dir, entry.path)) this.remember(entry);
  }
}

function parseEntry(line: string): ManifestEntry | undefined {
  if (line.trim() === "") return undefined;
  try {
    const value = JSON.parse(line) as Partial<ManifestEntry>;
    if (typeof value.recordingId !== "string" || typeof value.path !== "string") return undefined;
    if (typeof value.bytes !== "number") return undefined;
    return value as ManifestEntry;
  } catch {
    return undefined;
  }
}
