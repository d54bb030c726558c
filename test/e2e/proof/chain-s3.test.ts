import { afterEach, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../src/archive/verify.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { type DownloadEnv, setupDownload, summaryOf } from "../download/helpers.js";

// The chain in a bucket: the manifest there is segments plus a compacted object (destination/s3/state.ts); the
// chain runs through them in reading order and survives compaction.

const URL = "s3://archive/calls";
const MANIFEST = "calls/.rc-recordings/manifest/";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("the hash chain on S3", () => {
  it("holds across runs and compaction, finds a removed line and a cut-short manifest", async () => {
    const s3 = await s3ServerForTest(["archive"]);
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const env = { ...e.env, ...s3.env };
    const run = (args: string[]) => (e as DownloadEnv).run(args, { env });
    const first = await run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const head = summaryOf(first.stdout).chainHead as string;
    // The second run compacts the first run's segment and adds nothing: the head stays.
    const second = await run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(summaryOf(second.stdout).chainHead).toBe(head);
    const ok = await run(["verify", "--out", URL, "--json", "--chain-head", head]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as VerifyReport).chain).toMatchObject({
      head,
      broken: null,
      headFound: true,
    });

    const keys = [...(await s3.objects("archive")).keys()].filter((key) => key.startsWith(MANIFEST));
    expect(keys).toEqual([`${MANIFEST}compacted.jsonl`]);
    const key = keys[0] as string;
    const lines = (await s3.text("archive", key)).trimEnd().split("\n");
    const put = (text: string) => s3.put("archive", key, text);
    await put(`${[...lines.slice(0, 2), ...lines.slice(3)].join("\n")}\n`);
    const removed = await run(["verify", "--out", URL]);
    expect(removed.code, removed.stderr).toBe(3);
    expect(removed.stderr).toContain("hash chain broken at manifest line 3");

    await put(`${lines.slice(0, -1).join("\n")}\n`);
    const cut = await run(["verify", "--out", URL, "--chain-head", head]);
    expect(cut.code, cut.stderr).toBe(3);
    expect(cut.stderr).toContain(`the hash chain does not contain ${head}`);
  }, 120_000);
});
