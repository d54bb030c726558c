import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { LockLostError } from "./errors.js";

/**
 * Who holds a destination's lock (a folder's lock file, a bucket archive's lock object) and whether it is still
 * alive: one set of rules for every kind of destination.
 */

/** Who holds a destination: enough to tell a live holder from a dead one, and to name it in the busy message. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** Unique per acquisition, so a process only ever removes its own lock. */
  token: string;
  /**
   * Random per process: tells this very process (holding the lock already) from a dead one whose pid this
   * process happens to have now.
   */
  process?: string;
  /**
   * Boot id and PID namespace (Linux): a pid means the same process only to a reader in the same namespace. Two
   * containers with one host name (host networking) each have their pid 1; without this, one took the other's
   * live lock at once.
   */
  pidSpace?: string;
  /**
   * Boot id and process start time where the OS tells them (Linux): a pid reused after a reboot or by another
   * program then does not pass for the holder. Absent elsewhere; the pid check alone applies.
   */
  identity?: string;
}

/** How often a holder refreshes its lock, and after how long a silent holder on another host is dead. */
export const HEARTBEAT_MS = 30_000;
export const STALE_AFTER_MS = 120_000;

/** This process's random id (see LockHolder.process). */
const PROCESS_ID = randomBytes(8).toString("hex");
const PID_SPACE = pidSpaceOf();

/** This process as a lock holder, with a fresh token. */
export function newLockHolder(
  options: { host?: string | undefined; pid?: number | undefined } = {},
): LockHolder {
  const pid = options.pid ?? process.pid;
  const identity = processIdentity(pid);
  return {
    pid,
    host: options.host ?? hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
    process: PROCESS_ID,
    ...(identity === undefined ? {} : { identity }),
    ...(PID_SPACE === undefined ? {} : { pidSpace: PID_SPACE }),
  };
}

/**
 * Why the holder counts as alive (a note for the busy message), or undefined when it is dead. `aliveAt`: the
 * holder's last heartbeat (ms).
 */
export function signOfLife(
  holder: LockHolder & { aliveAt: number },
  me: Pick<LockHolder, "pid" | "host" | "process" | "pidSpace">,
  isAlive: (holder: LockHolder) => boolean,
  staleAfterMs: number,
): string | undefined {
  if (holder.host === me.host && holder.pid === me.pid && holder.process !== undefined) {
    // This very process holds it already (another acquisition), or a dead one whose pid we now have.
    if (holder.process === me.process) return "";
  }
  if (holder.host === me.host && samePidSpace(holder, me)) {
    // Our own pid in another process's lock means that holder died and its pid was reused (e.g. containers).
    return holder.pid === me.pid || !isAlive(holder) ? undefined : "";
  }
  const silentMs = Date.now() - holder.aliveAt;
  if (silentMs > staleAfterMs) return undefined;
  const seen = `${new Date(holder.aliveAt).toISOString()}, ${Math.round(silentMs / 1000)} s ago`;
  const where = holder.host === me.host ? "in another PID namespace" : "on another host";
  return ` (${where}, so its pid cannot be checked; last alive ${seen})`;
}

/** Whether a pid in `holder` names a process `me` can check. A lock from before pidSpace existed: assumed. */
function samePidSpace(holder: Pick<LockHolder, "pidSpace">, me: Pick<LockHolder, "pidSpace">): boolean {
  return holder.pidSpace === undefined || me.pidSpace === undefined || holder.pidSpace === me.pidSpace;
}

/** "<boot id>/<pid namespace>" on Linux; undefined where /proc does not tell (no PID namespaces there). */
function pidSpaceOf(): string | undefined {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return `${boot}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return undefined;
  }
}

export function holderIsAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return holder.identity === undefined || processIdentity(holder.pid) === holder.identity;
}

/** "<boot id>:<start time in clock ticks>" of a process on Linux; undefined where /proc does not tell. */
function processIdentity(pid: number): string | undefined {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3; starttime is field 22.
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return startTime ? `${boot}:${startTime}` : undefined;
  } catch {
    return undefined;
  }
}

/** A lock's content, or undefined when it is not one (torn, edited). */
export function parseLockHolder(text: string): LockHolder | undefined {
  let value: Partial<LockHolder>;
  try {
    value = JSON.parse(text) as Partial<LockHolder>;
  } catch {
    return undefined;
  }
  if (typeof value.pid !== "number" || typeof value.host !== "string" || typeof value.token !== "string") {
    return undefined;
  }
  return {
    pid: value.pid,
    host: value.host,
    startedAt: String(value.startedAt ?? "?"),
    token: value.token,
    ...(typeof value.identity === "string" ? { identity: value.identity } : {}),
    ...(typeof value.process === "string" ? { process: value.process } : {}),
    ...(typeof value.pidSpace === "string" ? { pidSpace: value.pidSpace } : {}),
  };
}

/**
 * Whether this run still holds its destination. The heartbeat reports here when the lock is no longer its own
 * (another run replaced it, or the store could not be reached for so long that others may judge it dead); from
 * then on every write of the destination throws LockLostError, whose policy ends the run: two runs never write
 * the same archive, and the one that lost stops itself. The destination's partials and state share one watch.
 */
export class LockWatch {
  private lostWith: LockLostError | undefined;

  lose(why: string): void {
    this.lostWith ??= new LockLostError(why);
  }

  /** Before every write: throws once the lock was lost. */
  check(): void {
    if (this.lostWith) throw this.lostWith;
  }
}
