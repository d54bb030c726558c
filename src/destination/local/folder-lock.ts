import { link, mkdir, readFile, rmdir, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BusyError } from "../../errors.js";
import { isNotFound } from "../../fs-util.js";
import { sleep } from "../../retry.js";
import {
  HEARTBEAT_MS,
  holderIsAlive,
  type LockHolder,
  type LockWatch,
  newLockHolder,
  parseLockHolder,
  STALE_AFTER_MS,
  signOfLife,
} from "../lock-holder.js";

/** A holder as read from the lock file, with the file's mtime: the holder's last heartbeat. */
interface SeenHolder extends LockHolder {
  aliveAt: number;
}

export interface FolderLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export interface FolderLockOptions {
  /** Injected in tests; default: the pid exists and (where known) is the same process. */
  isAlive?: (holder: LockHolder) => boolean;
  host?: string;
  pid?: number;
  /** How often the holder refreshes the lock file's mtime. Default 30 s. */
  heartbeatMs?: number;
  /** A holder on another host whose heartbeat is older than this is dead. Default 2 min. */
  staleAfterMs?: number;
  /** Told when a heartbeat finds the lock no longer ours. */
  watch?: LockWatch;
}

/** A takeover (check the holder is dead, remove its file) lasts milliseconds; a mutex older than this is debris. */
const TAKEOVER_MUTEX_STALE_MS = 10_000;
const MAX_TRIES = 5;

/**
 * One download per DIR. The lock is a file created atomically (link of a complete temp file) holding pid, host
 * and start time. A second run fails at once with BusyError naming the holder. A run that was killed leaves
 * its file behind; the next run on the same host sees the pid is gone and takes over at once. A process on
 * another host (every Docker container has its own hostname) cannot be checked, so the holder refreshes the
 * file's mtime every `heartbeatMs`, and a foreign holder silent for `staleAfterMs` is dead. The start time
 * cannot decide this: a legitimate run may last hours.
 */
export async function acquireFolderLock(
  stateDir: string,
  options: FolderLockOptions = {},
): Promise<FolderLock> {
  const isAlive = options.isAlive ?? holderIsAlive;
  const me = newLockHolder(options);
  const file = join(stateDir, "lock");
  await mkdir(stateDir, { recursive: true });

  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;

  for (let tries = 0; tries < MAX_TRIES; tries++) {
    if (await createExclusive(file, me)) return holdLock(file, me, options);
    const holder = await readHolder(file);
    if (holder === "gone") continue;
    if (holder !== "unreadable") {
      const aliveNote = signOfLife(holder, me, isAlive, staleAfterMs);
      if (aliveNote !== undefined) throw busy(stateDir, holder, aliveNote);
    }
    await takeOver(file, holder === "unreadable" ? undefined : holder);
  }
  throw new BusyError(`could not take the lock ${file}: it keeps changing hands`);
}

/**
 * For read-only work on a folder (`verify`): throws the same BusyError as `acquireFolderLock` while a live
 * download holds it, without taking the lock or writing anything. A dead holder's lock counts as free.
 */
export async function assertFolderIdle(stateDir: string, options: FolderLockOptions = {}): Promise<void> {
  const holder = await readHolder(join(stateDir, "lock"));
  if (typeof holder !== "object") return;
  const me = newLockHolder(options);
  const note = signOfLife(
    holder,
    me,
    options.isAlive ?? holderIsAlive,
    options.staleAfterMs ?? STALE_AFTER_MS,
  );
  if (note !== undefined) throw busy(stateDir, holder, note);
}

/**
 * Keep the lock file's mtime fresh while we hold it (unref'd: the heartbeat never keeps the process alive). A beat
 * that finds another holder's file, or none, tells the watch: this run no longer holds the folder.
 */
function holdLock(file: string, me: LockHolder, options: FolderLockOptions): FolderLock {
  const beat = async () => {
    if (!(await touchIfOurs(file, me.token))) {
      clearInterval(timer);
      options.watch?.lose(`${file} now belongs to another run, or was removed`);
    }
  };
  const timer = setInterval(() => void beat(), options.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  return {
    holder: me,
    release: async () => {
      clearInterval(timer);
      await releaseIfOurs(file, me.token);
    },
  };
}

/** False when the file is no longer ours (taken over, removed): never revive someone else's. */
async function touchIfOurs(file: string, token: string): Promise<boolean> {
  const holder = await readHolder(file).catch(() => "unreadable" as const);
  if (holder === "unreadable") return true; // a read that failed for now (EIO, EMFILE): judged at the next beat
  if (holder === "gone" || holder.token !== token) return false;
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  return true;
}

function busy(stateDir: string, holder: LockHolder, note: string): BusyError {
  return new BusyError(
    `another download is using this folder: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${note} (lock: ${join(stateDir, "lock")})`,
  );
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

async function readHolder(file: string): Promise<SeenHolder | "gone" | "unreadable"> {
  try {
    const holder = parseLockHolder(await readFile(file, "utf8"));
    const aliveAt = (await stat(file)).mtimeMs;
    return holder ? { ...holder, aliveAt } : "unreadable";
  } catch (error) {
    if (isNotFound(error)) return "gone";
    throw error;
  }
}

/**
 * Remove a dead holder's file. Two runs may find the same dead holder; the mkdir mutex lets one remove it, and
 * re-reading under the mutex keeps anyone from removing a lock that a third run has just created, or one whose
 * holder has just shown a heartbeat.
 */
async function takeOver(file: string, dead: SeenHolder | undefined): Promise<void> {
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
    await sleep(50);
    return;
  }
  try {
    const current = await readHolder(file);
    const sameHolder =
      current === "unreadable"
        ? dead === undefined
        : current !== "gone" && current.token === dead?.token && current.aliveAt === dead.aliveAt;
    if (sameHolder) await unlink(file).catch(() => undefined);
  } finally {
    await rmdir(mutex).catch(() => undefined);
  }
}

async function releaseIfOurs(file: string, token: string): Promise<void> {
  const holder = await readHolder(file);
  if (typeof holder === "object" && holder.token === token) await unlink(file).catch(() => undefined);
}
