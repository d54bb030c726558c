import { constants, createReadStream } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDir, writeAll } from "../../fs-util.js";
import type { RelPath } from "../rel-path.js";
import type { PartialObject } from "../types.js";
import { NO_FOLLOW } from "./contained-fs.js";
import type { FolderWrites } from "./storage-full.js";

/** The local part-file protocol: bytes go to `<final>.part`; commit is fsync -> rename -> fsync the folder. */
export function partPathOf(finalPath: string): string {
  return `${finalPath}.part`;
}

export class PartFile implements PartialObject {
  /** Bytes this file holds by our own count: what was there, plus every byte appended. */
  private length: number;

  private constructor(
    readonly key: RelPath,
    readonly offset: number,
    private readonly finalPath: string,
    private readonly handle: FileHandle,
    private readonly forget: () => Promise<void>,
    private readonly writes: FolderWrites,
  ) {
    this.length = offset;
  }

  /** Open `<final>.part` to append after what it holds (`resume`), or empty. */
  static async open(
    key: RelPath,
    finalPath: string,
    resume: boolean,
    forget: () => Promise<void>,
    writes: FolderWrites,
  ): Promise<PartFile> {
    const flags = resume
      ? constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT
      : constants.O_WRONLY | constants.O_TRUNC | constants.O_CREAT;
    // A `.part` planted as a symbolic link fails to open instead of being written through.
    const handle = await writes.run(() => open(partPathOf(finalPath), flags | NO_FOLLOW, 0o644));
    try {
      const { size } = await handle.stat();
      return new PartFile(key, size, finalPath, handle, forget, writes);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async *readHeld(): AsyncIterable<Uint8Array> {
    if (this.offset === 0) return;
    for await (const chunk of createReadStream(partPathOf(this.finalPath), { end: this.offset - 1 }))
      yield chunk as Buffer;
  }

  /** Every byte of the chunk, or a loud failure (ENOSPC, EIO): a short write never passes for a whole one. */
  async append(chunk: Uint8Array): Promise<void> {
    await this.writes.run(() => writeAll(this.handle, chunk));
    this.length += chunk.length;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /**
   * fsync, then check that the disk holds exactly the bytes counted (and so verified) before the name is given:
   * whatever a file system did on the way, no file under a recording's real name is ever shorter or longer.
   */
  commit(): Promise<void> {
    return this.writes.run(() => this.commitNow());
  }

  private async commitNow(): Promise<void> {
    try {
      await this.handle.sync();
      const { size } = await this.handle.stat();
      if (size !== this.length) {
        throw Object.assign(
          new Error(
            `${partPathOf(this.finalPath)} holds ${size} bytes on disk, not the ${this.length} written`,
          ),
          { code: "EIO" },
        );
      }
    } finally {
      await this.handle.close();
    }
    await rename(partPathOf(this.finalPath), this.finalPath);
    await fsyncDir(dirname(this.finalPath));
  }

  async abort(): Promise<void> {
    await this.handle.close();
    await rm(partPathOf(this.finalPath), { force: true });
    await this.forget();
  }
}
