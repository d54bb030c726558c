import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawnCli } from "../../helpers/cli.js";
import { rssOf } from "../../helpers/rss.js";
import { type DownloadEnv, expectAllSaved, setupDownload } from "./helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Download one recording of `bytes` and return the CLI's peak RSS, sampled every 20 ms. */
async function peakRssFor(bytes: number): Promise<number> {
  e = await setupDownload({ calls: 1, withRecordingRatio: 1, recordingBytes: bytes });
  // Node 22 and 24 let the heap grow further than Node 20 before collecting (a 512 MiB download peaked ~55 and
  // ~70 MiB above the baseline on them, ~40 on Node 20, with nothing retained: a heap cap brings them to ~28).
  // The same cap on every runtime makes this test measure what is kept, not the collector's patience; buffers
  // (a file held in memory) live outside the capped heap and still show in full.
  const run = spawnCli(["download", "--out", e.out], { env: e.env, nodeFlags: ["--max-old-space-size=64"] });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(run.child.pid as number));
  }, 20);
  const result = await run.result;
  clearInterval(sampler);
  expect(result.code, result.stderr).toBe(0);
  await expectAllSaved(e);
  await e.stop();
  e = undefined;
  return peak;
}

const MB = 1024 * 1024;

describe.runIf(process.platform === "linux")("download: constant memory", () => {
  // What the process needs anyway (Node, our modules, one HTTP exchange) is measured with a tiny recording; a
  // streaming download of 512 MiB may add only a little on top (socket buffers awaiting GC), never the file.
  // The absolute bound only catches a regression (fetch/undici back on the path, a buffering stream); the
  // target itself (≤ 100 MiB for 1 GiB) is measured by `npm run bench`.
  it("streams a 512 MiB recording without its size showing in the resident memory", async () => {
    const baseline = await peakRssFor(1000);
    const large = await peakRssFor(512 * MB);
    expect(baseline).toBeGreaterThan(0);
    expect(large - baseline).toBeLessThan(48 * MB);
    expect(large).toBeLessThan(140 * MB);
  }, 120_000);
});

describe("download: what it loads", () => {
  /** Run the CLI with a preload that reports, at exit, the builtins and CommonJS files it loaded. */
  async function loadedBy(args: string[] | undefined): Promise<{ builtins: string[]; files: string[] }> {
    const env = e as DownloadEnv;
    const preload = join(env.dir, "loaded.cjs");
    const report = join(env.dir, "loaded.json");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({
        builtins: process.moduleLoadList,
        files: Object.keys(require.cache),
      })));`,
    );
    const options = { env: { NODE_OPTIONS: `--require ${preload}` } };
    const result = args ? await env.run(args, options) : await env.download([], options);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(readFileSync(report, "utf8")) as { builtins: string[]; files: string[] };
  }

  // undici (Node's fetch) costs 10-25 MiB on a large download; the SDK is only for the token endpoint and the
  // keyring only for the keychain store; the AWS SDK only for an s3:// --out. A download into a folder with a
  // valid token and the file store needs none of them.
  it("never loads undici, the RingCentral SDK, the keyring or the AWS SDK", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const loaded = await loadedBy(undefined);
    expect(loaded.builtins.filter((m) => m.includes("undici"))).toEqual([]);
    // CommonJS packages, so they show in require.cache even when imported from ESM.
    expect(loaded.files.filter((f) => /@ringcentral|@napi-rs|@aws-sdk|@smithy/.test(f))).toEqual([]);
  }, 30_000);

  it("--version and --help load no SDK at all", async () => {
    e = await setupDownload({ calls: 1 });
    for (const args of [["--version"], ["--help"], ["download", "--help"]]) {
      const loaded = await loadedBy(args);
      expect(
        loaded.files.filter((f) => /@ringcentral|@napi-rs|@aws-sdk|@smithy/.test(f)),
        args.join(" "),
      ).toEqual([]);
    }
  }, 30_000);
});
