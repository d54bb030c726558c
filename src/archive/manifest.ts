import { isRelPath, type RelPath } from "../destination/rel-path.js";
import type { Destination, ManifestLog } from "../destination/types.js";
import type { CallFacts } from "./call-facts.js";
import { ChainReader, chainStart, linkRecord, parseRecord, type Unlinked } from "./chain.js";
import type { CheckpointSigner } from "./checkpoint.js";
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

/** A recording a run listed but could not save: evidence for `report` (a deleted recording is evidence too). */
export interface UnsavedRecord {
  recordingId: string;
  startTime: string;
  /** `deleted`: the platform listed it but its content was gone (404); `failed`: any other failure. */
  reason: "deleted" | "failed";
  error: string;
}

/**
 * A recording `download --repair` fetched again because `verify` would report it: chained right after the
 * recording's new line, it says what was repaired, when, and the SHA-256 before and after (docs/proof.md).
 */
export interface RepairRecord {
  recordingId: string;
  path: string;
  /** What the check found: the file was gone, or held other bytes than the manifest recorded. */
  found: "missing" | "changed";
  /** What the manifest recorded when the recording was first saved. */
  previousSha256: string;
  previousBytes: number;
  /** A changed file: what it held (`foundSha256` when it was read; a different size alone needs no reading). */
  foundBytes?: number;
  foundSha256?: string;
  /** What was fetched now (also in the recording's new line just before). */
  sha256: string;
  bytes: number;
  /** Where the changed copy is kept, relative to the archive (`.rc-recordings/quarantine/…`). */
  quarantine?: string;
}

/**
 * The manifest (`manifest.jsonl` in a local folder): one line per verified recording, appended durably after the
 * commit, each linked to the line before it by a hash chain (chain.ts). Later lines win. A torn last line (crash
 * mid-append) is dropped when the manifest opens. The lines live in the destination's state store; this class
 * keeps what they say. Besides recordings it holds the chain's start, signed checkpoints and the recordings a run
 * could not save and the repairs of `download --repair`: records with a `record` field, which every reader of recordings passes over.
 */
export class Manifest {
  private readonly saved = new Map<string, Saved>();
  /** Collision key of a saved path (see `collisionKey`) → its recording. */
  private readonly owners = new Map<string, string>();
  private writes: Promise<void> = Promise.resolve();
  private readonly chain = new ChainReader(false);
  /** Hash of the last record once the chain has started, and how many records it holds. */
  private head: { hash: string; count: number } | undefined;
  /** Recordings this process appended (the index needs rebuilding only when it moved). */
  private lines = 0;

  private constructor(
    private readonly destination: Destination,
    private readonly log: ManifestLog,
    private readonly signer: CheckpointSigner | undefined,
  ) {}

  /**
   * Read the manifest (if any). `writable` creates the state store and repairs a torn last line; `warn` hears of
   * lines skipped as unreadable (once); `signer` signs a checkpoint of the chain when the manifest closes.
   */
  static async open(
    destination: Destination,
    options: {
      writable: boolean;
      warn?: ((line: string) => void) | undefined;
      signer?: CheckpointSigner | undefined;
    },
  ): Promise<Manifest> {
    const manifest = new Manifest(destination, await destination.state.openManifest(options), options.signer);
    for await (const line of manifest.log.lines()) manifest.ingest(line);
    const { head, count, start } = manifest.chain.state();
    if (start && head) manifest.head = { hash: head, count };
    // A manifest written before the chain existed is upgraded at once, so its lines are covered from this run on
    // even when the run saves nothing; a new manifest starts its chain with its first record.
    else if (options.writable && manifest.chain.priorDigest().priorLines > 0) await manifest.startChain();
    return manifest;
  }

  /** The hash of the manifest's last record (see chain.ts); undefined while the chain has not started. */
  get chainHead(): string | undefined {
    return this.head?.hash;
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
    return this.appendRecord({ ...entry }, () => {
      this.lines++;
      this.remember(entry);
    });
  }

  /** How many recordings this process has appended so far. */
  get appended(): number {
    return this.lines;
  }

  /** Record what a run listed but could not save (see UnsavedRecord). */
  async recordUnsaved(unsaved: readonly UnsavedRecord[], at = new Date()): Promise<void> {
    for (const item of unsaved) await this.appendRecord({ record: "unsaved", at: at.toISOString(), ...item });
  }

  /** Record a repair (see RepairRecord), after the recording's new line. */
  recordRepair(repair: RepairRecord, at = new Date()): Promise<void> {
    return this.appendRecord({ record: "repair", at: at.toISOString(), ...repair });
  }

  /**
   * Sign a checkpoint of the chain (when opened with a signer), then close. The checkpoint is itself a chained
   * record, so the head after it is what the run reports.
   */
  async close(at = new Date()): Promise<void> {
    try {
      const signer = this.signer;
      if (signer) await this.appendRecord({}, undefined, (head) => signer.checkpoint(head, at));
      await this.writes;
    } finally {
      await this.log.close();
    }
  }

