import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, setupDownload, summaryOf } from "./helpers.js";

// `--log-format json` promises that every stderr line is one JSON object. Node's own warnings (a listener leak
// at --concurrency >= 10 was one) used to be printed raw: the leak is gone, and any warning is a log line.

/** Preload: one process warning at the run's first HTTP request. */
const WARN_ON_REQUEST = join(dirname(fileURLToPath(import.meta.url)), "../../helpers/warn-on-request.cjs");

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("process warnings", () => {
  it("--concurrency 16 --log-format json: every stderr line is JSON, no listener-leak warning", {
    timeout: 120_000,
  }, async () => {
    e = await setupDownload({
      calls: 40,
      withRecordingRatio: 1,
      transferredCalls: false,
      recordingBytes: 50_000,
    });
    // Slow bodies keep all sixteen transfers (and their listeners on the run's signals) alive at once.
    e.emu.control.setFaults({ bandwidth: 200_000 });
    const result = await e.download(["--concurrency", "16", "--log-format", "json", "--verbose", "--json"], {
      timeoutMs: 100_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).failed).toBe(0);
    expect(e.emu.stats.peakConcurrentDownloads).toBeGreaterThanOrEqual(10);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(result.stderr).not.toMatch(/MaxListeners|memory leak/i);
  });

  it("a runtime warning during the run is one log line of the chosen format, never Node's raw text", async () => {
    e = await setupDownload({ calls: 4 });
    for (const format of ["json", "text"]) {
      const result = await e.download(["--log-format", format], {
        nodeFlags: ["--require", WARN_ON_REQUEST],
      });
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stderr.split("\n").filter(Boolean);
      const warning = lines.filter((line) => line.includes("a runtime warning in the middle of the run"));
      expect(warning, result.stderr).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\(node:\d+\)/); // Node's own printing: "(node:1234) Warning: ..."
      if (format === "json") {
        for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
        expect(JSON.parse(warning[0] ?? "")).toMatchObject({ level: "warn" });
      } else expect(warning[0]).toMatch(/^warning: node: TestProbeWarning: /);
    }
  });
});
