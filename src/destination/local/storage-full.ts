import { StorageFullError } from "../errors.js";
import { LockWatch } from "../lock-holder.js";

/**
 * The local folder's own translation of a full disk into the destination's typed error (see ../errors.ts): the
 * one place below the seam that reads ENOSPC/EDQUOT. Anything else is passed on unchanged.
 */
export function asStorageFull(error: unknown): unknown {
  if (error instanceof StorageFullError) return error;
  const code = diskFullCode(error);
  if (code === undefined) return error;
  const path = (error as NodeJS.ErrnoException).path;
  return new StorageFullError(`no space left on the disk (${code})${path ? ` writing ${path}` : ""}`, {
    cause: error,
  });
}

/** Codes of a disk that cannot take more bytes (no space, quota): every other write there would fail too. */
const DISK_FULL = new Set(["ENOSPC", "EDQUOT"]);

/** The ENOSPC/EDQUOT code anywhere in an error's cause chain, or undefined. */
function diskFullCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (DISK_FULL.has(code)) return code;
  }
  return undefined;
}

/**
 * Every write of one folder destination goes through here: refused once the run's lock on it was lost
 * (LockLostError), and a full disk raised as StorageFullError.
 */
export class FolderWrites {
  constructor(readonly watch: LockWatch = new LockWatch()) {}

  async run<T>(op: () => Promise<T>): Promise<T> {
    this.watch.check();
    try {
      return await op();
    } catch (error) {
      throw asStorageFull(error);
    }
  }
}
