import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, setupDownload, summaryOf } from "./helpers.js";

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
