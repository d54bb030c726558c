import { diskFullCode } from "../../fs-util.js";
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
