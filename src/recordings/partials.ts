import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound, writeFileAtomic } from "../fs-util.js";

/**
 * Where an unfinished transfer is going. The final name depends on `{ext}`, which only the response's
 * Content-Type decides, so a rerun cannot recompute it before asking the server: it looks the path up here by
 * recording id instead, finds `<path>.part` beside it, and resumes with a Range request.
 */
export interface PartialRecord {
  /** Absolute final path; the bytes go to `<path>.part` until verified. */
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

/** One small JSON file per in-progress recording in `<stateDir>/partial/`. */
export class FilePartialJournal implements PartialJournal {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "partial");
  }

  async get(recordingId: string): Promise<PartialRecord | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.fileOf(recordingId), "utf8")) as Partial<PartialRecord>;
      if (typeof parsed.path !== "string" || typeof parsed.contentType !== "string") return undefined;
      return {
        path: parsed.path,
        contentType: parsed.contentType,
        ...(typeof parsed.total === "number" ? { total: parsed.total } : {}),
      };
    } catch (error) {
      // A missing or unreadable record only costs a fresh download.
      if (isNotFound(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  async put(recordingId: string, record: PartialRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.fileOf(recordingId), JSON.stringify(record));
  }

  async remove(recordingId: string): Promise<void> {
    await rm(this.fileOf(recordingId), { force: true });
  }

  private fileOf(recordingId: string): string {
    // Recording ids are digits on the platform; encode anything else so an id can never name another path.
    return join(this.dir, `${encodeURIComponent(recordingId).replace(/\./g, "%2E")}.json`);
  }
}

/** In-memory journal for tests and dry runs. */
export class MemoryPartialJournal implements PartialJournal {
  readonly records = new Map<string, PartialRecord>();

  async get(recordingId: string) {
    return this.records.get(recordingId);
  }

  async put(recordingId: string, record: PartialRecord) {
    this.records.set(recordingId, record);
  }

  async remove(recordingId: string) {
    this.records.delete(recordingId);
  }
}
