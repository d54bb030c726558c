import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../../helpers/cli.js";

const MiB = 1024 * 1024;
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-young-");
});
afterEach(() => dir.cleanup());

/**
 * The largest young generation (V8's new space) the CLI's process reaches under a workload that grows it: at exit
 * (when bin/rc-recordings.js has long run), a preload allocates objects of which many survive a collection, as a
 * long listing does, and reports the new space's largest size.
 */
async function largestNewSpace(nodeFlags: string[]): Promise<number> {
  const preload = join(dir.path, "young.cjs");
  const report = join(dir.path, "young.json");
  writeFileSync(
    preload,
    `process.on("exit", () => {
      const v8 = require("node:v8");
      const kept = [];
      let largest = 0;
      for (let i = 0; i < 2_000_000; i++) {
        kept.push({ i, text: "x" + i });
        if (kept.length > 100_000) kept.length = 0;
        if (i % 10_000 === 0) {
          const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
          largest = Math.max(largest, space.space_size);
        }
      }
      require("node:fs").writeFileSync(${JSON.stringify(report)}, String(largest));
    });`,
  );
  const result = await runCli(["--version"], { nodeFlags: ["--require", preload, ...nodeFlags] });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe("");
  return Number(readFileSync(report, "utf8"));
}

describe("the young generation", () => {
  it("stays at the size V8 starts it with (2-9 MiB; it grew to 32 MiB, 128 MiB on Node 24, on a long run)", async () => {
    expect(await largestNewSpace([])).toBeLessThanOrEqual(12 * MiB);
  }, 60_000);

  it("grows as the user's own flag says (node --max-semi-space-size)", async () => {
    expect(await largestNewSpace(["--max-semi-space-size=16"])).toBeGreaterThanOrEqual(16 * MiB);
  }, 60_000);
});
