import { constants } from "node:fs";
import { access, stat, statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "../../errors.js";

/**
 * Kernel file systems that look like folders but hold no files of ours: a recursive mkdir below /proc loops
 * forever in Node (ENOENT for every level it makes), and /sys or /dev accept nothing useful either.
 * The numbers are the Linux `statfs` magic numbers (linux/magic.h).
 */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1373, "devfs"],
  [0x64626720, "debugfs"],
  [0x73636673, "securityfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
]);

/**
 * `--out DIR` can be (or become) a folder that recordings are written into: checked once, before any login or
 * network, so a bad value fails in well under a second with one line naming it, never a raw ENOTDIR/EACCES or
 * a loop. Walks up from DIR to the nearest existing folder (the one a run would create DIR in).
 */
export async function assertUsableFolder(out: string): Promise<void> {
  if (out.trim() === "") throw new UsageError('--out is empty: name a folder (e.g. --out "$HOME/calls")');
  const path = resolve(out);
  let existing = path;
  for (;;) {
    const info = await stat(existing).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) {
        throw new UsageError(
          existing === path
            ? `--out ${path} is a file, not a folder`
            : `--out ${path} cannot be a folder: ${existing} is a file`,
        );
      }
      break;
    }
    if (info.code === "EACCES") throw noPermission(path, dirname(existing));
    // ENOENT: not there yet; ENOTDIR: a component above is a file (walking up names it).
    if (info.code !== "ENOENT" && info.code !== "ENOTDIR") {
      throw new UsageError(`--out ${path} cannot be used: ${info.code ?? info.message}`);
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const fs = await statfs(existing).catch(() => undefined);
  const pseudo = fs && PSEUDO_FILE_SYSTEMS.get(Number(fs.type));
  if (pseudo) {
    throw new UsageError(
      `--out ${path} is on the kernel's ${pseudo} file system, which holds no files; name a real folder`,
    );
  }
  // Existing DIR: rc-recordings writes into it; missing: it creates DIR (and its parents) in `existing`.
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw noPermission(path, existing);
  }
}

function noPermission(path: string, folder: string): UsageError {
  return new UsageError(
    folder === path
      ? `--out ${path}: no permission to write in this folder`
      : `--out ${path}: no permission to create it in ${folder}`,
  );
}
