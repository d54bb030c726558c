import { createHash } from "node:crypto";
import type { Destination } from "../destination/types.js";
import { CliError, ExitCode, UsageError } from "../errors.js";
import { ChainAudit, type ChainReport } from "./chain-audit.js";
import { readChainProof } from "./chain-proof.js";
import type { CheckpointVerifier } from "./checkpoint.js";
import type { ManifestEntry, RecordedFile } from "./manifest.js";
import { scanRecordedFiles } from "./recorded-files.js";

/** What `verify` found; the `--json` document. Paths are DIR-relative, sorted. */
export interface VerifyReport {
  /** Recordings the manifest lists, all checked. */
  checked: number;
  /** Of those, present with the recorded size and SHA-256. */
  ok: number;
  missing: string[];
  /** Present, but the size or the SHA-256 differs from the manifest's, or it is a symbolic link (`linked`). */
  changed: string[];
  /**
   * Of `changed`: reached through a symbolic link inside the archive (the file or a folder on its way). verify
   * never follows one: what it points at is not the archived copy, whatever its bytes.
   */
  linked: string[];
  /** Audio files in the archive that the manifest does not list (not a failure: maybe copied in by a person). */
  unknown: string[];
  /** The manifest's hash chain and its signed checkpoints (chain.ts, checkpoint.ts). */
  chain: ChainReport;
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
  /** `--chain-head`: a head recorded elsewhere that the chain must contain. */
  chainHead?: string | undefined;
  /** `--public-key`: every signed checkpoint must hold under it. */
  verifier?: CheckpointVerifier | undefined;
}

/**
 * The extensions of the files a download writes (`extensionFor` in naming.ts) and of common audio formats: only
 * such objects count as "unknown audio" when the manifest does not know them; `index.csv`, sidecars and anything
 * else a person put there are not recordings.
 */
const AUDIO_EXTENSIONS = new Set(
  "mp3 wav m4a mp4 aac ogg oga opus flac webm amr 3gp wma aiff gsm".split(" "),
);

function isAudioFile(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot > 0 && AUDIO_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/**
 * Follow the manifest's hash chain (and check its signed checkpoints when given a key), re-read every recording
 * the manifest lists and compare its size and SHA-256 with what the manifest recorded when it was saved; then
 * list the audio objects the manifest does not know. Read-only, and refuses (BusyError)
 * while a download writes to the destination; the check is made once, at the start.
 */
export async function verifyArchive(destination: Destination, options: VerifyOptions): Promise<VerifyReport> {
  await destination.assertIdle();
  // An export (`rc-recordings export`) is checked against its chain proof; an archive follows its own chain.
  const audit = (await readChainProof(destination, options)) ?? new ChainAudit(options);
  // The chain is followed on the first of the manifest's two passes; the files are checked on the second.
  const recorded = await scanRecordedFiles(destination, (line) => audit.read(line));
  if (!recorded) {
    throw new NoArchiveError(`no archive in ${destination.describe()}: it has no manifest (is --out right?)`);
  }
  const found = await checkRecordings(destination, recorded, options);
  const report: VerifyReport = {
    checked: found.checked,
    ok: found.checked - found.missing.length - found.changed.length,
    missing: found.missing.map((entry) => entry.path),
    changed: found.changed.map((changed) => changed.entry.path),
    linked: found.changed.filter((changed) => changed.linked).map((changed) => changed.entry.path),
    unknown: [],
    chain: audit.report(),
  };
  for await (const key of destination.objects()) {
    if (isAudioFile(key) && !recorded.lists(key)) report.unknown.push(key);
  }
  for (const list of [report.missing, report.changed, report.linked, report.unknown]) list.sort();
  return report;
}

/** What re-reading the recordings found: the entries whose file is missing, or changed (size or SHA-256). */
export interface RecordingCheck<E extends RecordedFile = ManifestEntry> {
  checked: number;
  missing: E[];
  changed: ChangedRecording<E>[];
}

/** A recording whose file holds other bytes than the manifest recorded: what the file holds now. */
export interface ChangedRecording<E extends RecordedFile = ManifestEntry> {
  entry: E;
  bytes: number;
  /** Undefined when the size alone told, or for a link (the file was not read). */
  sha256?: string;
  /** A symbolic link stands where the recording was saved (see VerifyReport.linked). */
  linked?: true;
}

/** Recordings to check, handed over one at a time (verify's come from a second pass over the manifest). */
export interface RecordingsToCheck<E extends RecordedFile> {
  /** How many, and their recorded bytes: what the progress counts towards. */
  count: number;
  bytes: number;
  files(): AsyncIterable<E>;
}

/**
 * Re-read every recording of `entries` and compare its size and SHA-256 with what the manifest recorded when it
 * was saved: `verify`'s check, and how `download --repair` finds what to fetch again. Reads only; the caller
 * decides whether the destination must be idle (verify) or is held by its own lock (a repair).
 */
export async function checkRecordings<E extends RecordedFile>(
  destination: Destination,
  entries: readonly E[] | RecordingsToCheck<E>,
  options: Pick<VerifyOptions, "progress" | "signal" | "concurrency">,
): Promise<RecordingCheck<E>> {
  const source = "files" in entries ? entries : inTurn(entries);
  options.progress.started(source.count, source.bytes);
  const found: RecordingCheck<E> = { checked: 0, missing: [], changed: [] };
  // The first error (a file that cannot be read) ends the whole check: nothing queued starts after it.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  // A few workers take the entries in turn from one iterator (an async generator queues their calls), not one
  // queued promise per recording: 150k of them held ~100 MB.
  const files = source.files()[Symbol.asyncIterator]();
  const worker = async () => {
    for (let next = await files.next(); next.done !== true; next = await files.next()) {
      const entry = next.value;
      signal.throwIfAborted();
      const state = await stateOf(destination, entry, options.progress, signal);
      found.checked += 1;
      if (state === "missing") found.missing.push(entry);
      else if (state !== "ok") found.changed.push({ entry, ...state });
      options.progress.checked();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  } catch (error) {
    stop.abort(error);
    // Ends the source's reading (the manifest's second pass) once the other worker's pending entry arrives.
    await files.return?.().catch(() => undefined);
    throw options.signal.aborted ? options.signal.reason : error;
  }
  return found;
}

function inTurn<E extends RecordedFile>(entries: readonly E[]): RecordingsToCheck<E> {
  return {
    count: entries.length,
    bytes: entries.reduce((sum, entry) => sum + entry.bytes, 0),
    files: async function* () {
      yield* entries;
    },
  };
}

async function stateOf(
  destination: Destination,
  entry: RecordedFile,
  progress: VerifyProgress,
  signal: AbortSignal,
): Promise<"ok" | "missing" | { bytes: number; sha256?: string; linked?: true }> {
  const stat = await destination.stat(entry.path);
  if (stat === undefined) return "missing";
  // Never read through a link: its target is not the archive's copy (and may be anywhere on the machine).
  if (stat.linked) return { bytes: stat.size, linked: true };
  const { size } = stat;
  // A different size is a change without reading a byte.
  if (size !== entry.bytes) return { bytes: size };
  const hash = createHash("sha256");
  for await (const chunk of destination.read(entry.path)) {
    signal.throwIfAborted();
    hash.update(chunk);
    progress.bytes(chunk.length);
  }
  // A line without a digest (edited by hand) can only be checked by its size.
  if (typeof entry.sha256 !== "string") return "ok";
  const sha256 = hash.digest("hex");
  return sha256 === entry.sha256.toLowerCase() ? "ok" : { bytes: size, sha256 };
}
