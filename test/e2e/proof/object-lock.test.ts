import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type S3FaultProxy, type SeenRequest, startS3FaultProxy } from "../../helpers/s3-fault-proxy.js";
import { type S3Server, startS3Server } from "../../helpers/s3-server.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

// WORM on S3 (docs/proof.md): the built CLI against the emulator and a real s3rver behind a recording proxy that
// answers GetObjectLockConfiguration (s3rver knows no Object Lock) and records every request's headers, so the
// lock headers are checked where a store would see them.

const URL = "s3://archive/calls";
const PREFIX = "/archive/calls/";
const DAY_MS = 24 * 60 * 60 * 1000;

let e: DownloadEnv | undefined;
let s3: S3Server | undefined;
let proxy: S3FaultProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  await e?.stop();
  await s3?.stop();
  [e, s3, proxy] = [undefined, undefined, undefined];
});

async function setup(objectLock: "enabled" | "disabled", emulator: Parameters<typeof setupDownload>[0]) {
  s3 = await startS3Server(["archive"]);
  e = await setupDownload(emulator);
  proxy = await startS3FaultProxy(s3.endpoint, { objectLock });
  const env = { ...e.env, ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  const run = (args: readonly string[]) => (e as DownloadEnv).run(args, { env });
  return { e, s3, proxy, run };
}

const LOCK_HEADERS = [
  "x-amz-object-lock-mode",
  "x-amz-object-lock-retain-until-date",
  "x-amz-object-lock-legal-hold",
];

function lockHeadersOf(request: SeenRequest): string[] {
  return LOCK_HEADERS.filter((name) => request.headers[name] !== undefined);
}

/** A request that creates an object (PutObject or CreateMultipartUpload), as opposed to a part or a read. */
function createsObject(request: SeenRequest): boolean {
  if (request.method === "POST") return /[?&]uploads(=|&|$)/.test(request.path);
  return request.method === "PUT" && !/[?&]partNumber=/.test(request.path);
}

/** The key below the prefix a request writes (query left out). */
function keyOf(request: SeenRequest): string {
  return (request.path.split("?")[0] as string).slice(PREFIX.length);
}

describe("download --object-lock-days / --legal-hold (S3 Object Lock)", () => {
  it("every recording and sidecar object carries the retention and legal hold (single PUT and multipart); state and index.csv never", async () => {
    const t = await setup("enabled", {
      calls: 3,
      withRecordingRatio: 1,
      transferredCalls: false,
      // One recording of two parts (CreateMultipartUpload carries the lock), the others single PUTs.
      recordingBytes: (index: number) => (index === 0 ? 9 * 1024 * 1024 : 120_000 + index * 1000),
    });
    const started = Date.now();
    const result = await t.run([
      "download",
      "--out",
      URL,
      "--metadata",
      "--object-lock-days",
      "30",
      "--object-lock-mode",
      "Compliance",
      "--legal-hold",
    ]);
    const ended = Date.now();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Object Lock enabled; every recording is retained 30 days \(COMPLIANCE\)/);

    const writes = t.proxy.requests.filter(createsObject);
    const evidence = writes.filter(
      (r) => !keyOf(r).startsWith(".rc-recordings/") && keyOf(r) !== "index.csv",
    );
    const state = writes.filter((r) => !evidence.includes(r));
    const recordings = t.e.emu.control.recordings();
    // Each recording and its sidecar, once each; the big one through CreateMultipartUpload.
    expect(evidence.length).toBe(recordings.length * 2);
    expect(evidence.filter((r) => r.method === "POST")).toHaveLength(1);
    for (const recording of recordings) {
      expect(evidence.filter((r) => keyOf(r).includes(`_${recording.id}.`))).toHaveLength(2);
    }
    for (const request of evidence) {
      const where = `${request.method} ${request.path}`;
      expect(request.headers["x-amz-object-lock-mode"], where).toBe("COMPLIANCE");
      expect(request.headers["x-amz-object-lock-legal-hold"], where).toBe("ON");
      const until = Date.parse(String(request.headers["x-amz-object-lock-retain-until-date"]));
      expect(until, where).toBeGreaterThanOrEqual(started + 30 * DAY_MS);
      expect(until, where).toBeLessThanOrEqual(ended + 30 * DAY_MS + 1000);
    }
    // The state (manifest, lock, journal, mark) and index.csv stay writable: no lock header, ever.
    expect(state.some((r) => keyOf(r) === "index.csv")).toBe(true);
    expect(state.some((r) => keyOf(r).startsWith(".rc-recordings/manifest/"))).toBe(true);
    expect(state.some((r) => keyOf(r) === ".rc-recordings/lock.json")).toBe(true);
    for (const request of state) expect(lockHeadersOf(request), request.path).toEqual([]);
    // Parts and every other request carry none either.
    const others = t.proxy.requests.filter((r) => !evidence.includes(r));
    for (const request of others) expect(lockHeadersOf(request), request.path).toEqual([]);
    // And every PUT (objects and parts) still carries checksums of the bytes the store received.
    for (const put of t.proxy.puts) {
      expect(put.headers["x-amz-checksum-sha256"], put.path).toBe(put.sha256);
      expect(put.headers["content-md5"], put.path).toBe(Buffer.from(put.md5, "hex").toString("base64"));
    }
    // The objects are all there, byte-exact: verify reads them back.
    const verify = await t.run(["verify", "--out", URL]);
    expect(verify.code, verify.stderr).toBe(0);
  }, 120_000);

  it("governance by default; --legal-hold alone sets only the hold", async () => {
    const t = await setup("enabled", { calls: 2, withRecordingRatio: 1, transferredCalls: false });
    const count = t.e.emu.control.recordings().length;
    const recordingPuts = (prefix: string) =>
      t.proxy.requests.filter((r) => {
        const path = r.path.split("?")[0] as string;
        return (
          createsObject(r) &&
          path.startsWith(`/archive/${prefix}/`) &&
          !path.includes("/.rc-recordings/") &&
          !path.endsWith("/index.csv")
        );
      });
    const retained = await t.run(["download", "--out", URL, "--object-lock-days", "7"]);
    expect(retained.code, retained.stderr).toBe(0);
    expect(recordingPuts("calls")).toHaveLength(count);
    for (const request of recordingPuts("calls")) {
      expect(request.headers["x-amz-object-lock-mode"]).toBe("GOVERNANCE");
      expect(request.headers["x-amz-object-lock-retain-until-date"]).toBeDefined();
      expect(request.headers["x-amz-object-lock-legal-hold"]).toBeUndefined();
    }
    const held = await t.run(["download", "--out", "s3://archive/held", "--legal-hold"]);
    expect(held.code, held.stderr).toBe(0);
    expect(recordingPuts("held")).toHaveLength(count);
    for (const request of recordingPuts("held")) {
      expect(request.headers["x-amz-object-lock-legal-hold"]).toBe("ON");
      expect(request.headers["x-amz-object-lock-mode"]).toBeUndefined();
      expect(request.headers["x-amz-object-lock-retain-until-date"]).toBeUndefined();
    }
  }, 90_000);

  it("a bucket without Object Lock: exit 2, one line naming the fix, before any recording is fetched or written", async () => {
    const t = await setup("disabled", { calls: 3, withRecordingRatio: 1 });
    for (const flags of [["--object-lock-days", "30"], ["--legal-hold"]]) {
      const result = await t.run(["download", "--out", URL, ...flags]);
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        /s3:\/\/archive\/calls\/: --(object-lock-days|legal-hold) needs a bucket with Object Lock enabled.*created with Object Lock \(versioning on\)/,
      );
    }
    expect(t.e.emu.stats.contentRequests).toBe(0);
    expect(t.proxy.requests.filter((r) => r.method === "PUT" || r.method === "POST")).toEqual([]);
  }, 60_000);

  it("the flags need an s3:// destination, and --object-lock-mode needs --object-lock-days (exit 2)", async () => {
    e = await setupDownload({ calls: 1 });
    const folder = await e.download(["--object-lock-days", "5"]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/need an object store with Object Lock \(--out s3:/);
    const hold = await e.download(["--legal-hold"]);
    expect(hold.code).toBe(2);
    const mode = await e.download(["--object-lock-mode", "governance"]);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--object-lock-mode needs --object-lock-days/);
    const bad = await e.download(["--object-lock-mode", "forever", "--object-lock-days", "1"]);
    expect(bad.code).toBe(2);
    const zero = await e.download(["--object-lock-days", "0"]);
    expect(zero.code).toBe(2);
    // The config file takes the options' own names (docs/config.md): here too a folder refuses them.
    const config = join(e.dir, "config.toml");
    writeFileSync(config, '[defaults]\nobject-lock-days = 2557\nobject-lock-mode = "COMPLIANCE"\n');
    const fromFile = await e.download([], { env: { RC_RECORDINGS_CONFIG: config } });
    expect(fromFile.code, fromFile.stderr).toBe(2);
    expect(fromFile.stderr).toMatch(/need an object store with Object Lock/);
    expect(e.emu.stats.contentRequests).toBe(0);
  }, 60_000);
});
