import type { Dirent } from "node:fs";
import { constants } from "node:fs";
import { copyFile, mkdir, open, readdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileSize, isNotFound, writeFileAtomic } from "../../fs-util.js";
import { probeName } from "../probe.js";
import { absoluteUnder, isRelPath, quarantineKey, type RelPath, relPath } from "../rel-path.js";
import type {
  Destination,
  DestinationLock,
  ListedEntry,
  ObjectStat,
  QuarantinedCopy,
  SmallObjectRole,
} from "../types.js";
import { assertNoLinkBelow, hasLinkBelow, mkdirInside, refuseLink } from "./contained-fs.js";
import { acquireFolderLock, assertFolderIdle } from "./folder-lock.js";
import { LocalPartials } from "./partials.js";
import { LocalState } from "./state.js";
import { FolderWrites } from "./storage-full.js";

/** The folder inside DIR for everything that is not a recording: manifest, state, lock, partial records. */
export const STATE_DIR_NAME = ".rc-recordings";

const PART_SUFFIX = ".part";
/** Read size of `read`: large enough that a read costs little per byte; two per reader stay cheap. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** A local folder (DIR) as a destination: recordings as files, the run's state in `DIR/.rc-recordings/`. */
export class LocalFolder implements Destination {
  readonly root: string;
  readonly stateDir: string;
  readonly partials: LocalPartials;
  readonly state: LocalState;
  /** Every write below: stopped once the lock is lost, a full disk raised as StorageFullError. */
  private readonly writes = new FolderWrites();
  /** Read buffers of finished reads, for the next ones (see `read`). */
  private readonly spareReadBuffers: Buffer[] = [];

  constructor(dir: string) {
    this.root = resolve(dir);
    this.stateDir = join(this.root, STATE_DIR_NAME);
    this.partials = new LocalPartials(
      this.stateDir,
      STATE_DIR_NAME,
      (key) => this.absolute(key),
      this.writes,
    );
    this.state = new LocalState(this.stateDir, this.writes);
  }

  describe(): string {
    return this.root;
  }

  /**
   * The state folder, when there is one, is a real folder, never a symbolic link: state kept through a planted
   * link would live, and be written, outside DIR. Checked before the lock, which lives inside it (and a dry run,
   * which writes nothing, would still read through it). So is the partials folder: a planted link there is a
   * refused state of the whole folder (exit 1), not a failure of each recording that would journal through it.
   */
  async preflight(): Promise<void> {
    await refuseLink(this.stateDir);
    await refuseLink(this.partials.folder);
  }

  async probeWrite(): Promise<void> {
    await this.preflight();
    const probe = join(this.stateDir, probeName());
    await this.writes.run(async () => {
      await mkdir(this.stateDir, { recursive: true }); // as the run's lock makes it (DIR included)
      await writeFileAtomic(probe, "rc-recordings write probe\n");
    });
    await rm(probe, { force: true });
  }

  lock(): Promise<DestinationLock> {
    return this.writes.run(() => acquireFolderLock(this.stateDir, { watch: this.writes.watch }));
  }

  /** The absolute path of a key: the one place a key becomes an OS path. */
  absolute(key: RelPath): string {
    return absoluteUnder(this.root, key);
  }

  async stat(key: RelPath): Promise<ObjectStat | undefined> {
    const path = this.absolute(key);
    const size = await fileSize(path);
    if (size === undefined) return undefined;
    return (await hasLinkBelow(this.root, path)) ? { size, linked: true } : { size };
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

  /**
   * Two 1 MiB buffers in turn: the next read is in flight while the caller hashes the chunk just read, so reading
   * and hashing overlap (`verify` hashes at disk speed) and memory stays flat however large the file. The buffers
   * go back to the folder when the read ends, for the next file's: a fresh pair per file (2 MiB outside the JS
   * heap, freed only when V8 next collects) left tens of MiB of dead buffers resident during a `verify` of many
   * files.
   */
  async *read(key: RelPath): AsyncIterable<Uint8Array> {
    const handle = await open(this.absolute(key), "r");
    let current = this.readBuffer();
    let spare = this.readBuffer();
    let position = 0;
    let pending = handle.read(current, 0, READ_CHUNK_BYTES, position);
    try {
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) return;
        position += bytesRead;
        const filled = current;
        current = spare;
        spare = filled;
        pending = handle.read(current, 0, READ_CHUNK_BYTES, position);
        yield filled.subarray(0, bytesRead);
      }
    } finally {
      // A caller that stops early leaves a read in flight: let it end before the descriptor closes.
      await pending.catch(() => undefined);
      await handle.close();
      // Two reads at a time (verify's workers) need four; more are spare only after a burst of parallel reads.
      for (const buffer of [current, spare]) {
        if (this.spareReadBuffers.length < 4) this.spareReadBuffers.push(buffer);
      }
    }
  }

  private readBuffer(): Buffer {
    return this.spareReadBuffers.pop() ?? Buffer.allocUnsafe(READ_CHUNK_BYTES);
  }

  /** Regular files below DIR; the state folder, `.part` files and symlinked folders are left out. */
  async *objects(): AsyncIterable<RelPath> {
    const folders: string[] = [""];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      let entries: Dirent[];
      try {
        entries = await readdir(folder === "" ? this.root : join(this.root, ...folder.split("/")), {
          withFileTypes: true,
        });
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      for (const entry of entries) {
        const path = folder === "" ? entry.name : `${folder}/${entry.name}`;
        if (entry.isDirectory()) {
          if (!(folder === "" && entry.name === STATE_DIR_NAME)) folders.push(path);
        } else if (entry.isFile() && !entry.name.endsWith(PART_SUFFIX) && isRelPath(path)) {
          yield relPath(path);
        }
      }
    }
  }

  assertIdle(): Promise<void> {
    return assertFolderIdle(this.stateDir);
  }

  async remove(key: RelPath): Promise<void> {
    const path = this.absolute(key);
    await assertNoLinkBelow(this.root, path); // never delete through a planted link
    await rm(path, { force: true });
  }

  /** Copied, not moved: the recording stays where it is until its repair has replaced it. */
  async quarantine(key: RelPath, folder: string): Promise<QuarantinedCopy> {
    const source = this.absolute(key);
    const copy = quarantineKey(STATE_DIR_NAME, folder, key);
    const target = absoluteUnder(this.root, copy);
    return this.writes.run(async () => {
      await assertNoLinkBelow(this.root, source); // never copy what a planted link points at
      await mkdirInside(this.root, dirname(target));
      await copyFile(source, target, constants.COPYFILE_EXCL);
      return { key: copy, where: target };
    });
  }

  writeSmall(key: RelPath, text: string, _contentType: string, _role: SmallObjectRole): Promise<void> {
    const path = this.absolute(key);
    return this.writes.run(async () => {
      // Created one level at a time, each a real folder: a recording's folder may have been swapped for a link
      // since it was saved.
      await mkdirInside(this.root, dirname(path));
      await writeFileAtomic(path, text);
    });
  }
}