  /**
   * Link `fields` after the current head and append the line; the chain starts first when it has not yet (a new
   * archive, or one written before the chain existed: the upgrade). The head moves only once a line is durable,
   * so a failed append leaves the chain as it was. `build` makes the fields from the head they follow.
   */
  private appendRecord(
    fields: Unlinked,
    done?: () => void,
    build?: (head: { hash: string; count: number }) => Unlinked,
  ): Promise<void> {
    const write = this.writes.then(async () => {
      const head = this.head ?? (await this.startChain());
      const linked = linkRecord(build ? build(head) : fields, head.hash);
      await this.log.append(`${linked.line}\n`);
      this.head = { hash: linked.hash, count: head.count + 1 };
      done?.();
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async startChain(): Promise<{ hash: string; count: number }> {
    const start = chainStart(this.chain.priorDigest(), new Date());
    const linked = linkRecord({ ...start }, start.prev);
    await this.log.append(`${linked.line}\n`);
    this.head = { hash: linked.hash, count: 1 };
    return this.head;
  }

  private remember(entry: ManifestEntry): void {
    const previous = this.saved.get(entry.recordingId);
    if (previous && this.ownerOf(previous.path) === entry.recordingId)
      this.owners.delete(collisionKey(previous.path));
    this.saved.set(entry.recordingId, { path: entry.path, bytes: entry.bytes });
    this.owners.set(collisionKey(entry.path), entry.recordingId);
  }

  private ingest(line: string): void {
    const entry = parseEntry(this.chain.read(line));
    // A line whose path leads out of DIR (edited, or from elsewhere) is ignored: the recording is fetched again.
    if (entry) this.remember(entry);
  }
}

/**
 * Every recording the destination's manifest lists, whole entries (the later line of a recording wins), in the
 * order first seen; undefined when the destination holds no archive at all (neither a manifest line nor an
 * incremental mark). Read-only. Holds every entry in memory (a few hundred bytes each).
 */
export async function readManifestEntries(
  destination: Destination,
  /** How each line becomes a record: `verify` follows the chain on the way. */
  read: (line: string) => Record<string, unknown> | undefined = parseRecord,
): Promise<ManifestEntry[] | undefined> {
  const view = await readArchiveView(destination, read);
  return view && [...view.entries.values()];
}

/** What checking a recording's file needs of its manifest line. */
export type RecordedFile = Pick<ManifestEntry, "recordingId" | "path" | "bytes" | "sha256" | "startTime">;

/**
 * The recordings the manifest lists, the ones runs recorded they could not save, and the repairs of `download
 * --repair` (later records win); undefined
 * when the destination holds no archive at all. Read-only.
 */
export async function readArchiveView(
  destination: Destination,
  read: (line: string) => Record<string, unknown> | undefined = parseRecord,
): Promise<
  | {
      entries: Map<string, ManifestEntry>;
      unsaved: Map<string, UnsavedRecord & { at?: string }>;
      repairs: Map<string, RepairRecord & { at?: string }>;
    }
  | undefined
> {
  const entries = new Map<string, ManifestEntry>();
  const unsaved = new Map<string, UnsavedRecord & { at?: string }>();
  const repairs = new Map<string, RepairRecord & { at?: string }>();
  const log = await destination.state.openManifest({ writable: false });
  try {
    for await (const line of log.lines()) {
      const record = read(line);
      const entry = parseEntry(record);
      if (entry) entries.set(entry.recordingId, entry);
      else if (record?.record === "unsaved" && typeof record.recordingId === "string")
        unsaved.set(record.recordingId, record as unknown as UnsavedRecord & { at?: string });
      else if (record?.record === "repair" && typeof record.recordingId === "string")
        repairs.set(record.recordingId, record as unknown as RepairRecord & { at?: string });
    }
  } finally {
    await log.close();
  }
  if (entries.size === 0 && unsaved.size === 0 && (await destination.state.readMark()) === undefined)
    return undefined;
  return { entries, unsaved, repairs };
}

/**
 * Whether the destination holds an archive at all: a manifest line or an incremental mark. Read-only and cheap
 * (one line at most), for a command that must refuse a wrong `--out` before anything opens it for writing.
 */
export async function holdsArchive(destination: Destination): Promise<boolean> {
  const log = await destination.state.openManifest({ writable: false });
  try {
    for await (const _line of log.lines()) return true;
  } finally {
    await log.close();
  }
  return (await destination.state.readMark()) !== undefined;
}

/** A recording's entry, if the record is one (chain starts, checkpoints and unsaved records carry `record`). */
export function parseEntry(record: Record<string, unknown> | undefined): ManifestEntry | undefined {
  if (record === undefined || record.record !== undefined) return undefined;
  const value = record as Partial<ManifestEntry>;
  if (typeof value.recordingId !== "string" || typeof value.path !== "string") return undefined;
  if (typeof value.bytes !== "number" || !isRelPath(value.path)) return undefined;
  return value as ManifestEntry;
}
