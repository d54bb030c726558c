import { afterEach, describe, expect, it, vi } from "vitest";
import { LockLostError } from "../../../src/auth/refresh-lock.js";
import { SharedLock } from "../../../src/auth/shared-lock.js";
import type { SharedObjects } from "../../../src/auth/store/shared-store.js";

afterEach(() => {
  vi.useRealTimers();
});

/** A store whose lock object is written at once but whose acquisition answers `answerMs` later (a slow read-back). */
function slowLockStore(answerMs: number): SharedObjects {
  const unused = () => Promise.reject(new Error("not used"));
  return {
    where: "s3://tokens/team-a/",
    readText: unused,
    keys: unused,
    exists: unused,
    write: unused,
    remove: unused,
    lock: () =>
      new Promise((resolve) => setTimeout(() => resolve({ release: async () => undefined }), answerMs)),
  };
}

describe("SharedLock's lease", () => {
  it("counts from before the lock object's write, not from when a slow acquisition returned", async () => {
    vi.useFakeTimers();
    const lock = new SharedLock(slowLockStore(50_000), "profiles/default.lock.json", { trustMs: 60_000 });
    const checks: string[] = [];
    const done = lock.withLock(async (lease) => {
      lease.assertHeld(); // 50 s after the write: still within the lease
      checks.push("held at 50 s");
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      // 60 s after the write another machine may be 60 s from judging it dead: no token request now.
      expect(() => lease.assertHeld()).toThrow(LockLostError);
      checks.push("lost at 60 s");
    });
    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    expect(checks).toEqual(["held at 50 s", "lost at 60 s"]);
  });
});
