import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileSize, isNotFound, writeFileAtomic } from "../../fs-util.js";
import { isRelPath, OutsideDirError, type RelPath, relPath } from "../rel-path.js";
import type { PartialMeta, PartialObject, PartialRecord, PartialStore } from "../types.js";
import { assertNoLinkBelow, expectRealFolder, mkdirInside } from "./contained-fs.js";
import { PartFile, partPathOf } from "./part-file.js";
import type { FolderWrites } from "./storage-full.js";

const RECORD_SUFFIX = ".json";
/** Room for the suffix and a temp-file prefix within the 255 bytes of a file name. */
const MAX_ENCODED_ID = 200;
/** `%` followed by no hex digits: a prefix encodeURIComponent never makes, so no id encodes to a hashed name. */
const HASHED = "%sha256-";

/** What a record file holds: the path (DIR-relative), the meta, and whose it is (for hashed names). */
interface StoredRecord {
  path?: unknown;
  validator?: unknown;
  contentType?: unknown;
  total?: unknown;
  recordingId?: unknown;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Partials of a local folder: the bytes in `<final>.part` beside the final file (part-file.ts), and one small JSON
 * file per in-progress recording in `<stateDir>/partial/` that finds them again. Stored paths are relative to
 * DIR and checked on the way back: the transfer deletes and renames at that path, so a record that was edited,
 * or written for another DIR, must never lead it anywhere else (nor into the state folder).
 */
export class LocalPartials implements PartialStore {
  private readonly dir: string;
  private readonly root: string;

  constructor(
    private readonly stateDir: string,
    private readonly stateFolderName: string,
    /** The absolute path of a key (the folder's one place for it). */
    private readonly absolute: (key: RelPath) => string,
    private readonly writes: FolderWrites,
  ) {
    this.dir = join(stateDir, "partial");
    this.root = dirname(stateDir);
  }

  /** `<stateDir>/partial`: the journal's folder. */
  get folder(): string {
    return this.dir;
  }

  async find(recordingId: string): Promise<PartialRecord | undefined> {
    let parsed: StoredRecord;
    try {
      parsed = JSON.parse(await readFile(this.fileOf(recordingId), "utf8")) as StoredRecord;
    } catch (error) {
      // A missing or unreadable record only costs a fresh download.
      if (isNotFound(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
    // A hashed file name is shared by nothing else in practice, but the record says whose it is: check it.
    if (typeof parsed.recordingId === "string" && parsed.recordingId !== recordingId) return undefined;
    const key = typeof parsed.path === "string" ? this.keyOf(parsed.path) : undefined;
    if (key === undefined || typeof parsed.contentType !== "string") {
      await this.drop(recordingId);
      return undefined;
    }
    return {
      key,
      contentType: parsed.contentType,
      ...(typeof parsed.total === "number" ? { total: parsed.total } : {}),
      ...(typeof parsed.validator === "string" ? { validator: parsed.validator } : {}),
    };
  }

  held(key: RelPath): Promise<number | undefined> {
    return fileSize(partPathOf(this.absolute(key)));
  }

  open(key: RelPath, meta: PartialMeta, options: { resume: boolean }): Promise<PartialObject> {
    return this.writes.run(() => this.openNow(key, meta, options));
  }

  private async openNow(
    key: RelPath,
    meta: PartialMeta,
    options: { resume: boolean },
  ): Promise<PartialObject> {
    const finalPath = this.absolute(key);
    if (this.keyOf(key) === undefined)
      throw new OutsideDirError(`refusing to journal ${key}: inside the state folder`);
    const record: PartialRecord = {
      key,
      contentType: meta.contentType,
      ...(meta.total === undefined ? {} : { total: meta.total }),
      ...(meta.validator === undefined ? {} : { validator: meta.validator }),
    };
    // One level at a time, each a real folder: a planted link (a date folder, a `{fromName}` folder) is refused
    // before anything is written, the journal record included.
    await mkdirInside(this.root, dirname(finalPath));
    if (!sameRecord(await this.find(meta.recordingId), record)) await this.put(meta.recordingId, record);
    return PartFile.open(key, finalPath, options.resume, () => this.drop(meta.recordingId), this.writes);
  }

  async drop(recordingId: string, key?: RelPath): Promise<void> {
    if (key !== undefined) {
      const part = partPathOf(this.absolute(key));
      await assertNoLinkBelow(this.root, part); // never delete through a planted link
      await rm(part, { force: true });
    }
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
      const recordingId = await this.recordingIdOf(name);
      // A name we did not write (a stray `100%.json`) is left alone: it must never fail the run.
      if (recordingId === undefined || this.fileOf(recordingId) !== join(this.dir, name)) continue;
      if (!(await isFinished(recordingId))) continue;
      await this.drop(recordingId);
      dropped += 1;
    }
    return dropped;
  }

  private async put(recordingId: string, record: PartialRecord): Promise<void> {
    // A planted link at either level would take the records (and the writes) elsewhere.
    await expectRealFolder(this.stateDir, { create: true });
    await expectRealFolder(this.dir, { create: true });
    const { key, ...rest } = record;
    await writeFileAtomic(this.fileOf(recordingId), JSON.stringify({ path: key, ...rest, recordingId }));
  }

  /** The key of a stored path, or undefined when it is not a clean relative path or lies in the state folder. */
  private keyOf(stored: string): RelPath | undefined {
    if (!isRelPath(stored)) return undefined;
    if (stored.split("/")[0] === this.stateFolderName) return undefined;
    return relPath(stored);
  }

  private fileOf(recordingId: string): string {
    // Recording ids are digits on the platform; encode anything else so an id can never name another path, and
    // hash one too long for a file name (the record inside names its recording).
    const encoded = encodeURIComponent(recordingId).replace(/\./g, "%2E");
    const name = encoded.length <= MAX_ENCODED_ID ? encoded : `${HASHED}${sha256(recordingId)}`;
    return join(this.dir, `${name}${RECORD_SUFFIX}`);
  }

  /** The recording a record file belongs to: from its name, or for a hashed name from its content. */
  private async recordingIdOf(name: string): Promise<string | undefined> {
    const stem = name.slice(0, -RECORD_SUFFIX.length);
    if (!stem.startsWith(HASHED)) {
      try {
        return decodeURIComponent(stem);
      } catch {
        return undefined; // not a name encodeURIComponent makes
      }
    }
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, name), "utf8")) as StoredRecord;
      return typeof parsed.recordingId === "string" ? parsed.recordingId : undefined;
    } catch {
      return undefined;
    }
  }
}

function sameRecord(a: PartialRecord | undefined, b: PartialRecord): boolean {
  return (
    a !== undefined &&
    a.key === b.key &&
    a.contentType === b.contentType &&
    a.total === b.total &&
    a.validator === b.validator
  );
}
