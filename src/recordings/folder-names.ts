import { lstat, readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isNotFound } from "../fs-util.js";

/**
 * The form under which two names are the same file on a case-insensitive or Unicode-normalising file system
 * (macOS, Windows): NFC, lower-cased without a locale. Names are compared this way on every OS, because a DIR
 * written on Linux may be synced to a Mac later, where `Smith.mp3` and `smith.mp3` would be one file.
 */
export function collisionKey(name: string): string {
  return name.normalize("NFC").toLowerCase().normalize("NFC");
}

/**
 * The names each folder held when this run first looked into it: one `readdir` per folder instead of a `stat`
 * per candidate name (two per recording, with the `.part`, which made a 100 000-record dry run take seconds).
 * Only valid within one run that tracks the names it hands out itself: files it creates later are not added.
 * Names are matched by `collisionKey`; a folder itself is looked up by its exact name.
 */
export class FolderNames {
  /** Per folder: collision key → the entry's real name. */
  private readonly folders = new Map<string, Promise<ReadonlyMap<string, string>>>();

  /** Whether an entry named like `path` (same collision key) was in its folder. */
  async has(path: string): Promise<boolean> {
    return (await this.entryLike(path)) !== undefined;
  }

  /** Like `has`, but an entry removed since its folder was read no longer counts (a stat, only for a hit). */
  async stillHas(path: string): Promise<boolean> {
    const entry = await this.entryLike(path);
    if (entry === undefined) return false;
    try {
      await lstat(entry);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The path of the entry that collides with `path`, as the folder spelled it. */
  private async entryLike(path: string): Promise<string | undefined> {
    const folder = dirname(path);
    const name = (await this.namesIn(folder)).get(collisionKey(basename(path)));
    return name === undefined ? undefined : join(folder, name);
  }

  private namesIn(folder: string): Promise<ReadonlyMap<string, string>> {
    let names = this.folders.get(folder);
    if (!names) {
      // The promise is cached before it settles, so concurrent claims share one readdir.
      names = readdir(folder).then(
        (entries) => new Map(entries.map((name) => [collisionKey(name), name])),
        (error: unknown) => {
          if (isNotFound(error)) return new Map<string, string>();
          throw error;
        },
      );
      this.folders.set(folder, names);
    }
    return names;
  }
}
