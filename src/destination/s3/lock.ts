import { BusyError } from "../../errors.js";
import {
  HEARTBEAT_MS,
  holderIsAlive,
  type LockHolder,
  newLockHolder,
  parseLockHolder,
  STALE_AFTER_MS,
  signOfLife,
} from "../lock-holder.js";
import type { S3Bucket } from "./bucket.js";

export interface S3Lock {
  release(): Promise<void>;
}

const MAX_TRIES = 5;

/** The object operations a lock needs. */
export type LockStore = Pick<S3Bucket, "head" | "write" | "readText" | "remove">;

/**
 * One run per archive, like the folder lock: `lock.json` in the state folder, created with a conditional write
 * (If-None-Match: *) so that of two runs starting together exactly one wins, on stores that support it. The
 * holder refreshes it every 30 s; a holder on this host whose process is gone, or one on another host silent
 * for 2 minutes, is dead and taken over. A store that ignores the condition (s3rver, older MinIO/Ceph) still
 * stops a second run that starts while the first holds the lock (the lock is checked first and read back),
 * but not two that start within the same moment: docs/s3.md.
 */
export async function acquireS3Lock(
  bucket: LockStore,
  key: string,
  where: string,
  /** Injected in tests (two "processes" in one); default: this process, and the pid/identity check. */
  options: LockOptions = {},
): Promise<S3Lock> {
  const me = newLockHolder(options);
  const body = `${JSON.stringify(me)}\n`;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const existing = await bucket.head(key);
    if (!existing) {
      if (!(await bucket.write(key, body, "application/json", { ifAbsent: true }))) continue;
      if (parseLockHolder((await bucket.readText(key)) ?? "")?.token === me.token)
        return hold(bucket, key, me, body);
      continue; // another run wrote it just after us on a store without conditional writes: it holds it
    }
    const dead = await throwIfHeld(bucket, key, where, existing.modifiedAt, me, options);
    // Remove the dead holder's lock only if it is still that one: another run may have taken it over between
    // our judgement and now, and deleting ITS fresh lock would let both runs go on (the folder lock does the same).
    const now = await bucket.head(key);
    if (now && now.modifiedAt === existing.modifiedAt && (await tokenIn(bucket, key)) === dead)
      await bucket.remove(key);
  }
  throw new BusyError(`could not take the lock ${key} in ${where}: it keeps changing hands`);
}

/**
 * For read-only work (`verify`): the BusyError `acquireS3Lock` would throw while a live download holds the
 * archive, without taking the lock or writing anything. A dead holder's lock counts as free.
 */
export async function assertS3Idle(bucket: LockStore, key: string, where: string, options: LockOptions = {}) {
  const existing = await bucket.head(key);
  if (existing) await throwIfHeld(bucket, key, where, existing.modifiedAt, newLockHolder(options), options);
}

interface LockOptions {
  pid?: number;
  host?: string;
  isAlive?: (holder: LockHolder) => boolean;
}

async function tokenIn(bucket: LockStore, key: string): Promise<string | undefined> {
  return parseLockHolder((await bucket.readText(key)) ?? "")?.token;
}

/**
 * BusyError naming the holder of `key` when it is alive (judged by its content and last write); otherwise the
 * dead holder's token (undefined for an unreadable lock).
 */
async function throwIfHeld(
  bucket: LockStore,
  key: string,
  where: string,
  aliveAt: number,
  me: LockHolder,
  options: LockOptions,
): Promise<string | undefined> {
  const holder = parseLockHolder((await bucket.readText(key)) ?? "");
  if (!holder) return undefined;
  const note = signOfLife({ ...holder, aliveAt }, me, options.isAlive ?? holderIsAlive, STALE_AFTER_MS);
  if (note === undefined) return holder.token;
  throw new BusyError(
    `another download is using ${where}: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${note} (lock: ${key})`,
  );
}

function hold(bucket: LockStore, key: string, me: LockHolder, body: string): S3Lock {
  const ours = async () => (await tokenIn(bucket, key)) === me.token;
  let released = false;
  let beat: Promise<unknown> = Promise.resolve();
  // Rewriting the object moves its LastModified: the heartbeat other hosts judge the holder by.
  const timer = setInterval(() => {
    beat = ours()
      // Checked again right before the write: a beat in flight must not recreate a lock just released.
      .then((mine) => (mine && !released ? bucket.write(key, body, "application/json") : false))
      .catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    release: async () => {
      released = true;
      clearInterval(timer);
      await beat;
      if (await ours()) await bucket.remove(key);
    },
  };
}
