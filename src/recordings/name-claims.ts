import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import { collisionKey, FolderNames } from "./folder-names.js";
import type { Manifest } from "./manifest.js";
import type { NameTemplate, RecordingItem } from "./types.js";

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
  /** What the destination held before this run; anything the run writes is in `claims`. */
  private readonly existing: FolderNames;

  constructor(
    private readonly template: NameTemplate,
    private readonly manifest: Manifest,
    destination: Destination,
  ) {
    this.existing = new FolderNames(destination);
  }

  /** `contentType` undefined: a dry run, which never asks for content. OutsideDirError for a path that escapes. */
  async claim(item: RecordingItem, contentType: string | undefined): Promise<RelPath> {
    const base = this.template.render(item, contentType);
    for (let n = 1; ; n++) {
      // Guards against a template that escapes DIR even if naming let it through.
      const candidate = relPath(n === 1 ? base : this.template.withSuffix(base, n));
      const key = collisionKey(candidate);
      const holder = this.claims.get(key);
      if (holder === item.recordingId) return candidate;
      if (holder !== undefined) continue;
      const owner = this.manifest.ownerOf(candidate);
      if (owner !== undefined && owner !== item.recordingId) continue;
      this.claims.set(key, item.recordingId);
      if (owner === undefined && (await this.existing.taken(candidate))) {
        this.claims.set(key, TAKEN_ON_DISK);
        continue;
      }
      return candidate;
    }
  }
}
