import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type CliResult, spawnCli } from "../../helpers/cli.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { type DownloadEnv, setupDownload, waitFor } from "../download/helpers.js";

// The archive lock through the built CLI, a folder and a bucket alike: one run per archive even when two runs
// share a host name and a pid (two containers on host networking), and a run whose lock was taken from it stops
// instead of writing on beside the new holder. The unit tests (folder-lock, s3-lock) check the rules; these
// check that the CLI lives by them.

const BUCKET_URL = "s3://archive/calls";
const LOCK_KEY = "calls/.rc-recordings/lock.json";
/** As a container without --init runs it: PID 1 of a PID namespace of its own, on this host (same host name). */
const AS_PID_1 = ["unshare", "--pid", "--fork", "--kill-child", "--"] as const;

interface Archives {
  e: DownloadEnv;
  /** The environment of a run into the bucket. */
  s3env: NodeJS.ProcessEnv;
  readBucketLock(): Promise<string | undefined>;
  writeBucketLock(text: string): Promise<void>;
  folderLock: string;
}

/** A folder and a bucket, and recordings that take `seconds` each to arrive (the holder must still be running). */
async function archives(seconds: number): Promise<Archives> {
  const s3 = await s3ServerForTest();
  const bytes = 200_000;
  const e = await setupDownload({
    calls: 2,
    withRecordingRatio: 1,
    transferredCalls: false,
    recordingBytes: bytes,
    faults: { bandwidth: Math.round(bytes / seconds) },
  });
  onTestFinished(() => e.stop());
  return {
    e,
    s3env: { ...e.env, ...s3.env },
    readBucketLock: () => s3.text("archive", LOCK_KEY).catch(() => undefined),
    writeBucketLock: (text) => s3.put("archive", LOCK_KEY, text),
    folderLock: join(e.out, ".rc-recordings", "lock"),
  };
}

const folderRun = (a: Archives, through?: readonly [string, ...string[]]) =>
  spawnCli(["download", "--out", a.e.out], {
    env: a.e.env,
    timeoutMs: 150_000,
    ...(through ? { through } : {}),
  });
const bucketRun = (a: Archives, through?: readonly [string, ...string[]]) =>
  spawnCli(["download", "--out", BUCKET_URL], {
    env: a.s3env,
    timeoutMs: 150_000,
    ...(through ? { through } : {}),
  });

/** A lock as another live run elsewhere would have written it. */
const foreignLock = () =>
  `${JSON.stringify({ pid: 4242, host: "another-host", startedAt: new Date().toISOString(), token: "not-yours" })}\n`;

describe("the archive lock through the CLI", () => {
  it("two runs with one host name and pid 1 each, in two PID namespaces: the second is busy (exit 5), folder and bucket", async () => {
    const a = await archives(8);
    const holders = [folderRun(a, [...AS_PID_1]), bucketRun(a, [...AS_PID_1])];
    await waitFor(() => existsSync(a.folderLock), 30_000, "the folder's lock");
    let bucketLock: string | undefined;
    for (let i = 0; i < 300 && bucketLock === undefined; i++) {
      bucketLock = await a.readBucketLock();
      if (bucketLock === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    for (const lock of [readFileSync(a.folderLock, "utf8"), bucketLock as string]) {
      expect(JSON.parse(lock)).toMatchObject({ pid: 1, host: hostname() });
    }

    const [folder, bucket] = await Promise.all([
      folderRun(a, [...AS_PID_1]).result,
      bucketRun(a, [...AS_PID_1]).result,
    ]);
    for (const second of [folder, bucket]) {
      // Was: "our own pid in another process's lock means that holder died": taken over at once.
      expect(second.code, second.stderr).toBe(5);
      expect(second.stderr).toMatch(/another download is using .*pid 1 on .*in another PID namespace/);
    }
    for (const holder of holders) {
      const done = await holder.result;
      expect(done.code, done.stderr).toBe(0); // and it never had to share
    }
  }, 150_000);

  it("a run whose lock is taken from it stops at its next heartbeat (exit 5) and leaves the new holder's lock", async () => {
    // The heartbeat is every 30 s: the recordings take longer than that.
    const a = await archives(50);
    const folder = folderRun(a);
    const bucket = bucketRun(a);
    await waitFor(() => existsSync(a.folderLock), 30_000, "the folder's lock");
    for (let i = 0; i < 300 && (await a.readBucketLock()) === undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    const taken = foreignLock();
    writeFileSync(a.folderLock, taken);
    await a.writeBucketLock(taken);

    const results: CliResult[] = await Promise.all([folder.result, bucket.result]);
    for (const result of results) {
      expect(result.signal, result.stderr).toBeNull();
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toMatch(
        /the lock on the destination was lost \(.*another run.*\); stopped writing/,
      );
    }
    // Neither removed the lock that is no longer its own.
    expect(readFileSync(a.folderLock, "utf8")).toBe(taken);
    expect(await a.readBucketLock()).toBe(taken);
  }, 150_000);
});
