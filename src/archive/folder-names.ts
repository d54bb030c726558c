import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";

/**
 * The form under which two names are the same file on a case-insensitive or Unicode-normalising file system
 * (macOS, Windows): NFC, lower-cased without a locale. Names are compared this way on every OS, because a DIR
 * written on Linux may be synced to a Mac later, where `Smith.mp3` and `smith.mp3` would be one file.
 */
export function collisionKey(name: string): string {
  return name.normalize("NFC").toLowerCase().normalize("NFC");
}

/** One folder's names by collision key, as the destination spelled them. */
interface Listing {
  objects: ReadonlyMap<string, string>;
  partials: ReadonlyMap<string, string>;
}

/**
 * The names each folder of the destination held when this run first looked into it: one `list` per folder
 * instead of a `stat` per candidate name (two per recording, with the partial, which made a 100 000-record dry
 * run take seconds). Only valid within one run that tracks the names it hands out itself: objects it creates
 * later are not added. Names are matched by `collisionKey`; a folder itself is looked up by its exact name.
 */
export class FolderNames {
  private readonly folders = new Map<string, Promise<Listing>>();

  constructor(private readonly destination: Destination) {}

  /** Whether something was named like `key` (same collision key) in its folder: an object, or a partial still there. */
  async taken(key: RelPath): Promise<boolean> {
    return (await this.occupant(key)) !== undefined;
  }

  /** What holds a name like `key`: an object (with its exact key), a partial still there, or nothing. */
  async occupant(key: RelPath): Promise<{ kind: "object"; key: RelPath } | { kind: "partial" } | undefined> {
    const slash = key.lastIndexOf("/");
    const folder = key.slice(0, Math.max(0, slash));
    const name = collisionKey(key.slice(slash + 1));
    const listing = await this.listingOf(folder);
    const object = listing.objects.get(name);
    if (object !== undefined)
      return { kind: "object", key: relPath(folder === "" ? object : `${folder}/${object}`) };
    const partial = listing.partials.get(name);
    if (partial === undefined) return undefined;
    // A partial from an earlier run counts only while it is still there: a transfer that starts over discards
    // its own partial before it asks for a name, possibly after the folder was read.
    const spelled = relPath(folder === "" ? partial : `${folder}/${partial}`);
    return (await this.destination.partials.held(spelled)) !== undefined ? { kind: "partial" } : undefined;
  }

  private listingOf(folder: string): Promise<Listing> {
    let listing = this.folders.get(folder);
    if (!listing) {
      // The promise is cached before it settles, so concurrent claims share one listing.
      listing = this.destination.list(folder).then((entries) => {
        const objects = new Map<string, string>();
        const partials = new Map<string, string>();
        for (const { name, kind } of entries)
          (kind === "object" ? objects : partials).set(collisionKey(name), name);
        return { objects, partials };
      });
      this.folders.set(folder, listing);
    }
    return listing;
  }
}
