import type { Dirent } from "node:fs";
import { open, opendir, stat } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound } from "../fs-util.js";
import { assertFolderIdle } from "./folder-lock.js";
import { type ManifestEntry, readManifestEntries, STATE_DIR_NAME } from "./manifest.js";
import { resolveInside } from "./naming.js";

/**
 * Read access to an archive as `verify` needs it: the manifest, a file's size and bytes, the audio files there.
 * The local folder is one implementation; another destination (object storage) provides the same five calls.
 * Paths are DIR-relative with "/" separators, as in the manifest.
 */
export interface ArchiveReader {
  /** Where the archive is, for messages. */
  readonly location: string;
  /** Throws BusyError while a download is writing to the archive. Takes and writes nothing. */
  assertIdle(): Promise<void>;
  /** Every recording the manifest lists (its latest line); undefined when there is no manifest at all. */
  entries(): Promise<ManifestEntry[] | undefined>;
  /** The size of a file, or undefined when there is none (or it is not a regular file). */
  size(path: string): Promise<number | undefined>;
  /**
   * A file's bytes, in order. Each chunk is valid only until the next one is asked for (buffers are reused, which
   * keeps memory flat and the reads ahead of the hashing).
   */
  read(path: string): AsyncIterable<Uint8Array>;
  /** Every audio file in the archive outside the tool's own state, in no particular order. */
  audioFiles(): AsyncIterable<string>;
}

/**
 * The extensions of the files a download writes (`extensionFor` in naming.ts) and of common audio formats: only
 * such files count as "unknown audio" when the manifest does not know them; `index.csv`, sidecars, `.part`
 * files and anything else a person put there are not recordings.
 */
const AUDIO_EXTENSIONS = new Set([
  "mp3",
  "wav",
  "m4a",
  "mp4",
  "aac",
  "ogg",
  "oga",
  "opus",
  "flac",
  "webm",
  "amr",
  "3gp",
  "wma",
  "aiff",
  "gsm",
]);

export function isAudioFile(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot > 0 && AUDIO_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/** Read size: large enough that a read costs little per byte, small enough that two per file stay cheap. */
const CHUNK_BYTES = 1024 * 1024;

export function localArchive(dir: string): ArchiveReader {
  return {
    location: dir,
    assertIdle: () => assertFolderIdle(join(dir, STATE_DIR_NAME)),
    entries: () => readManifestEntries(dir),
    async size(path) {
      try {
        const info = await stat(resolveInside(dir, path));
        return info.isFile() ? info.size : undefined;
      } catch (error) {
        if (isNotFound(error) || (error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
        throw error;
      }
    },
    read: (path) => readChunks(resolveInside(dir, path)),
    audioFiles: () => audioFilesBelow(dir),
  };
}

/**
 * Two buffers in turn: the next read is in flight while the caller hashes the chunk just read, so reading and
 * hashing overlap and the whole file never sits in memory.
 */
async function* readChunks(file: string): AsyncGenerator<Uint8Array> {
  const handle = await open(file, "r");
  let current = Buffer.allocUnsafe(CHUNK_BYTES);
  let spare = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = 0;
  let pending = handle.read(current, 0, CHUNK_BYTES, position);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) return;
      position += bytesRead;
      const filled = current;
      current = spare;
      spare = filled;
      pending = handle.read(current, 0, CHUNK_BYTES, position);
      yield filled.subarray(0, bytesRead);
    }
  } finally {
    // A caller that stops early leaves a read in flight: let it end before the descriptor closes.
    await pending.catch(() => undefined);
    await handle.close();
  }
}

/** Audio files below `dir` (DIR-relative "/" paths); the state folder is skipped, symlinked folders not followed. */
async function* audioFilesBelow(dir: string): AsyncGenerator<string> {
  const folders: string[] = [""];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    for await (const entry of entriesOf(join(dir, ...folder.split("/").filter(Boolean)))) {
      const path = folder === "" ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!(folder === "" && entry.name === STATE_DIR_NAME)) folders.push(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && isAudioFile(entry.name)) {
        yield path;
      }
    }
  }
}

async function* entriesOf(folder: string): AsyncGenerator<Dirent> {
  try {
    yield* await opendir(folder);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}
