import { describe, expect, it, vi } from "vitest";
import { LockLostError } from "../../../src/destination/errors.js";
import { LockWatch } from "../../../src/destination/lock-holder.js";
import type { ObjectInfo, WriteCondition } from "../../../src/destination/s3/bucket.js";
import { acquireS3Lock, type LockStore } from "../../../src/destination/s3/lock.js";
import { BusyError, endsRun, exitCodeOf } from "../../../src/errors.js";

/**
 * The lock's conditional write, which s3rver ignores (the e2e tests cover a store without it): a store that
 * honours If-None-Match, as AWS S3, R2 and MinIO do, kept in memory. Only our own small LockStore seam is
 * faked, never the SDK.
 */
class ConditionalStore implements LockStore {
  readonly objects = new Map<string, { text: string; modifiedAt: number; etag: string }>();
  private versions = 0;
  /** Every write waits this long first, so that two runs really race. */
  constructor(private readonly latencyMs = 5) {}

  async head(key: string): Promise<ObjectInfo | undefined> {
    const object = this.objects.get(key);
    return (
      object && {
        size: object.text.length,
        modifiedAt: object.modifiedAt,
        contentType: undefined,
        metadata: {},
        etag: object.etag,
      }
    );
  }

  async put(key: string, body: string | Buffer, _type: string, condition?: WriteCondition) {
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const current = this.objects.get(key);
    if (condition && "ifAbsent" in condition && current) return { written: false };
    if (condition && "ifMatch" in condition && current?.etag !== condition.ifMatch) return { written: false };
    this.versions += 1;
    const etag = `"v${this.versions}"`;
    this.objects.set(key, { text: String(body), modifiedAt: Date.now(), etag });
    return { written: true, etag };
  }

  async readText(key: string) {
    return this.objects.get(key)?.text;
  }

  async remove(key: string, options: { ifMatch?: string | undefined } = {}) {
    if (options.ifMatch !== undefined && this.objects.get(key)?.etag !== options.ifMatch) return false;
    this.objects.delete(key);
    return true;
  }
}

describe("S3 lock with conditional writes", () => {
  it("of two runs that start at the same moment, exactly one gets the lock", async () => {
    const store = new ConditionalStore();
    // Two "processes" on one host, both alive: the same store, the lock taken twice at once.
    const as = (pid: number) => ({ pid, host: "h", isAlive: () => true });
    const results = await Promise.allSettled([
      acquireS3Lock(store, "p/.rc-recordings/lock.json", "s3://b/p/", as(111)),
      acquireS3Lock(store, "p/.rc-recordings/lock.json", "s3://b/p/", as(222)),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    // The loser saw the winner's lock object: either busy at once or after the conditional write failed.
    expect(lost?.reason).toBeInstanceOf(BusyError);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect(store.objects.size).toBe(0);
  });

  it("a held lock makes the next run busy and names the holder", async () => {
    const store = new ConditionalStore(0);
    const key = "p/.rc-recordings/lock.json";
    const holder = {
      pid: process.ppid,
      host: (await import("node:os")).hostname(),
      token: "x",
      startedAt: "then",
    };
    await store.put(key, JSON.stringify(holder), "application/json");
    await expect(acquireS3Lock(store, key, "s3://b/p/")).rejects.toThrow(
      `another download is using s3://b/p/: pid ${process.ppid} on ${holder.host}, started then`,
    );
  });

  /** A store whose lock a run on another host last refreshed `agoMs` ago. */
  async function heldElsewhere(agoMs: number): Promise<{ store: ConditionalStore; key: string }> {
    const store = new ConditionalStore(0);
    const key = "p/.rc-recordings/lock.json";
    const holder = { pid: 1, host: "elsewhere", token: "old", startedAt: "then" };
    await store.put(key, JSON.stringify(holder), "application/json");
    (store.objects.get(key) as { modifiedAt: number }).modifiedAt = Date.now() - agoMs;
    return { store, key };
  }

  it("a holder on another host silent for more than 2 minutes is taken over", async () => {
    const { store, key } = await heldElsewhere(3 * 60_000);
    const lock = await acquireS3Lock(store, key, "s3://b/p/");
    expect(JSON.parse((await store.readText(key)) ?? "{}")).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it("a holder on another host that was alive a minute ago keeps it", async () => {
    const { store, key } = await heldElsewhere(60_000);
    await expect(acquireS3Lock(store, key, "s3://b/p/")).rejects.toThrow(/on another host.*last alive/);
  });

  it("of two runs that find the same dead holder, exactly one replaces it (a conditional write, no delete)", async () => {
    const store = new ConditionalStore(5);
    const key = "p/.rc-recordings/lock.json";
    await store.put(key, JSON.stringify({ pid: 1, host: "h", token: "dead", startedAt: "then" }), "x");
    const as = (pid: number) => ({ pid, host: "h", isAlive: (h: { pid: number }) => h.pid !== 1 });
    const results = await Promise.allSettled([
      acquireS3Lock(store, key, "s3://b/p/", as(111)),
      acquireS3Lock(store, key, "s3://b/p/", as(222)),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(
      BusyError,
    );
  });

  it("a live holder with this host name and pid in another PID namespace keeps its lock", async () => {
    const store = new ConditionalStore(0);
    const key = "p/.rc-recordings/lock.json";
    const { hostname } = await import("node:os");
    // Two containers on host networking: the same host name, both pid N, each in its own PID namespace.
    const holder = {
      pid: process.pid,
      host: hostname(),
      token: "theirs",
      startedAt: "then",
      process: "another-process",
      pidSpace: "another-boot/pid:[1]",
    };
    await store.put(key, JSON.stringify(holder), "application/json");
    await expect(acquireS3Lock(store, key, "s3://b/p/")).rejects.toThrow(
      /in another PID namespace.*last alive/,
    );
  });

  it("a heartbeat that finds the lock taken over stops the run: every later write throws LockLostError", async () => {
    const store = new ConditionalStore(0);
    const key = "p/.rc-recordings/lock.json";
    const watch = new LockWatch();
    const lock = await acquireS3Lock(store, key, "s3://b/p/", { watch, heartbeatMs: 10 });
    expect(() => watch.check()).not.toThrow();
    await store.put(key, JSON.stringify({ pid: 2, host: "x", token: "usurper", startedAt: "now" }), "x");
    await vi.waitFor(() => expect(() => watch.check()).toThrow(LockLostError), { timeout: 5_000 });
    const lost = (() => {
      try {
        watch.check();
      } catch (error) {
        return error;
      }
    })();
    expect(endsRun(lost)).toBe(true);
    expect(exitCodeOf(lost)).toBe(5);
    await lock.release();
    // Release never removes the other run's lock.
    expect(JSON.parse((await store.readText(key)) ?? "{}")).toMatchObject({ token: "usurper" });
  });
});
