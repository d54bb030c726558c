import { createHash } from "node:crypto";
import type { Destination } from "../destination/types.js";
import { BusyError } from "../errors.js";
import { parseRecord } from "./chain.js";
import { DigestSet } from "./digest-set.js";
import { collisionKey } from "./folder-names.js";
import { parseEntry, type RecordedFile } from "./manifest.js";

/**
 * The recordings a manifest lists, for checking their files, without holding their lines: the latest line of a
 * recording wins, so one pass cannot tell which lines to check. The first pass (`scanRecordedFiles`) keeps, per
 * recording, only the number of its latest line; the second (`files()`) streams the manifest again and hands
 * over just those lines. What stays in memory is an id and a number per recording during the first pass, then
 * one bit per line and 16-32 bytes per listed path (DigestSet), instead of a path, digest and id per recording.
 */
export interface RecordedFiles {
  /** Recordings the manifest lists. */
  readonly count: number;
  /** Their recorded sizes, summed. */
  readonly bytes: number;
  /**
   * Each recording's latest line, in manifest order (read once). Throws BusyError at the end when the manifest
   * did not hold the same lines as in the first pass (a download started in between): what was handed over may
   * then not be what the manifest says now.
   */
  files(): AsyncIterable<RecordedFile>;
  /**
   * Whether the manifest lists a recording at this path (compared by collision key, as a folder compares names).
   * Complete once `files()` was read to its end.
   */
  lists(path: string): boolean;
}

/**
 * The first pass over the destination's manifest: every line goes through `read` (verify follows the chain on
 * the way, once), the latest line of each recording is noted. Undefined when the destination holds no archive
 * at all (neither a recording's line, an unsaved record, nor an incremental mark). Read-only.
 */
export async function scanRecordedFiles(
  destination: Destination,
  read: (line: string) => Record<string, unknown> | undefined = parseRecord,
): Promise<RecordedFiles | undefined> {
  /** Recording id → the number of its latest line (0-based, in reading order). */
  const latest = new Map<string, number>();
  /** The recorded size on each line that is a recording's (by line number); only the latest ones are summed. */
  let sizes: Float64Array = new Float64Array(1024);
  let lines = 0;
  let unsaved = false;
  const digest = createHash("sha256");
  const log = await destination.state.openManifest({ writable: false });
  try {
    for await (const line of log.lines()) {
      digest.update(line).update("\n");
      const record = read(line);
      const entry = parseEntry(record);
      if (entry) {
        if (lines >= sizes.length) sizes = grown(sizes);
        sizes[lines] = entry.bytes;
        latest.set(entry.recordingId, lines);
      } else if (record?.record === "unsaved" && typeof record.recordingId === "string") unsaved = true;
      lines += 1;
    }
  } finally {
    await log.close();
  }
  if (latest.size === 0 && !unsaved && (await destination.state.readMark()) === undefined) return undefined;
  const winners = new Uint8Array(Math.ceil(lines / 8));
  let bytes = 0;
  for (const line of latest.values()) {
    winners[line >> 3] = (winners[line >> 3] as number) | (1 << (line & 7));
    bytes += sizes[line] as number;
  }
  return new ManifestRereader(destination, {
    count: latest.size,
    bytes,
    lines,
    winners,
    digest: digest.digest("hex"),
  });
}

/** The second pass: the first pass's result, and the manifest read again for the lines it chose. */
class ManifestRereader implements RecordedFiles {
  readonly count: number;
  readonly bytes: number;
  private readonly paths = new DigestSet();

  constructor(
    private readonly destination: Destination,
    private readonly first: {
      count: number;
      bytes: number;
      /** Lines the first pass read: lines appended since are not the ones it chose from. */
      lines: number;
      /** Bit n set: line n is a recording's latest. */
      winners: Uint8Array;
      /** SHA-256 of the lines the first pass read, to tell the second pass reads the same. */
      digest: string;
    },
  ) {
    this.count = first.count;
    this.bytes = first.bytes;
  }

  async *files(): AsyncGenerator<RecordedFile> {
    const { lines, winners } = this.first;
    const digest = createHash("sha256");
    let line = 0;
    const log = await this.destination.state.openManifest({ writable: false });
    try {
      for await (const text of log.lines()) {
        if (line === lines) break;
        digest.update(text).update("\n");
        const latest = ((winners[line >> 3] as number) & (1 << (line & 7))) !== 0;
        line += 1;
        if (!latest) continue;
        const entry = parseEntry(parseRecord(text));
        if (!entry) throw this.changed();
        this.paths.add(collisionKey(entry.path));
        const { recordingId, path, bytes, sha256, startTime } = entry;
        yield { recordingId, path, bytes, sha256, startTime };
      }
    } finally {
      await log.close();
    }
    if (line !== lines || digest.digest("hex") !== this.first.digest) throw this.changed();
  }

  lists(path: string): boolean {
    return this.paths.has(collisionKey(path));
  }

  private changed(): BusyError {
    return new BusyError(
      `the manifest in ${this.destination.describe()} changed while it was read (did a download start?); run verify again once it is done`,
    );
  }
}

function grown(array: Float64Array): Float64Array {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
