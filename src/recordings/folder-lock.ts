import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { BusyError } from "../errors.js";
import { isNotFound } from "./fs-util.js";

/** Who holds a folder: enough to tell a live holder from a dead one, and to name it in the busy message. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** Unique per acquisition, so a process only ever removes its own lock. */
  token: string;
}

export interface FolderLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export interface FolderLockOptions {
  /** Injected in tests; default: signal 0 to the pid. */
  isAlive?: (pid: number) => boolean;
  host?: string;
  pid?: number;
}

/** A takeover (check the holder is dead, remove its file) lasts milliseconds; a mutex older than this is debris. */
const TAKEOVER_MUTEX_STALE_MS = 10_000;
const MAX_TRIES = 5;

/**
 * One download per DIR. The lock is a file created atomically (link of a complete temp file) holding pid, host
 * and start time. A second run fails at once with BusyError naming the holder. A run that was killed leaves
 * its file behind; the next run sees the pid is gone (same host) and takes over at once. Age cannot decide
 * this: a legitimate run may last hours.
 */
export async function acquireFolderLock(
  stateDir: string,
  options: FolderLockOptions = {},
): Promise<FolderLock> {
  const isAlive = options.isAlive ?? processIsAlive;
  const me: LockHolder = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
  };
  const file = join(stateDir, "lock");
  await mkdir(stateDir, { recursive: true });

  for (let tries = 0; tries < MAX_TRIES; tries++) {
    if (await createExclusive(file, me)) return { holder: me, release: () => releaseIfOurs(file, me.token) };
    const holder = await readHolder(file);
    if (holder === "gone") continue;
    if (holder !== "unreadable") {
      if (holder.host !== me.host) throw busy(stateDir, holder, " (cannot check a process on another host)");
      // Our own pid in someone else's lock means that holder died and its pid was reused (e.g. containers).
      const dead = holder.pid === me.pid || !isAlive(holder.pid);
      if (!dead) throw busy(stateDir, holder, "");
    }
    await takeOver(file, holder === "unreadable" ? undefined : holder.token);
  }
  throw new BusyError(`could not take the lock ${file}: it keeps changing hands`);
}

function busy(stateDir: string, holder: LockHolder, note: string): BusyError {
  return new BusyError(
    `another download is using this folder: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${note} (lock: ${join(stateDir, "lock")})`,
  );
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** link() fails if the lock exists, and readers only ever see a complete file. */
async function createExclusive(file: string, holder: LockHolder): Promise<boolean> {
  const temp = `${file}.${holder.token}.tmp`;
  await writeFile(temp, `${JSON.stringify(holder)}\n`);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readHolder(file: string): Promise<LockHolder | "gone" | "unreadable"> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || typeof value.host !== "string" || typeof value.token !== "string") {
      return "unreadable";
    }
    return {
      pid: value.pid,
      host: value.host,
      startedAt: String(value.startedAt ?? "?"),
      token: value.token,
    };
  } catch (error) {
    if (isNotFound(error)) return "gone";
    if (error instanceof SyntaxError) return "unreadable";
    throw error;
  }
}

/**
 * Remove a dead holder's file. Two runs may find the same dead holder; the mkdir mutex lets one remove it, and
 * re-reading under the mutex keeps anyone from removing a lock that a third run has just created.
 */
async function takeOver(file: string, deadToken: string | undefined): Promise<void> {
  const mutex = `${file}.takeover`;
  try {
    await mkdir(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const age = await stat(mutex).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > TAKEOVER_MUTEX_STALE_MS) await rmdir(mutex).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return;
  }
  try {
    const current = await readHolder(file);
    const sameHolder =
      current === "unreadable" ? deadToken === undefined : current !== "gone" && current.token === deadToken;
    if (sameHolder) await unlink(file).catch(() => undefined);
  } finally {
    await rmdir(mutex).catch(() => undefined);
  }
}

async function releaseIfOurs(file: string, token: string): Promise<void> {
  const holder = await readHolder(file);
  if (typeof holder === "object" && holder.token === token) await unlink(file).catch(() => undefined);
}
