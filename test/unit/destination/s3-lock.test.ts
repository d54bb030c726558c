import { describe, expect, it } from "vitest";
import type { ObjectInfo } from "../../../src/destination/s3/bucket.js";
import { acquireS3Lock, type LockStore } from "../../../src/destination/s3/lock.js";
import { BusyError } from "../../../src/errors.js";

/**
 * The lock's conditional write, which s3rver ignores (the e2e tests cover a store without it): a store that
 * honours If-None-Match, as AWS S3, R2 and MinIO do, kept in memory. Only our own small LockStore seam is
 * faked, never the SDK.
 */
class ConditionalStore implements LockStore {
  readonly objects = new Map<string, { text: string; modifiedAt: number }>();
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
      }
    );
  }

  async write(key: string, body: string | Buffer, _type: string, options: { ifAbsent?: boolean } = {}) {
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (options.ifAbsent && this.objects.has(key)) return false;
    this.objects.set(key, { text: String(body), modifiedAt: Date.now() });
    return true;
  }

  async readText(key: string) {
    return this.objects.get(key)?.text;
  }

  async remove(key: string) {
    this.objects.delete(key);
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
    await store.write(key, JSON.stringify(holder), "application/json");
    await expect(acquireS3Lock(store, key, "s3://b/p/")).rejects.toThrow(
      `another download is using s3://b/p/: pid ${process.ppid} on ${holder.host}, started then`,
    );
  });

  /** A store whose lock a run on another host last refreshed `agoMs` ago. */
  async function heldElsewhere(agoMs: number): Promise<{ store: ConditionalStore; key: string }> {
    const store = new ConditionalStore(0);
    const key = "p/.rc-recordings/lock.json";
    const holder = { pid: 1, host: "elsewhere", token: "old", startedAt: "then" };
    await store.write(key, JSON.stringify(holder), "application/json");
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
});
