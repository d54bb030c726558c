import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { extensionFor } from "../../../src/archive/naming.js";
import { type DownloadEnv, filesBelow, manifestOf, setupDownload, summaryOf } from "./helpers.js";

// Input as people type it: choices in any case, durations such as 1h30m, one prefix on every error line, and a
// suggestion of the nearest flag or value.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("input as people type it", () => {
  it("--type automatic --max-duration 1h30m is accepted (and RC_RECORDINGS_STORE=FILE)", async () => {
    e = await setupDownload({ calls: 6, withRecordingRatio: 1 });
    const result = await e.download(["--json", "--type", "automatic", "--max-duration", "1h30m"], {
      env: { ...e.env, RC_RECORDINGS_STORE: "FILE" },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout)).toMatchObject({ complete: true });
    expect(e.emu.stats.callLogRequests).toBeGreaterThan(0);
  });

  it("every usage error is one line with one prefix and names the nearest flag or value", async () => {
    e = await setupDownload({ calls: 2 });
    const cases: [string[], RegExp][] = [
      [["--ot", "x"], /^rc-recordings: unknown option '--ot' \(did you mean one of --out, --to\?\)$/],
      [["--type", "autom"], /^rc-recordings: .*'autom' is invalid.*\(did you mean Automatic\?\)$/],
      [["--type", "OnDemnad"], /\(did you mean OnDemand\?\)$/],
      [["--max-duration", "30m1h"], /^rc-recordings: .*not a duration; use e\.g\. 30s, 55m, 1h30m or 1d12h$/],
      [["--from", "yesterday"], /^rc-recordings: --from "yesterday": not a date/],
    ];
    for (const [args, line] of cases) {
      const result = await e.download(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toEqual([expect.stringMatching(line)]);
    }
    const typo = await e.run(["downlod"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe("rc-recordings: unknown command 'downlod' (did you mean download?)");
    expect(e.emu.stats.callLogRequests).toBe(0);
  });
});

const requestsMade = (env: DownloadEnv) =>
  Object.values(env.emu.stats.requestsByGroup).reduce((sum, n) => sum + n, 0);

describe("templates that cannot collide", () => {
  it("a template without {recordingId} is exit 2 with one line naming the fix, before any request", async () => {
    e = await setupDownload({ calls: 6 });
    for (const [template, fix] of [
      ["{date}.{ext}", '"{date}_{recordingId}.{ext}"'],
      ["{date}/{time}_{callId}.{ext}", '"{date}/{time}_{callId}_{recordingId}.{ext}"'],
    ] as const) {
      const result = await e.download(["--template", template]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split("\n")).toEqual([
        `rc-recordings: --template "${template}" can give two recordings the same name; add {recordingId}, e.g. ${fix}`,
      ]);
    }
    expect(requestsMade(e)).toBe(0);
  });

  it("a template without {ext} is a warning; {ext} always follows the content type served", async () => {
    e = await setupDownload({ calls: 12, withRecordingRatio: 1 });
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const entries = manifestOf(e.out);
    const types = new Set(entries.map((entry) => entry.contentType));
    expect(types).toEqual(new Set(["audio/mpeg", "audio/wav"])); // both kinds were served
    for (const entry of entries) {
      expect(entry.path.endsWith(`.${extensionFor(entry.contentType)}`), entry.path).toBe(true);
    }
    const bareOut = join(e.dir, "bare");
    const bare = await e.run(["download", "--out", bareOut, "--template", "{recordingId}", "--json"]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toContain('warning: --template "{recordingId}" has no {ext}');
    expect(filesBelow(bareOut).filter((f) => f !== "index.csv")).toEqual(
      entries.map((entry) => entry.recordingId).sort(),
    );
  });
});
