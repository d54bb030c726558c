import { afterEach, describe, expect, it } from "vitest";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

// CI runs this suite on Node 20, 22 and 24. The everyday commands, into a folder and into a bucket, must print
// no runtime warning on any of them: a deprecated API would crash the run (the test helper starts every CLI with
// --throw-deprecation), and any other warning Node prints on its own shows as a "(node:PID) …Warning:" line.

const NODE_WARNING = /\(node:\d+\)|\b\w*Warning\b/;

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe(`the CLI on Node ${process.version}`, () => {
  it("prints no runtime warning through login, download (folder and bucket), verify and token status", async () => {
    const s3 = await s3ServerForTest(["archive"]);
    e = await setupDownload({ calls: 4, withRecordingRatio: 1 });
    const env = { ...e.env, ...s3.env };
    const runs = [
      await e.run(["login"]),
      await e.download(),
      await e.run(["verify", "--out", e.out]),
      await e.run(["download", "--out", "s3://archive/calls"], { env }),
      await e.run(["verify", "--out", "s3://archive/calls"], { env }),
      await e.run(["token", "status", "--verify"]),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(NODE_WARNING);
    }
  }, 120_000);
});
