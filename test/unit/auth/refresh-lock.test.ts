import { mkdirSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockLostError, RefreshLock } from "../../../src/auth/refresh-lock.js";
import { OperationError } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("rcr-lock-");
});
afterEach(() => dir.cleanup());

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RefreshLock", () => {
  it("lets two contenders in one at a time, in either order, and both finish", async () => {
    const target = join(dir.path, "profiles", "default");
    const events: string[] = [];
    const contender = (name: string) =>
      new RefreshLock(target, { pollMs: 5 }).withLock(async () => {
        events.push(`${name} in`);
        await delay(40);
        events.push(`${name} out`);
        return name;
      });
    const results = await Promise.all([contender("a"), contender("b")]);
    expect(results).toEqual(["a", "b"]);
    // No interleaving: every "in" is directly followed by its own "out".
    expect(events).toHaveLength(4);
    expect(events[0]?.split(" ")[0]).toBe(events[1]?.split(" ")[0]);
    expect(events[2]?.split(" ")[0]).toBe(events[3]?.split(" ")[0]);
  });

  it("says once when the wait for a live holder grows long (no silent wait)", async () => {
    const target = join(dir.path, "default");
    const announced: number[] = [];
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const holder = new RefreshLock(target).withLock(
      () =>
        new Promise<void>((r) => {
          release = r;
          held();
        }),
    );
    await holding; // the holder is in (a fixed 20 ms let the waiter win the race on a loaded machine)
    const waiter = new RefreshLock(target, {
      pollMs: 5,
      maxWaitMs: 5_000,
      longWaitMs: 60,
      onLongWait: (max) => announced.push(max),
    }).withLock(async () => "got it");
    await delay(200);
    release();
    await holder;
    expect(await waiter).toBe("got it");
    expect(announced).toEqual([5_000]);
  });

  it("releases the lock when the work throws", async () => {
    const target = join(dir.path, "default");
    const lock = new RefreshLock(target, { pollMs: 5, maxWaitMs: 500 });
    await expect(lock.withLock(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await lock.withLock(async () => "again")).toBe("again");
  });

  it("takes over a stale lock left by a crashed holder", async () => {
    const target = join(dir.path, "default");
    mkdirSync(`${target}.lock`, { recursive: true });
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${target}.lock`, past, past);
    const started = Date.now();
    expect(await new RefreshLock(target, { staleMs: 2_000 }).withLock(async () => "mine")).toBe("mine");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("waits for a live holder and gives up with a clear error after maxWaitMs", async () => {
    const target = join(dir.path, "default");
    mkdirSync(`${target}.lock`, { recursive: true }); // fresh mtime: a live holder
    const error = await new RefreshLock(target, { staleMs: 5_000, maxWaitMs: 150, pollMs: 10 })
      .withLock(async () => "never")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/held the token lock/);
  });

  it("the lease confirms a lock that is still held", async () => {
    const lock = new RefreshLock(join(dir.path, "default"), { staleMs: 2_000 });
    await lock.withLock(async (lease) => {
      await delay(50);
      expect(() => lease.assertHeld()).not.toThrow();
    });
  });

  it("the lease reports the lock lost when proper-lockfile finds it compromised", async () => {
    const target = join(dir.path, "default");
    const error = await new RefreshLock(target, { staleMs: 2_000 })
      .withLock(async (lease) => {
        rmSync(`${target}.lock`, { recursive: true }); // what a takeover by another process looks like
        await delay(1_400); // the heartbeat (every 1 s here) notices
        lease.assertHeld();
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
  });

  it("the lease reports the lock lost after a stall long enough for a takeover, before any timer ran", async () => {
    const error = await new RefreshLock(join(dir.path, "default"), { staleMs: 2_000 })
      .withLock(async (lease) => {
        const until = Date.now() + 1_100; // the event loop is blocked for over half of staleMs
        while (Date.now() < until) {
          // busy wait
        }
        lease.assertHeld();
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
  });
});
