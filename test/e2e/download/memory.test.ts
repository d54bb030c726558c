import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, expectAllSaved, setupDownload } from "./helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Resident set size of a live process in bytes (Linux /proc), or 0 once it is gone. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Download one recording of `bytes` and return the CLI's peak RSS, sampled every 20 ms. */
async function peakRssFor(bytes: number): Promise<number> {
  e = await setupDownload({ calls: 1, withRecordingRatio: 1, recordingBytes: bytes });
  const run = e.spawnDownload();
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
  // What the process needs anyway (Node, fetch, our modules) is measured with a tiny recording; a streaming
  // download of 512 MiB may add only a little on top (buffers awaiting GC), never the file.
  it("streams a 512 MiB recording without its size showing in the resident memory", async () => {
    const baseline = await peakRssFor(1000);
    const large = await peakRssFor(512 * MB);
    expect(baseline).toBeGreaterThan(0);
    expect(large - baseline).toBeLessThan(48 * MB);
  }, 30_000);
});
