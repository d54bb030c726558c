import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import type { RecordingItem } from "../listing/types.js";
import type { Claim } from "../transfer/types.js";
import { collisionKey, FolderNames } from "./folder-names.js";
import type { Manifest } from "./manifest.js";
import type { NameTemplate } from "./naming.js";

/** The holder of a name that something not written by this run already has. */
const TAKEN_ON_DISK = Symbol("taken on disk");

/**
 * Hands out the key each recording is saved under: the template's path, validated once into a `RelPath`, with a
 * suffix when the name is taken. Its own earlier key (saved, or claimed earlier in this run) is reused; another
 * recording's object, a stranger's, or a name claimed by another recording gets a suffix. A name is claimed
 * before the destination is asked about it, so two concurrent claims never pick the same free name.
 */
export class NameClaims {
  /** Collision key of each key this run handed out → the recording it went to. */
  private readonly claims = new Map<string, string | typeof TAKEN_ON_DISK>();
  /** Names handed out with an `occupant` (collision key → the occupant's key), until refused or adopted. */
  private readonly offered = new Map<string, RelPath>();
  /** What the destination held before this run; anything the run writes is in `claims`. */
  private readonly existing: FolderNames;

  constructor(
    private readonly template: NameTemplate,
    private readonly manifest: Manifest,
    private readonly destination: Destination,
  ) {
    this.existing = new FolderNames(destination);
  }

  /**
   * `contentType` undefined: a dry run, which never asks for content. OutsideDirError for a path that escapes.
   * The collision keys a claim takes are added to `claimed`, so the caller can `release` them later.
   */
  async claim(item: RecordingItem, contentType: string | undefined, claimed?: string[]): Promise<RelPath> {
    return (await this.find(item, contentType, false, claimed)).key;
  }

  /**
   * For a transfer: like `claim`, but a name held by an object nobody accounts for (not in the manifest, not
   * this run's) is handed out with its size as `occupant`, once: it may be this very recording, saved before its
   * manifest line was lost (a DIR copied without its state, a torn line). The transfer adopts it or `refuse`s it.
   */
  async claimForTransfer(item: RecordingItem, contentType: string, claimed?: string[]): Promise<Claim> {
    return this.find(item, contentType, true, claimed);
  }

  /**
   * Whether `key` is a name this recording's naming gives it: its template path for `contentType`, or that path
   * with a collision suffix. A journalled transfer is followed only to such a name, never to a file its journal
   * record was edited (or planted) to name.
   */
  couldName(item: RecordingItem, contentType: string, key: RelPath): boolean {
    const base = this.template.render(item, contentType);
    const wanted = collisionKey(key);
    if (collisionKey(base) === wanted) return true;
    const name = key.slice(key.lastIndexOf("/") + 1);
    for (const [, digits] of name.matchAll(/_(\d{1,9})/g)) {
      if (collisionKey(this.template.withSuffix(base, Number(digits))) === wanted) return true;
    }
    return false;
  }

  /**
   * Forget claims whose recordings are done with (saved ones are the manifest's from now on; the others are
   * free again), so a long run keeps only the claims of what is still in flight.
   */
  release(keys: readonly string[]): void {
    for (const key of keys) {
      this.claims.delete(key);
      this.offered.delete(key);
    }
  }

  /** The occupant of `key` is not this recording: the name stays taken for the rest of the run. */
  refuse(key: RelPath): void {
    this.claims.set(collisionKey(key), TAKEN_ON_DISK);
    this.offered.delete(collisionKey(key));
  }

  private async find(
    item: RecordingItem,
    contentType: string | undefined,
    offerOccupied: boolean,
    claimed: string[] | undefined,
  ): Promise<Claim> {
    // A recording fetched again (a repair) goes back where the manifest has it, whatever the template says now.
    const base = item.again?.path ?? this.template.render(item, contentType);
    for (let n = 1; ; n++) {
      // Guards against a template that escapes DIR even if naming let it through.
      const candidate = relPath(n === 1 ? base : this.template.withSuffix(base, n));
      const key = collisionKey(candidate);
      const holder = this.claims.get(key);
      if (holder === item.recordingId) {
        // Asked again (an attempt failed): a name still held by an unaccounted file is offered as such again, so
        // a retry can never write over it.
        const offered = this.offered.get(key);
        const size = offered === undefined ? undefined : (await this.destination.stat(offered))?.size;
        return offered === undefined || size === undefined
          ? { key: candidate }
          : { key: offered, occupant: { size } };
      }
      if (holder !== undefined) continue;
      const owner = this.manifest.ownerOf(candidate);
      if (owner !== undefined && owner !== item.recordingId) continue;
      this.claims.set(key, item.recordingId);
      claimed?.push(key);
      const occupant = owner === undefined ? await this.existing.occupant(candidate) : undefined;
      if (occupant === undefined) return { key: candidate };
      if (offerOccupied && occupant.kind === "object") {
        const size = (await this.destination.stat(occupant.key))?.size;
        if (size !== undefined) {
          this.offered.set(key, occupant.key);
          return { key: occupant.key, occupant: { size } };
        }
      }
      this.claims.set(key, TAKEN_ON_DISK);
    }
  }
}
