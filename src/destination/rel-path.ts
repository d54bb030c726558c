import { isAbsolute, relative, resolve, sep } from "node:path";
import { OperationError } from "../errors.js";

/**
 * The one containment module. A recording's path is a `RelPath` from the moment a name is claimed until it is
 * written to the manifest: "/"-separated, relative to the destination's root, never empty, never absolute, never
 * climbing out with `..`. Only `relPath` makes one, so a value of this type has been checked.
 */
export type RelPath = string & { readonly __relPath: unique symbol };

/**
 * A path that would leave the destination (a bug, or a tampered state file). It fails the recording; retrying
 * cannot help.
 */
export class OutsideDirError extends OperationError {
  readonly permanent = true;
}

/** Validate a "/"-separated relative path; OutsideDirError when it is empty, absolute or would climb out. */
export function relPath(text: string): RelPath {
  if (!isRelPath(text)) throw new OutsideDirError(`refusing a path outside the destination: ${text}`);
  return text as RelPath;
}

export function isRelPath(text: string): boolean {
  if (text === "" || text.startsWith("/") || text.includes("\\") || /^[A-Za-z]:/.test(text)) return false;
  return text.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

/** Strictly below `root` (not `root` itself), for absolute OS paths. */
export function isStrictlyBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The absolute OS path of `key` under `root` (checked again against the resolved path). */
export function absoluteUnder(root: string, key: RelPath): string {
  const base = resolve(root);
  const absolute = resolve(base, ...key.split("/"));
  if (!isStrictlyBelow(base, absolute)) throw new OutsideDirError(`refusing a path outside ${base}: ${key}`);
  return absolute;
}

/**
 * Where a repair keeps a changed recording aside (Destination.quarantine), relative to the root: below the tool's
 * state folder `stateFolder`, in a folder per repair run (`stamp`: one component, a time stamp).
 */
export function quarantineKey(stateFolder: string, stamp: string, key: RelPath): RelPath {
  if (!/^[0-9A-Za-z-]+$/.test(stamp))
    throw new OutsideDirError(`refusing a quarantine folder named ${stamp}`);
  return relPath(`${stateFolder}/quarantine/${stamp}/${key}`);
}
