import { constants } from "node:fs";
import { type FileHandle, lstat, mkdir, open } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { OperationError } from "../../errors.js";
import { isNotFound } from "../../fs-util.js";

/**
 * Containment against the file system, not just against strings: a path built inside DIR still leads outside
 * when one of its folders is a symbolic link that someone planted (a date folder is predictable from a call's
 * start time, a `{fromName}` folder from a caller's name). Every folder below DIR is created one level at a time
 * and checked with `lstat`; files are opened with O_NOFOLLOW where the platform has it. DIR itself is the user's
 * choice and may be a link.
 */

/** A planted link (or something that is not a folder) where rc-recordings keeps files: nothing is written. */
export class SymlinkRefusedError extends OperationError {
  readonly permanent = false; // removing the link lets a later run succeed
}

/** Open flag: fail on a symbolic link where the platform can tell (Windows cannot: 0). */
export const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Create `folder` (absolute, below `root`) and every missing folder between them, one level at a time, each
 * checked to be a real folder: a symbolic link at any level is refused before anything is written through it.
 */
export async function mkdirInside(root: string, folder: string): Promise<void> {
  let current = root;
  for (const part of componentsBelow(root, folder)) {
    current = join(current, part);
    try {
      await mkdir(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    await expectRealFolder(current);
  }
}

/** Every existing component of `path` below `root` is a real folder or file, none a symbolic link. */
export async function assertNoLinkBelow(root: string, path: string): Promise<void> {
  const link = await firstLinkBelow(root, path);
  if (link !== undefined) throw linkRefused(link);
}

/** Some existing component of `path` below `root` is a symbolic link (what `verify` reports, never follows). */
export async function hasLinkBelow(root: string, path: string): Promise<boolean> {
  return (await firstLinkBelow(root, path)) !== undefined;
}

async function firstLinkBelow(root: string, path: string): Promise<string | undefined> {
  let current = root;
  for (const part of componentsBelow(root, path)) {
    current = join(current, part);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch (error) {
      if (isNotFound(error)) return undefined; // nothing below a missing component exists either
      throw error;
    }
    if (info.isSymbolicLink()) return current;
  }
  return undefined;
}

/** `path` is a real folder (not a link to one); when missing and `create`, it is made. */
export async function expectRealFolder(path: string, options: { create?: boolean } = {}): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (error) {
    if (!isNotFound(error) || !options.create) throw error;
    await mkdir(path, { mode: 0o700 }).catch((mkdirError: NodeJS.ErrnoException) => {
      if (mkdirError.code !== "EEXIST") throw mkdirError;
    });
    return expectRealFolder(path);
  }
  if (info.isSymbolicLink()) throw linkRefused(path);
  if (!info.isDirectory()) throw new SymlinkRefusedError(`refusing ${path}: it is not a folder`);
}

/** Open a file for appending (created if missing) without following a symbolic link planted in its place. */
export async function openAppendNoFollow(path: string): Promise<FileHandle> {
  await refuseLink(path);
  try {
    return await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NO_FOLLOW, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw linkRefused(path);
    throw error;
  }
}

/** A symbolic link at `path` is refused; a missing path is fine. (For platforms without O_NOFOLLOW.) */
export async function refuseLink(path: string): Promise<void> {
  const info = await lstat(path).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (info?.isSymbolicLink()) throw linkRefused(path);
}

function linkRefused(path: string): SymlinkRefusedError {
  return new SymlinkRefusedError(
    `refusing ${path}: it is a symbolic link, and nothing is written outside the output folder`,
  );
}

function componentsBelow(root: string, path: string): string[] {
  const rel = relative(root, path);
  if (rel === "") return [];
  if (rel === ".." || rel.startsWith(`..${sep}`)) {
    throw new OperationError(`refusing a path outside ${root}: ${path}`);
  }
  return rel.split(sep);
}
