import { randomBytes } from "node:crypto";
import { type FileHandle, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Size of a regular file, or undefined when it does not exist. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Make a rename or a new entry in `dir` survive a power loss. Best effort: not every platform allows it. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open directories; the rename itself is still atomic there.
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Replace `path` with `data` so that a crash at any moment leaves either the old or the new content, never a
 * torn file: temp file beside it -> fsync -> rename -> fsync the directory so the rename itself is durable.
 * With `mode`, the file is created with exactly that mode (the umask may narrow it; chmod restores it).
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dir);
}

/**
 * Write every byte of `data` at the handle's position (or append), looping over short writes: a kernel that
 * writes 8 KiB of 17 KiB and reports no error (a filling disk) must never pass for a complete write. Fails loudly
 * (ENOSPC, EDQUOT, EIO, or a write that makes no progress) instead of returning short.
 */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error("ENOSPC: no space left on device, write made no progress"), {
        code: "ENOSPC",
      });
    }
    offset += bytesWritten;
  }
}
