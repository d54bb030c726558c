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
  /** Lines this process appended (the index needs rebuilding only when it moved). */
  private lines = 0;

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
      this.lines++;
      this.remember(entry);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** How many lines this process has appended so far. */
  get appended(): number {
    return this.lines;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.log.close();
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
