import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { CliError, ExitCode, UsageError } from "../errors.js";
import type { ArchiveReader } from "./archive-reader.js";
import { collisionKey } from "./folder-names.js";
import type { ManifestEntry } from "./manifest.js";

/** What `verify` found; the `--json` document. Paths are DIR-relative, sorted. */
export interface VerifyReport {
  /** Recordings the manifest lists, all checked. */
  checked: number;
  /** Of those, present with the recorded size and SHA-256. */
  ok: number;
  missing: string[];
  /** Present, but the size or the SHA-256 differs from the manifest's. */
  changed: string[];
  /** Audio files in the archive that the manifest does not list (not a failure: maybe copied in by a person). */
  unknown: string[];
}

/** What verify shows while it works; cheap and synchronous. */
export interface VerifyProgress {
  started(recordings: number, bytes: number): void;
  bytes(count: number): void;
  checked(): void;
}

/** Something in the archive is missing or changed: exit 3, like a download that could not save everything. */
export class ArchiveDamagedError extends CliError {
  readonly exitCode = ExitCode.partial;
}

/** There is no manifest where the archive should be: most likely a wrong `--out`. */
export class NoArchiveError extends UsageError {}

export interface VerifyOptions {
  progress: VerifyProgress;
  signal: AbortSignal;
  /**
   * Files hashed at once. Hashing runs on the main thread; two files keep a read in flight for each, which keeps
   * a disk (or a network store) busy while the other file is hashed.
   */
  concurrency?: number;
}

/**
 * Re-read every recording the manifest lists and compare its size and SHA-256 with what the manifest recorded
 * when it was saved; then list the audio files the manifest does not know. Read-only, and refuses (BusyError)
 * while a download writes to the archive; the check is made once, at the start.
 */
export async function verifyArchive(reader: ArchiveReader, options: VerifyOptions): Promise<VerifyReport> {
  await reader.assertIdle();
  const entries = await reader.entries();
  if (!entries) {
    throw new NoArchiveError(`no archive in ${reader.location}: it has no manifest (is --out right?)`);
  }
  options.progress.started(
    entries.length,
    entries.reduce((sum, entry) => sum + entry.bytes, 0),
  );
  const report: VerifyReport = { checked: 0, ok: 0, missing: [], changed: [], unknown: [] };
  const limit = pLimit(options.concurrency ?? 2);
  // The first error (a file that cannot be read) ends the whole check: nothing queued starts after it.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  try {
    await Promise.all(
      entries.map((entry) =>
        limit(async () => {
          signal.throwIfAborted();
          const state = await stateOf(reader, entry, options.progress, signal);
          report.checked += 1;
          if (state === "ok") report.ok += 1;
          else report[state].push(entry.path);
          options.progress.checked();
        }),
      ),
    );
  } catch (error) {
    stop.abort(error);
    throw options.signal.aborted ? options.signal.reason : error;
  }
  const known = new Set(entries.map((entry) => collisionKey(entry.path)));
  for await (const path of reader.audioFiles()) {
    if (!known.has(collisionKey(path))) report.unknown.push(path);
  }
  for (const list of [report.missing, report.changed, report.unknown]) list.sort();
  return report;
}

async function stateOf(
  reader: ArchiveReader,
  entry: ManifestEntry,
  progress: VerifyProgress,
  signal: AbortSignal,
): Promise<"ok" | "missing" | "changed"> {
  const size = await reader.size(entry.path);
  if (size === undefined) return "missing";
  // A different size is a change without reading a byte.
  if (size !== entry.bytes) return "changed";
  const hash = createHash("sha256");
  for await (const chunk of reader.read(entry.path)) {
    signal.throwIfAborted();
    hash.update(chunk);
    progress.bytes(chunk.length);
  }
  // A line without a digest (edited by hand) can only be checked by its size.
  if (typeof entry.sha256 !== "string") return "ok";
  return hash.digest("hex") === entry.sha256.toLowerCase() ? "ok" : "changed";
}
