import { createReadStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileSize, isNotFound, writeFileAtomic } from "../../fs-util.js";
import { absoluteUnder, type RelPath } from "../rel-path.js";
import type { Destination, DestinationLock, ListedEntry, ObjectStat } from "../types.js";
import { acquireFolderLock } from "./folder-lock.js";
import { LocalPartials } from "./partials.js";
import { LocalState } from "./state.js";

/** The folder inside DIR for everything that is not a recording: manifest, state, lock, partial records. */
export const STATE_DIR_NAME = ".rc-recordings";

const PART_SUFFIX = ".part";

/** A local folder (DIR) as a destination: recordings as files, the run's state in `DIR/.rc-recordings/`. */
export class LocalFolder implements Destination {
  readonly root: string;
  readonly stateDir: string;
  readonly partials: LocalPartials;
  readonly state: LocalState;

  constructor(dir: string) {
    this.root = resolve(dir);
    this.stateDir = join(this.root, STATE_DIR_NAME);
    this.partials = new LocalPartials(this.stateDir, STATE_DIR_NAME, (key) => this.absolute(key));
    this.state = new LocalState(this.stateDir);
  }

  describe(): string {
    return this.root;
  }

  async preflight(): Promise<void> {
    // Nothing to check up front: the lock creates the folder, and a dry run writes nothing.
  }

  lock(): Promise<DestinationLock> {
    return acquireFolderLock(this.stateDir);
  }

  /** The absolute path of a key: the one place a key becomes an OS path. */
  absolute(key: RelPath): string {
    return absoluteUnder(this.root, key);
  }

  async stat(key: RelPath): Promise<ObjectStat | undefined> {
    const size = await fileSize(this.absolute(key));
    return size === undefined ? undefined : { size };
  }

  async list(folder: string): Promise<ListedEntry[]> {
    let names: string[];
    try {
      names = await readdir(folder === "" ? this.root : join(this.root, ...folder.split("/")));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const entries: ListedEntry[] = names.map((name) => ({ name, kind: "object" }));
    for (const name of names) {
      if (name.endsWith(PART_SUFFIX) && name.length > PART_SUFFIX.length)
        entries.push({ name: name.slice(0, -PART_SUFFIX.length), kind: "partial" });
    }
    return entries;
  }

  async *read(key: RelPath): AsyncIterable<Uint8Array> {
    for await (const chunk of createReadStream(this.absolute(key))) yield chunk as Buffer;
  }

  async remove(key: RelPath): Promise<void> {
    await rm(this.absolute(key), { force: true });
  }

  async writeSmall(key: RelPath, text: string, _contentType: string): Promise<void> {
    const path = this.absolute(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, text);
  }
}
