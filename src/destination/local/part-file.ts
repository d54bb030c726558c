import { createReadStream } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDir } from "../../fs-util.js";
import type { RelPath } from "../rel-path.js";
import type { PartialObject } from "../types.js";

/** The local part-file protocol: bytes go to `<final>.part`; commit is fsync -> rename -> fsync the folder. */
export function partPathOf(finalPath: string): string {
  return `${finalPath}.part`;
}

export class PartFile implements PartialObject {
  private constructor(
    readonly key: RelPath,
    readonly offset: number,
    private readonly finalPath: string,
    private readonly handle: FileHandle,
    private readonly forget: () => Promise<void>,
  ) {}

  /** Open `<final>.part` to append after what it holds (`resume`), or empty. */
  static async open(
    key: RelPath,
    finalPath: string,
    resume: boolean,
    forget: () => Promise<void>,
  ): Promise<PartFile> {
    const handle = await open(partPathOf(finalPath), resume ? "a" : "w");
    try {
      const { size } = await handle.stat();
      return new PartFile(key, size, finalPath, handle, forget);
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

  async append(chunk: Uint8Array): Promise<void> {
    await this.handle.write(chunk);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  async commit(): Promise<void> {
    try {
      await this.handle.sync();
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
