import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileSize, isNotFound, writeFileAtomic } from "../../fs-util.js";
import { isRelPath, type RelPath, relPath } from "../rel-path.js";
import type { PartialMeta, PartialObject, PartialRecord, PartialStore } from "../types.js";
import { PartFile, partPathOf } from "./part-file.js";

const RECORD_SUFFIX = ".json";

/**
 * Partials of a local folder: the bytes in `<final>.part` beside the final file (part-file.ts), and one small JSON
 * file per in-progress recording in `<stateDir>/partial/` that finds them again. Stored paths are relative to
 * DIR and checked on the way back: the transfer deletes and renames at that path, so a record that was edited,
 * or written for another DIR, must never lead it anywhere else (nor into the state folder).
 */
export class LocalPartials implements PartialStore {
  private readonly dir: string;

  constructor(
    stateDir: string,
    private readonly stateFolderName: string,
    /** The absolute path of a key (the folder's one place for it). */
    private readonly absolute: (key: RelPath) => string,
  ) {
    this.dir = join(stateDir, "partial");
  }

  async find(recordingId: string): Promise<PartialRecord | undefined> {
    let parsed: { path?: unknown; contentType?: unknown; total?: unknown };
    try {
      parsed = JSON.parse(await readFile(this.fileOf(recordingId), "utf8")) as typeof parsed;
    } catch (error) {
      // A missing or unreadable record only costs a fresh download.
      if (isNotFound(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
    const key = typeof parsed.path === "string" ? this.keyOf(parsed.path) : undefined;
    if (key === undefined || typeof parsed.contentType !== "string") {
      await this.drop(recordingId);
      return undefined;
    }
    return {
      key,
      contentType: parsed.contentType,
      ...(typeof parsed.total === "number" ? { total: parsed.total } : {}),
    };
  }

  held(key: RelPath): Promise<number | undefined> {
    return fileSize(partPathOf(this.absolute(key)));
  }

  async open(key: RelPath, meta: PartialMeta, options: { resume: boolean }): Promise<PartialObject> {
    const finalPath = this.absolute(key);
    if (this.keyOf(key) === undefined) throw new Error(`refusing to journal ${key}: inside the state folder`);
    const record: PartialRecord = {
      key,
      contentType: meta.contentType,
      ...(meta.total === undefined ? {} : { total: meta.total }),
    };
    if (!sameRecord(await this.find(meta.recordingId), record)) await this.put(meta.recordingId, record);
    await mkdir(dirname(finalPath), { recursive: true });
    return PartFile.open(key, finalPath, options.resume, () => this.drop(meta.recordingId));
  }

  async drop(recordingId: string, key?: RelPath): Promise<void> {
    if (key !== undefined) await rm(partPathOf(this.absolute(key)), { force: true });
    await rm(this.fileOf(recordingId), { force: true });
  }

  async dropFinished(isFinished: (recordingId: string) => boolean | Promise<boolean>): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
    let dropped = 0;
    for (const name of names) {
      if (!name.endsWith(RECORD_SUFFIX)) continue; // e.g. a temp file of an interrupted write
      const recordingId = decodeURIComponent(name.slice(0, -RECORD_SUFFIX.length));
      if (!(await isFinished(recordingId))) continue;
      await this.drop(recordingId);
      dropped += 1;
    }
    return dropped;
  }

  private async put(recordingId: string, record: PartialRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const { key, ...rest } = record;
    await writeFileAtomic(this.fileOf(recordingId), JSON.stringify({ path: key, ...rest }));
  }

  /** The key of a stored path, or undefined when it is not a clean relative path or lies in the state folder. */
  private keyOf(stored: string): RelPath | undefined {
    if (!isRelPath(stored)) return undefined;
    if (stored.split("/")[0] === this.stateFolderName) return undefined;
    return relPath(stored);
  }

  private fileOf(recordingId: string): string {
    // Recording ids are digits on the platform; encode anything else so an id can never name another path.
    return join(this.dir, `${encodeURIComponent(recordingId).replace(/\./g, "%2E")}${RECORD_SUFFIX}`);
  }
}

function sameRecord(a: PartialRecord | undefined, b: PartialRecord): boolean {
  return a !== undefined && a.key === b.key && a.contentType === b.contentType && a.total === b.total;
}
