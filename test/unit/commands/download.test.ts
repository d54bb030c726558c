import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/errors.js";
import { login } from "../../emulator/harness.js";
import { type Emulator, start } from "../../emulator/index.js";
import { tempDir } from "../../helpers/cli.js";
import { type S3Server, startS3Server } from "../../helpers/s3-server.js";
import { fixedToken, run } from "./harness.js";

let emu: Emulator;
let token: string;
/** A second user of the account (a pool's second profile). */
let secondToken: string;
const SECOND_JWT = "eyJzZWNvbmQtdXNlciJ9.eyJzdWIiOiJvcHMyIn0.c2lnbmF0dXJl";
let dir: { path: string; cleanup: () => void };
beforeAll(async () => {
  emu = await start({
    calls: 12,
    rateLimits: false,
    transferredCalls: false,
    recordingBytes: 2_000,
    users: [{ jwt: SECOND_JWT, ownerId: "62264425022" }],
  });
  token = (await login(emu)).access_token;
  secondToken = (await login(emu, { assertion: SECOND_JWT })).access_token;
});
afterAll(() => emu.stop());
beforeEach(() => {
  dir = tempDir("rcr-download-cmd-");
  emu.control.resetStats();
});
afterEach(() => dir.cleanup());

const SUMMARY_FIELDS = [
  "bytes",
  "chainHead",
  "command",
  "complete",
  "downloaded",
  "durationMs",
  "endedAt",
  "exitCode",
  "failed",
  "failures",
  "listed",
  "olderRecordings", // a first run: what it leaves to retention
  "out",
  "profile",
  "remaining",
  "schema",
  "skipped",
  "startedAt",
];

const download = (...args: string[]) =>
  run(["--json", "download", "--out", dir.path, ...args], { tokens: fixedToken(emu.server, token) });

describe("download", () => {
  it("saves every recording and prints the documented JSON summary", async () => {
    const r = await download();
    expect(r.code).toBe(ExitCode.ok);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(SUMMARY_FIELDS);
    const recordings = emu.control.recordings();
    expect(summary).toMatchObject({ listed: recordings.length, downloaded: recordings.length, failed: 0 });
    const manifest = readFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { path: string; sha256: string; record?: string })
      .filter((line) => line.record === undefined); // the chain's start is no recording
    expect(manifest).toHaveLength(recordings.length);
    for (const entry of manifest) {
      const bytes = readFileSync(join(dir.path, entry.path));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256);
    }
    expect(r.asked).toEqual(["destination", "lanes:default", "apiOver", "apiOver"]);
  });

  it("a second run skips everything: zero content requests", async () => {
    await download();
    emu.control.resetStats();
    const again = await download();
    expect(again.code).toBe(ExitCode.ok);
    const summary = JSON.parse(again.stdout) as { listed: number; skipped: number; downloaded: number };
    expect(summary.downloaded).toBe(0);
    expect(summary.skipped).toBe(summary.listed); // the incremental overlap re-lists, the manifest skips
    expect(emu.stats.contentRequests).toBe(0);
  });

  it("--dry-run --json lists the planned paths in the same document and writes nothing", async () => {
    const r = await download("--dry-run");
    expect(r.code).toBe(ExitCode.ok);
    const json = JSON.parse(r.stdout) as { planned: string[]; downloaded: number };
    expect(json.planned).toHaveLength(emu.control.recordings().length);
    expect(json.downloaded).toBe(0);
    expect(existsSync(join(dir.path, ".rc-recordings"))).toBe(false);
    expect(emu.stats.contentRequests).toBe(0);
  });

  it("--quiet prints nothing on stderr for a clean run; the default prints one line per saved file", async () => {
    const quiet = await run(["--quiet", "download", "--out", dir.path], {
      tokens: fixedToken(emu.server, token),
    });
    expect(quiet.code).toBe(ExitCode.ok);
    expect(quiet.stderr).toEqual([]);
    const other = tempDir("rcr-download-cmd-");
    try {
      const normal = await run(["download", "--out", other.path], { tokens: fixedToken(emu.server, token) });
      expect(normal.stderr.filter((line) => line.startsWith("saved "))).toHaveLength(
        emu.control.recordings().length,
      );
    } finally {
      other.cleanup();
    }
  });

  it("--max-duration takes 30s/55m/1h30m/1d12h; anything else is exit 2 before any request", async () => {
    for (const bad of ["55", "30m1h", "0m", "1.5h"]) {
      const r = await download("--max-duration", bad);
      expect(r.code, bad).toBe(ExitCode.usage);
      expect(r.stderr.join("\n")).toContain("--max-duration");
    }
    expect(emu.stats.requestsByGroup.heavy).toBe(0);
    const r = await download("--max-duration", "1d12h");
    expect(r.code).toBe(ExitCode.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ complete: true, remaining: 0 });
  });

  it("several --profile make a pool: one lane each, checked, and named in the summary", async () => {
    const r = await run(["--json", "--profile", "a", "--profile", "b", "download", "--out", dir.path], {
      tokens: fixedToken(emu.server, token),
      profileTokens: { b: fixedToken(emu.server, secondToken) },
    });
    expect(r.code, r.stderr.join("\n")).toBe(ExitCode.ok);
    expect(r.asked.slice(0, 2)).toEqual(["destination", "lanes:a,b"]);
    const summary = JSON.parse(r.stdout) as { profiles: unknown[]; downloaded: number };
    expect(summary.profiles).toEqual([
      { name: "a", downloaded: expect.any(Number), error: null },
      { name: "b", downloaded: expect.any(Number), error: null },
    ]);
    // One Light extension-info call per profile proves each login before any content request; a first run
    // reads the account's retention once (Light too).
    expect(emu.stats.requestsByGroup.light).toBe(3);
  });

  it("a profile given twice, or several for another command, is exit 2", async () => {
    const twice = await run(["--profile", "a", "--profile", "a", "download", "--out", dir.path], {
      tokens: fixedToken(emu.server, token),
    });
    expect(twice.code).toBe(ExitCode.usage);
    expect(twice.stderr.join("\n")).toContain("given twice");
    const status = await run(["--profile", "a", "--profile", "b", "token", "status"]);
    expect(status.code).toBe(ExitCode.usage);
  });
});

