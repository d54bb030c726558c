import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LockLostError } from "../../../src/destination/errors.js";
import { acquireFolderLock } from "../../../src/destination/local/folder-lock.js";
import { LockWatch } from "../../../src/destination/lock-holder.js";
import { BusyError } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-lock-");
});
afterEach(() => dir.cleanup());

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("acquireFolderLock", () => {
  it("refuses a second holder at once, naming the first", async () => {
    const first = await acquireFolderLock(dir.path);
    const error = await acquireFolderLock(dir.path, { pid: process.pid + 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusyError);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    expect((error as Error).message).toContain(first.holder.host);
    expect((error as Error).message).toContain(first.holder.startedAt);
    await first.release();
    const again = await acquireFolderLock(dir.path);
    await again.release();
  });

  it("takes over at once from a holder that died", async () => {
    const pid = deadPid();
    const stale = await acquireFolderLock(dir.path, { pid });
    const lock = await acquireFolderLock(dir.path);
    expect(lock.holder.pid).toBe(process.pid);
    await stale.release(); // the dead holder's release must not remove the new lock
    expect(existsSync(join(dir.path, "lock"))).toBe(true);
    await lock.release();
    expect(existsSync(join(dir.path, "lock"))).toBe(false);
  });

  it("treats a holder on another host as busy (its pid cannot be checked)", async () => {
    await acquireFolderLock(dir.path, { host: "elsewhere", pid: deadPid() });
    await expect(acquireFolderLock(dir.path)).rejects.toThrow(/elsewhere.*another host/);
  });

  it("takes over from a holder on another host whose heartbeat stopped (a killed container)", async () => {
    await acquireFolderLock(dir.path, { host: "container-1", pid: 1 });
    const threeMinutesAgo = new Date(Date.now() - 180_000);
    utimesSync(join(dir.path, "lock"), threeMinutesAgo, threeMinutesAgo);
    const lock = await acquireFolderLock(dir.path, { host: "container-2", pid: 1 });
    expect(lock.holder.host).toBe("container-2");
    await lock.release();
  });

  it("says when a holder on another host was last alive", async () => {
    await acquireFolderLock(dir.path, { host: "container-1", pid: 1 });
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(join(dir.path, "lock"), aMinuteAgo, aMinuteAgo);
    const error = await acquireFolderLock(dir.path, { host: "container-2", pid: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusyError);
    expect((error as Error).message).toMatch(/pid 1 on container-1.*last alive .*, 60 s ago/);
  });

  it("keeps its own heartbeat while held, and stops it on release", async () => {
    const lock = await acquireFolderLock(dir.path, { heartbeatMs: 20 });
    const file = join(dir.path, "lock");
    const longAgo = new Date(Date.now() - 600_000);
    utimesSync(file, longAgo, longAgo);
    await vi.waitFor(() => expect(Date.now() - statSync(file).mtimeMs).toBeLessThan(5_000), {
      timeout: 10_000,
    });
    await lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it("replaces an unreadable lock file with its own holder, and removes it on release", async () => {
    writeFileSync(join(dir.path, "lock"), "garbage");
    const lock = await acquireFolderLock(dir.path);
    const written = JSON.parse(readFileSync(join(dir.path, "lock"), "utf8")) as {
      pid: number;
      token: string;
    };
    expect(written.pid).toBe(process.pid);
    expect(written.token).toBe(lock.holder.token);
    await lock.release();
    expect(existsSync(join(dir.path, "lock"))).toBe(false);
  });

  it("lets exactly one of several racing takers win over a dead holder", async () => {
    await acquireFolderLock(dir.path, { pid: deadPid() });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((n) =>
        acquireFolderLock(dir.path, { pid: 900_000 + n, isAlive: (h) => h.pid >= 900_000 }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it.runIf(process.platform === "linux")("does not mistake a reused pid for the holder", async () => {
    // The parent process is alive, but it is not the process that wrote this lock.
    writeFileSync(
      join(dir.path, "lock"),
      JSON.stringify({
        pid: process.ppid,
        host: hostname(),
        startedAt: "then",
        token: "old",
        identity: "x:1",
      }),
    );
    const lock = await acquireFolderLock(dir.path);
    expect(lock.holder.identity).toMatch(/^[0-9a-f-]+:\d+$/);
    await lock.release();
  });

  it.runIf(process.platform === "linux")(
    "still sees a live holder with the right identity as busy",
    async () => {
      const first = await acquireFolderLock(dir.path, { pid: process.ppid });
      await expect(acquireFolderLock(dir.path)).rejects.toBeInstanceOf(BusyError);
      await first.release();
    },
  );

  it("a live holder with this host name and pid in another PID namespace keeps its lock", async () => {
    // Two containers on host networking: one host name, both pid N, each in its own PID namespace.
    writeFileSync(
      join(dir.path, "lock"),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        startedAt: "then",
        token: "theirs",
        process: "another-process",
        pidSpace: "another-boot/pid:[1]",
      }),
    );
    await expect(acquireFolderLock(dir.path)).rejects.toThrow(/in another PID namespace.*last alive/);
  });

  it("a heartbeat that finds the lock taken over stops every later write (LockLostError)", async () => {
    const watch = new LockWatch();
    const lock = await acquireFolderLock(dir.path, { watch, heartbeatMs: 10 });
    writeFileSync(
      join(dir.path, "lock"),
      JSON.stringify({ pid: 1, host: "x", startedAt: "now", token: "usurper" }),
    );
    await vi.waitFor(() => expect(() => watch.check()).toThrow(LockLostError), { timeout: 5_000 });
    await lock.release();
    expect(readFileSync(join(dir.path, "lock"), "utf8")).toContain("usurper"); // never removes another's lock
  });
});
