import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newLockHolder } from "../../../src/destination/lock-holder.js";
import type { CliResult } from "../../helpers/cli.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

// Cron runs the job with no terminal, no D-Bus and stdout appended to a file: whatever happens, `--json` must
// leave exactly one object there, with the exit code, the times, the profile and the folder.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Exactly one JSON object on stdout, with the envelope every result carries. */
function theResult(r: CliResult, command: string): Record<string, unknown> {
  const lines = r.stdout.split("\n").filter((line) => line !== "");
  expect(lines, r.stderr).toHaveLength(1);
  const result = JSON.parse(lines[0] as string) as Record<string, unknown>;
  expect(result).toMatchObject({ schema: 1, command, exitCode: r.code });
  expect(result.startedAt).toMatch(ISO);
  expect(result.endedAt).toMatch(ISO);
  expect(Date.parse(result.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(result.startedAt as string));
  if (r.code === 0) expect(result).not.toHaveProperty("error");
  else expect(result.error).toEqual(expect.any(String));
  return result;
}

describe("--json prints one result on every exit", () => {
  it("download: success (0), bad usage (2, from commander and from the command), login needed (4), busy (5), error (1)", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const ok = await e.download(["--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(theResult(ok, "download")).toMatchObject({ profile: "default", out: e.out, downloaded: 3 });

    const unknownFlag = await e.run(["--json", "download", "--out", e.out, "--bogus"]);
    expect(unknownFlag.code).toBe(2);
    expect(theResult(unknownFlag, "download")).toMatchObject({
      out: e.out,
      error: "unknown option '--bogus'",
    });

    const badFrom = await e.download(["--json", "--from", "the day before yesterday"]);
    expect(badFrom.code).toBe(2);
    expect(theResult(badFrom, "download").error).toMatch(/--from/);

    const nobody = await e.run(["--json", "--profile", "nobody", "download", "--out", e.out]);
    expect(nobody.code).toBe(4);
    expect(theResult(nobody, "download")).toMatchObject({ profile: "nobody" });
    expect(nobody.stderr).toContain("rc-recordings --profile nobody login");

    const stateDir = join(e.out, ".rc-recordings");
    writeFileSync(join(stateDir, "lock"), JSON.stringify(newLockHolder()));
    const busy = await e.download(["--json"]);
    expect(busy.code).toBe(5);
    expect(theResult(busy, "download").error).toMatch(/lock|busy|another/i);

    const linked = join(e.dir, "linked");
    mkdirSync(linked);
    symlinkSync(join(e.dir, "elsewhere"), join(linked, ".rc-recordings"));
    const failed = await e.run(["--json", "download", "--out", linked]);
    expect(failed.code).toBe(1);
    theResult(failed, "download");
  }, 60_000);

  it("download --dry-run --json: the plan and the result are one document", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const plan = await e.download(["--json", "--dry-run", "--from", "30d"]);
    expect(plan.code, plan.stderr).toBe(0);
    const result = theResult(plan, "download");
    expect(result.planned).toHaveLength(3);
  }, 30_000);

  it("verify: intact (0), bad usage (2), a file for --out (2)", async () => {
    e = await setupDownload({ calls: 2, withRecordingRatio: 1 });
    expect((await e.download()).code).toBe(0);
    const ok = await e.run(["--json", "verify", "--out", e.out]);
    expect(theResult(ok, "verify")).toMatchObject({ checked: 2, out: e.out });
    const usage = await e.run(["--json", "verify", "--out", e.out, "--nope"]);
    expect(usage.code).toBe(2);
    theResult(usage, "verify");
    const file = join(e.dir, "a-file");
    writeFileSync(file, "x");
    const notFolder = await e.run(["--json", "verify", "--out", file]);
    expect(notFolder.code).toBe(2);
    expect(theResult(notFolder, "verify").error).toBe(`--out ${file} is a file, not a folder`);
  }, 30_000);
});
