import { constants } from "node:fs";
import { access, chmod, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../fs-util.js";

/** Owner-only: the store holds secrets (or, for the keychain store, the ciphertext of them). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Create the store's directory owner-only (and tighten it if it already exists). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Whether a store file could be written into `dir` now (created owner-only if missing). */
export async function checkPrivateDirWritable(dir: string): Promise<void> {
  await ensurePrivateDir(dir);
  await access(dir, constants.W_OK);
}

/**
 * Atomically replace a store file, owner-only in an owner-only folder: a crash never leaves a torn store (a
 * corrupt token is one of the seed causes of OAU-213), and no other user can read it at any moment.
 */
export async function writePrivateFileAtomic(path: string, data: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  await writeFileAtomic(path, data, { mode: FILE_MODE });
}
