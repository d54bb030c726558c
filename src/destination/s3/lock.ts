import { BusyError } from "../../errors.js";
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
import type { S3Bucket } from "./bucket.js";

export interface S3Lock {
  release(): Promise<void>;
}

const MAX_TRIES = 5;
const JSON_TYPE = "application/json";

/**
 * The object operations a lock needs: any store of small objects with conditional writes. Kept this narrow so
 * that another exclusive record (a shared token store) can take the same lock.
 */
export type LockStore = Pick<S3Bucket, "head" | "put" | "readText" | "remove">;

export interface LockOptions {
  /** Injected in tests (two "processes" in one); default: this process. */
  pid?: number;
  host?: string;
  /** Default: the pid exists and (where known) is the same process. */
  isAlive?: (holder: LockHolder) => boolean;
  /** Told when a heartbeat finds the lock no longer ours. */
  watch?: LockWatch;
  heartbeatMs?: number;
  staleAfterMs?: number;
}

/**
 * One run per archive, like the folder lock: an object (`lock.json` in the state folder) holding the holder.
 * Every change is conditional, so no judgement is acted on after it went stale: the lock is created only where
 * none exists (If-None-Match: *), a dead holder's lock is replaced only if it is still that very version
 * (If-Match: its ETag — never a delete followed by a create, which let two runs through when a DELETE was slow),
 * and each heartbeat rewrites only our own version (If-Match), so a run whose lock was taken over learns it at
 * its next beat and stops (LockWatch). A holder whose process is gone (same host and PID namespace), or one
 * silent for 2 minutes, is dead. A store that ignores the conditions (s3rver, older MinIO/Ceph) still stops a
 * run that starts while another holds the lock (the lock is checked first and read back), but not two that start
 * within the same moment: docs/s3.md.
 */
export async function acquireS3Lock(
  bucket: LockStore,
  key: string,
  where: string,
  options: LockOptions = {},
): Promise<S3Lock> {
  const me = newLockHolder(options);
  const body = `${JSON.stringify(me)}\n`;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const existing = await bucket.head(key);
    if (existing) {
      // Throws while the holder is alive; otherwise the dead holder's lock is replaced below.
      await throwIfHeld(bucket, key, where, existing.modifiedAt, me, options);
    }
    const condition = existing?.etag
      ? { ifMatch: existing.etag }
      : existing
        ? undefined
        : { ifAbsent: true as const };
    const { written, etag } = await bucket.put(key, body, JSON_TYPE, condition);
    if (!written) continue;
    // Read back: on a store that ignores conditions another run may have written just after us; it holds it then.
    if ((await tokenIn(bucket, key)) === me.token) return hold(bucket, key, me, body, etag, options);
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

async function tokenIn(bucket: LockStore, key: string): Promise<string | undefined> {
  return parseLockHolder((await bucket.readText(key)) ?? "")?.token;
}

/** BusyError naming the holder of `key` when it is alive (judged by its content and last write). */
async function throwIfHeld(
  bucket: LockStore,
  key: string,
  where: string,
  aliveAt: number,
  me: LockHolder,
  options: LockOptions,
): Promise<void> {
  const holder = parseLockHolder((await bucket.readText(key)) ?? "");
  if (!holder) return;
  const isAlive = options.isAlive ?? holderIsAlive;
  const note = signOfLife({ ...holder, aliveAt }, me, isAlive, options.staleAfterMs ?? STALE_AFTER_MS);
  if (note === undefined) return;
  throw new BusyError(
    `another download is using ${where}: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${note} (lock: ${key})`,
  );
}

/**
 * Refresh the lock every beat (its LastModified is what other hosts judge the holder by), only over our own
 * version. The watch hears when it is no longer ours, or when no beat got through for so long that others may
 * already have judged us dead.
 */
function hold(
  bucket: LockStore,
  key: string,
  me: LockHolder,
  body: string,
  firstEtag: string | undefined,
  options: LockOptions,
): S3Lock {
  let etag = firstEtag;
  let released = false;
  let lastBeat = Date.now();
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  const lose = (why: string) => {
    clearInterval(timer);
    options.watch?.lose(why);
  };
  const beat = async () => {
    try {
      // Read first as well: a store that ignores If-Match would otherwise let us overwrite a new holder.
      if ((await tokenIn(bucket, key)) !== me.token) return lose(`${key} now belongs to another run`);
      if (released) return; // a beat in flight must not recreate a lock just released
      const out = await bucket.put(key, body, JSON_TYPE, etag ? { ifMatch: etag } : undefined);
      if (!out.written) return lose(`${key} was replaced by another run`);
      etag = out.etag;
      lastBeat = Date.now();
    } catch {
      if (Date.now() - lastBeat > staleAfterMs) {
        lose(`could not refresh ${key} for ${Math.round(staleAfterMs / 1000)} s`);
      }
    }
  };
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beat();
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  return {
    release: async () => {
      released = true;
      clearInterval(timer);
      await beating;
      // After Ctrl-C the read fails at once (the process's signal): our own version is then removed by If-Match.
      const mine = await tokenIn(bucket, key).then(
        (token) => token === me.token,
        () => etag !== undefined,
      );
      if (mine) await bucket.remove(key, { ifMatch: etag });
    },
  };
}
