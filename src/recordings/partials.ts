import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { isNotFound, writeFileAtomic } from "../fs-util.js";

/**
 * Where an unfinished transfer is going. The final name depends on `{ext}`, which only the response's
 * Content-Type decides, so a rerun cannot recompute it before asking the server: it looks the path up here by
 * recording id instead, finds `<path>.part` beside it, and resumes with a Range request.
 */
export interface PartialRecord {
  /** Absolute final path inside DIR; the bytes go to `<path>.part` until verified. */
  path: string;
  contentType: string;
  /** Full size of the recording when the server said it. */
  total?: number;
}

export interface PartialJournal {
  get(recordingId: string): Promise<PartialRecord | undefined>;
  put(recordingId: string, record: PartialRecord): Promise<void>;
  remove(recordingId: string): Promise<void>;
}

export function partPathOf(finalPath: string): string {
  return `${finalPath}.part`;
}

const RECORD_SUFFIX = ".json";

/**
 * One small JSON file per in-progress recording in `<stateDir>/partial/`. Paths are stored relative to DIR
 * (`root`, the state folder's parent) and checked on the way back: the transfer deletes and renames at that
 * path, so a record that was edited, or written for another DIR, must never lead it anywhere else.
 */
export class FilePartialJournal implements PartialJournal {
  private readonly dir: string;

  constructor(
    private readonly stateDir: string,
    private readonly root = dirname(stateDir),
  ) {
    this.dir = join(stateDir, "partial");
  }

  async get(recordingId: string): Promise<PartialRecord | undefined> {
    let parsed: Partial<PartialRecord>;
    try {
      parsed = JSON.parse(await readFile(this.fileOf(recordingId), "utf8")) as Partial<PartialRecord>;
    } catch (error) {
      // A missing or unreadable record only costs a fresh download.
      if (isNotFound(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
    const path = typeof parsed.path === "string" ? this.inside(parsed.path) : undefined;
    if (path === undefined || typeof parsed.contentType !== "string") {
      await this.remove(recordingId);
      return undefined;
    }
    return {
      path,
      contentType: parsed.contentType,
      ...(typeof parsed.total === "number" ? { total: parsed.total } : {}),
    };
  }

  async put(recordingId: string, record: PartialRecord): Promise<void> {
    const path = relative(this.root, record.path);
    if (this.inside(path) !== resolve(record.path)) {
      throw new Error(`refusing to journal ${record.path}: outside ${this.root} or inside its state folder`);
    }
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.fileOf(recordingId), JSON.stringify({ ...record, path }));
  }

  async remove(recordingId: string): Promise<void> {
    await rm(this.fileOf(recordingId), { force: true });
  }

  /**
   * Drop the records of recordings that `isFinished` (the manifest has them): a crash between the manifest
   * line and `remove` leaves one behind, and a saved recording is skipped, so nothing else would drop it.
   * Returns how many were dropped.
   */
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
      await this.remove(recordingId);
      dropped += 1;
    }
    return dropped;
  }

  /** The absolute path of a stored DIR-relative one, or undefined when it is absolute, DIR itself, outside
   * DIR, or in the state folder. */
  private inside(stored: string): string | undefined {
    if (isAbsolute(stored)) return undefined;
    const path = resolve(this.root, stored);
    if (
      !isStrictlyUnder(this.root, path) ||
      isStrictlyUnder(this.stateDir, path) ||
      path === resolve(this.stateDir)
    )
      return undefined;
    return path;
  }

  private fileOf(recordingId: string): string {
    // Recording ids are digits on the platform; encode anything else so an id can never name another path.
    return join(this.dir, `${encodeURIComponent(recordingId).replace(/\./g, "%2E")}${RECORD_SUFFIX}`);
  }
}

function isStrictlyUnder(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
