import { constants } from "node:fs";
import { access, chmod, lstat, mkdir } from "node:fs/promises";
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

/**
 * A store written by rc-recordings is owner-only; one found otherwise (a 0644 copy, a 0777 folder, restored from
 * a backup as another user) is said in one line each, and tightened when this user owns it. A foreign owner is
 * only reported: that account can read or replace the login, and only its owner (or root) can change that.
 */
export async function auditPrivacy(file: string, warn: (line: string) => void): Promise<void> {
  const uid = process.getuid?.();
  if (process.platform === "win32" || uid === undefined) return; // no POSIX modes or owners there
  for (const [path, wanted] of [
    [dirname(file), DIR_MODE],
    [file, FILE_MODE],
  ] as const) {
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isSymbolicLink()) {
      warn(`${path} is a symbolic link; the login is kept wherever it points`);
    } else if (info.uid !== uid) {
      warn(
        `${path} belongs to uid ${info.uid}, not to this user (uid ${uid}): that account can read or replace the login`,
      );
    } else if ((info.mode & 0o077) !== 0) {
      const was = octal(info.mode);
      await chmod(path, wanted).then(
        () => warn(`${path} was open to other users (mode ${was}); tightened to ${octal(wanted)}`),
        (error: unknown) =>
          warn(
            `${path} is open to other users (mode ${was}) and could not be tightened: ${(error as Error).message}`,
          ),
      );
    }
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
