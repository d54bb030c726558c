import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, truncate } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound, readIfExists, writeFileAtomic } from "../../fs-util.js";
import type { ManifestLog, StateRecordName, StateStore } from "../types.js";

/** `<stateDir>/manifest.jsonl` (appended, fsynced per line) and `<stateDir>/state.json` (replaced atomically). */
export class LocalState implements StateStore {
  constructor(readonly stateDir: string) {}

  get manifestFile(): string {
    return join(this.stateDir, "manifest.jsonl");
  }

  private get markFile(): string {
    return join(this.stateDir, "state.json");
  }

  async openManifest(options: { writable: boolean }): Promise<ManifestLog> {
    let handle: FileHandle | undefined;
    if (options.writable) {
      await mkdir(this.stateDir, { recursive: true });
      // O_APPEND writes at the end as it is at write time, so repairing a torn line later is safe.
      handle = await open(this.manifestFile, "a");
    }
    return new LocalManifestLog(this.manifestFile, handle);
  }

  readMark(): Promise<string | undefined> {
    return readIfExists(this.markFile);
  }

  async writeMark(text: string): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await writeFileAtomic(this.markFile, text);
  }

  readRecord(name: StateRecordName): Promise<string | undefined> {
    return readIfExists(join(this.stateDir, name));
  }

  async writeRecord(name: StateRecordName, text: string): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await writeFileAtomic(join(this.stateDir, name), text);
  }
}

/** A torn last line (crash mid-append) is left out of `lines()` and, when writable, cut off the file. */
class LocalManifestLog implements ManifestLog {
  constructor(
    private readonly file: string,
    private readonly handle: FileHandle | undefined,
  ) {}

  async *lines(): AsyncIterable<string> {
    let complete = 0;
    let carry: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of createReadStream(this.file)) {
        const buffer = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
        let start = 0;
        for (let nl = buffer.indexOf(10); nl !== -1; nl = buffer.indexOf(10, start)) {
          yield buffer.toString("utf8", start, nl);
          start = nl + 1;
        }
        complete += start;
        carry = buffer.subarray(start);
      }
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (carry.length > 0 && this.handle) await truncate(this.file, complete);
  }

  async append(line: string): Promise<void> {
    if (!this.handle) throw new Error("manifest opened read-only");
    await this.handle.write(line);
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}
