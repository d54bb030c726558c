import { type FileHandle, open, truncate } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound, readIfExists, writeAll, writeFileAtomic } from "../../fs-util.js";
import { type LinesEnd, manifestLines, skippedLinesWarning } from "../manifest-lines.js";
import type { ManifestLog, StateRecordName, StateStore } from "../types.js";
import { expectRealFolder, openAppendNoFollow, refuseLink } from "./contained-fs.js";
import { FolderWrites } from "./storage-full.js";

/** `<stateDir>/manifest.jsonl` (appended, fsynced per line) and `<stateDir>/state.json` (replaced atomically). */
export class LocalState implements StateStore {
  constructor(
    readonly stateDir: string,
    private readonly writes = new FolderWrites(),
  ) {}

  get manifestFile(): string {
    return join(this.stateDir, "manifest.jsonl");
  }

  private get markFile(): string {
    return join(this.stateDir, "state.json");
  }

  /**
   * The state folder and the manifest must be what they seem (no symbolic link: SymlinkRefusedError), so no line
   * is ever appended to a file outside DIR.
   */
  openManifest(options: { writable: boolean; warn?: (line: string) => void }): Promise<ManifestLog> {
    return this.writes.run(() => this.openManifestNow(options));
  }

  private async openManifestNow(options: {
    writable: boolean;
    warn?: (line: string) => void;
  }): Promise<ManifestLog> {
    let handle: FileHandle | undefined;
    if (options.writable) {
      await expectRealFolder(this.stateDir, { create: true });
      // O_APPEND writes at the end as it is at write time, so repairing a torn line later is safe.
      handle = await openAppendNoFollow(this.manifestFile);
    } else {
      await refuseLink(this.stateDir);
      await refuseLink(this.manifestFile);
    }
    return new LocalManifestLog(this.manifestFile, handle, options.warn ?? (() => undefined), this.writes);
  }

  readMark(): Promise<string | undefined> {
    return readIfExists(this.markFile);
  }

  writeMark(text: string): Promise<void> {
    return this.writeReplacing(this.markFile, text);
  }

  readRecord(name: StateRecordName): Promise<string | undefined> {
    return readIfExists(join(this.stateDir, name));
  }

  writeRecord(name: StateRecordName, text: string): Promise<void> {
    return this.writeReplacing(join(this.stateDir, name), text);
  }

  private writeReplacing(file: string, text: string): Promise<void> {
    return this.writes.run(async () => {
      await expectRealFolder(this.stateDir, { create: true });
      await writeFileAtomic(file, text);
    });
  }
}

/**
 * A file's bytes read through one reused 64 KiB buffer (each chunk valid until the next is asked for, which
 * manifestLines allows). A stream's fresh buffer per read outlived young-generation collections while its lines
 * were handled — `verify` checks a file per line between reads — and piled up outside the JS heap until a full
 * collection: 10-40 MiB during verify's second pass over a 118 MB manifest.
 */
async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A torn last line (crash mid-append) is left out of `lines()` and, when writable, cut off the file. A line longer
 * than MAX_LINE_BYTES is dropped as it streams, never gathered, with one warning for all of them.
 */
class LocalManifestLog implements ManifestLog {
  constructor(
    private readonly file: string,
    private readonly handle: FileHandle | undefined,
    private readonly warn: (line: string) => void,
    private readonly writes: FolderWrites,
  ) {}

  async *lines(): AsyncIterable<string> {
    let end: LinesEnd;
    try {
      end = yield* manifestLines(fileChunks(this.file));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (end.skipped > 0) this.warn(skippedLinesWarning(this.file, end.skipped));
    if (end.total > end.complete && this.handle) await truncate(this.file, end.complete);
  }

  /**
   * Whole line or nothing: a write cut short by a full disk is taken back, so no later line is glued to half of
   * this one (the recording then simply counts as not saved).
   */
  append(line: string): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error("manifest opened read-only");
    return this.writes.run(async () => {
      const before = (await handle.stat()).size;
      try {
        await writeAll(handle, Buffer.from(line));
        await handle.sync();
      } catch (error) {
        await handle.truncate(before).catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}