describe("download --extension", () => {
  it("keeps only that extension's recordings and records its number and name in the manifest", async () => {
    const listed = new Set(emu.control.directory().map((x) => x.id));
    const some = emu.control.recordings().find((x) => listed.has(x.extension.id))?.extension;
    if (!some) throw new Error("no recording of a listed extension");
    const r = await download("--extension", some.extensionNumber);
    expect(r.code).toBe(ExitCode.ok);
    const wanted = emu.control.recordings().filter((x) => x.extension.id === some.id);
    expect((JSON.parse(r.stdout) as { downloaded: number }).downloaded).toBe(wanted.length);
    const entries = readFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map(
        (line) => JSON.parse(line) as { extensionNumber?: string; extensionName?: string; record?: string },
      )
      .filter((line) => line.record === undefined);
    expect(entries).toHaveLength(wanted.length);
    for (const m of entries)
      expect([m.extensionNumber, m.extensionName]).toEqual([some.extensionNumber, some.name]);
    expect(existsSync(join(dir.path, "index.csv"))).toBe(true);
  });

  it("is bad input (exit 2) with --scope extension, for a non-number, and for a number the directory lacks", async () => {
    const scoped = await download("--extension", "102", "--scope", "extension");
    expect(scoped.code).toBe(ExitCode.usage);
    expect(scoped.asked).toEqual([]); // refused before any service is asked for
    expect((await download("--extension", "sales")).code).toBe(ExitCode.usage);
    const unknown = await download("--extension", "999");
    expect(unknown.code).toBe(ExitCode.usage);
    expect(unknown.stderr.join("\n")).toContain("--extension 999");
    expect(emu.stats.callLogRequests).toBe(0);
  });
});

describe("download --out s3://", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server(["archive"]);
  });
  afterAll(() => s3?.stop());

  const toBucket = (out: string, ...args: string[]) =>
    run(["--json", "download", "--out", out, ...args], {
      tokens: fixedToken(emu.server, token),
      env: s3.env,
    });

  it("archives into the bucket and prints the same JSON summary", async () => {
    const r = await toBucket("s3://archive/unit");
    expect(r.code, r.stderr.join("\n")).toBe(ExitCode.ok);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(SUMMARY_FIELDS);
    const recordings = emu.control.recordings();
    expect(summary).toMatchObject({ downloaded: recordings.length, failed: 0 });
    const keys = [...(await s3.objects("archive")).keys()].filter(
      (k) => !k.includes(".rc-recordings/") && k !== "unit/index.csv",
    );
    expect(keys).toHaveLength(recordings.length);
    expect(keys.every((k) => k.startsWith("unit/"))).toBe(true);
  });

  it("a malformed URL is a usage error before any other service is asked for", async () => {
    const r = await toBucket("s3://Not_A_Bucket");
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toContain("not a valid bucket name");
    expect(r.asked).toEqual(["destination"]);
  });

  it("a missing bucket: exit 1, one line, no content request", async () => {
    const r = await toBucket("s3://no-such-bucket/x");
    expect(r.code).toBe(ExitCode.error);
    expect(r.stderr).toEqual(["rc-recordings: s3://no-such-bucket: cannot use the bucket: no such bucket"]);
    expect(emu.stats.contentRequests).toBe(0);
  });
});
