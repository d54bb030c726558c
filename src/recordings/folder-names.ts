import { lstat, readdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { isNotFound } from "../fs-util.js";

/**
 * The names each folder held when this run first looked into it: one `readdir` per folder instead of a `stat`
 * per candidate name (two per recording, with the `.part`, which made a 100 000-record dry run take seconds).
 * Only valid within one run that tracks the names it hands out itself: files it creates later are not added.
 */
export class FolderNames {
  private readonly folders = new Map<string, Promise<ReadonlySet<string>>>();

  /** Whether an entry named like `path` was in its folder. */
  async has(path: string): Promise<boolean> {
    return (await this.namesIn(dirname(path))).has(basename(path));
  }

  /** Like `has`, but an entry removed since its folder was read no longer counts (a stat, only for a hit). */
  async stillHas(path: string): Promise<boolean> {
    if (!(await this.has(path))) return false;
    try {
      await lstat(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private namesIn(folder: string): Promise<ReadonlySet<string>> {
    let names = this.folders.get(folder);
    if (!names) {
      // The promise is cached before it settles, so concurrent claims share one readdir.
      names = readdir(folder).then(
        (entries) => new Set(entries),
        (error: unknown) => {
          if (isNotFound(error)) return new Set<string>();
          throw error;
        },
      );
      this.folders.set(folder, names);
    }
    return names;
  }
}
