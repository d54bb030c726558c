import { isRelPath, type RelPath } from "../destination/rel-path.js";
import type { Destination, ManifestLog } from "../destination/types.js";
import type { CallFacts } from "./call-facts.js";
import { collisionKey } from "./folder-names.js";

/**
 * One verified recording on disk. `path` is relative to DIR with "/" separators, so a DIR can move. The call's
 * facts (CallFacts) are what the index shows; lines written before they were recorded lack them.
 */
export interface ManifestEntry extends CallFacts {
  recordingId: string;
  callId: string;
  path: RelPath;
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
  /**
   * Where the completely listed span that ends at `lastTo` begins (absent in state files of older versions): a
   * time-boxed run whose `--from` lies inside it continues at the mark instead of listing the span again.
   */
  listedFrom?: string;
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

/** Where the listed span ending at the next mark begins: widened by a run that joined it, else unchanged. */
function nextListedFrom(
  previous: { lastTo: number; listedFrom: number | undefined } | undefined,
  run: ListedRun,
): number | undefined {
  const from = run.from.getTime();
  if (previous === undefined) return from;
  if (from > previous.lastTo) return previous.listedFrom; // a gap: the mark did not move
  return Math.min(previous.listedFrom ?? from, from);
}

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
 * The manifest (`manifest.jsonl` in a local folder): one line per verified recording, appended durably after the
 * commit. Later lines win. A torn last line (crash mid-append) is dropped when the manifest opens. The lines live
 * in the destination's state store; this class keeps what they say.
 */
export class Manifest {
  private readonly saved = new Map<string, Saved>();
  /** Collision key of a saved path (see `collisionKey`) → its recording. */
  private readonly owners = new Map<string, string>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly destination: Destination,
    private readonly log: ManifestLog,
  ) {}

  /**
   * Read the manifest (if any). `writable` creates the state store and repairs a torn last line; `warn` hears of
   * lines skipped as unreadable (once).
   */
  static async open(
    destination: Destination,
    options: { writable: boolean; warn?: ((line: string) => void) | undefined },
  ): Promise<Manifest> {
    const manifest = new Manifest(destination, await destination.state.openManifest(options));
    for await (const line of manifest.log.lines()) manifest.ingest(line);
    return manifest;
  }

  /** Listed, and its file is still there with the recorded size: nothing to fetch. */
  async isSaved(recordingId: string): Promise<boolean> {
    const entry = this.saved.get(recordingId);
    if (!entry) return false;
    return (await this.destination.stat(entry.path))?.size === entry.bytes;
  }

  /** Where the manifest says this recording is, if it lists it. */
  entryOf(recordingId: string): Saved | undefined {
    return this.saved.get(recordingId);
  }

  /** The recording whose file this is, if the manifest knows it. */
  ownerOf(path: RelPath): string | undefined {
    return this.owners.get(collisionKey(path));
  }

  /** Append one line durably. Appends are serialised so concurrent transfers never interleave lines. */
  append(entry: ManifestEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.writes.then(async () => {
      await this.log.append(line);
      this.remember(entry);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.log.close();
  }

  /**
   * The incremental state. A mark past `now` (an older version stored a future `--to`; an edited file) is read
   * as `now`: believed, it would make every later run list an empty or inverted range and call it complete.
   */
  async readState(now = Date.now()): Promise<RunState | undefined> {
    const text = await this.destination.state.readMark();
    if (text === undefined) return undefined;
    try {
      const state = JSON.parse(text) as Partial<RunState>;
      if (typeof state.lastTo !== "string" || Number.isNaN(Date.parse(state.lastTo))) return undefined;
      const listedFrom =
        typeof state.listedFrom === "string" && !Number.isNaN(Date.parse(state.listedFrom))
          ? { listedFrom: state.listedFrom }
          : {};
      const lastTo = new Date(Math.min(Date.parse(state.lastTo), now)).toISOString();
      return { lastTo, finishedAt: String(state.finishedAt ?? ""), ...listedFrom };
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Move the incremental mark for a run whose listing completed (see `nextLastTo`). */
  async recordRun(run: ListedRun, finishedAt = new Date()): Promise<void> {
    const previous = await this.readState(finishedAt.getTime());
    // Never a mark past now: calls that have not happened yet were not listed.
    const lastTo = Math.min(
      nextLastTo(previous === undefined ? undefined : Date.parse(previous.lastTo), run),
      finishedAt.getTime(),
    );
    const listedFrom = nextListedFrom(
      previous && {
        lastTo: Date.parse(previous.lastTo),
        listedFrom: previous.listedFrom === undefined ? undefined : Date.parse(previous.listedFrom),
      },
      run,
    );
    await this.writeState({
      lastTo: new Date(lastTo).toISOString(),
      finishedAt: finishedAt.toISOString(),
      ...(listedFrom === undefined ? {} : { listedFrom: new Date(listedFrom).toISOString() }),
    });
  }

  /**
   * Where a time-boxed run asked to start at `from` continues: at the mark (minus the overlap) when earlier
   * runs listed everything from `from` up to it, else undefined (start at `from`).
   */
  async continuationOf(from: Date): Promise<Date | undefined> {
    const state = await this.readState();
    if (state?.listedFrom === undefined) return undefined;
    const lastTo = Date.parse(state.lastTo);
    if (Date.parse(state.listedFrom) > from.getTime() || lastTo <= from.getTime()) return undefined;
    return new Date(Math.max(from.getTime(), lastTo - INCREMENTAL_OVERLAP_MS));
  }

  async writeState(state: RunState): Promise<void> {
    await this.destination.state.writeMark(`${JSON.stringify(state)}\n`);
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

  private ingest(line: string): void {
    const entry = parseEntry(line);
    // A line whose path leads out of DIR (edited, or from elsewhere) is ignored: the recording is fetched again.
    if (entry) this.remember(entry);
  }
}

/**
 * Every recording the destination's manifest lists, whole entries (the later line of a recording wins), in the
 * order first seen; undefined when the destination holds no archive at all (neither a manifest line nor an
 * incremental mark). Read-only. Holds every entry in memory (a few hundred bytes each).
 */
export async function readManifestEntries(destination: Destination): Promise<ManifestEntry[] | undefined> {
  const entries = new Map<string, ManifestEntry>();
  const log = await destination.state.openManifest({ writable: false });
  try {
    for await (const line of log.lines()) {
      const entry = parseEntry(line);
      if (entry) entries.set(entry.recordingId, entry);
    }
  } finally {
    await log.close();
  }
  if (entries.size === 0 && (await destination.state.readMark()) === undefined) return undefined;
  return [...entries.values()];
}

function parseEntry(line: string): ManifestEntry | undefined {
  if (line.trim() === "") return undefined;
  try {
    const value = JSON.parse(line) as Partial<ManifestEntry>;
    if (typeof value.recordingId !== "string" || typeof value.path !== "string") return undefined;
    if (typeof value.bytes !== "number" || !isRelPath(value.path)) return undefined;
    return value as ManifestEntry;
  } catch {
    return undefined;
  }
}
