import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, setupDownload, summaryOf } from "./helpers.js";

// The range of a run: a `--to` in the future used to be accepted and move the incremental mark past now, so the
// nightly cron job then listed nothing new and said "complete" until that date. It is refused, an inverted range
// too, and a mark past now (stored by an older version, or edited) never silences the next runs.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const statePath = (env: DownloadEnv) => join(env.out, ".rc-recordings", "state.json");
const HOUR = 3_600_000;

describe("the range of a run", () => {
  it("a --to in the future is exit 2 with one line, before any request; the mark is untouched", async () => {
    e = await setupDownload({ calls: 6 });
    const tomorrow = new Date(Date.now() + 36 * HOUR).toISOString();
    for (const args of [
      ["--to", tomorrow],
      ["--from", "2d", "--to", tomorrow],
    ]) {
      const result = await e.download(args);
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/--to .* is in the future/);
    }
    expect(e.emu.stats.callLogRequests).toBe(0);
    expect(existsSync(statePath(e))).toBe(false);
  });

  it("an inverted range (--from after --to) is exit 2 with one line", async () => {
    e = await setupDownload({ calls: 6 });
    const result = await e.download(["--from", "1d", "--to", "2d"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--from .* is not before --to/)]);
    expect(e.emu.stats.callLogRequests).toBe(0);
  });

  it("a stored mark past now is read as now: the next run lists the recent calls and stores a mark <= now", async () => {
    e = await setupDownload({ calls: 8, withRecordingRatio: 1, transferredCalls: false, spanMs: 6 * HOUR });
    mkdirSync(join(e.out, ".rc-recordings"), { recursive: true });
    const future = new Date(Date.now() + 30 * 24 * HOUR).toISOString();
    const listedFrom = new Date(Date.now() - 48 * HOUR).toISOString();
    writeFileSync(
      statePath(e),
      `${JSON.stringify({ lastTo: future, finishedAt: listedFrom, listedFrom })}\n`,
    );
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.listed).toBeGreaterThan(0);
    expect(summary).toMatchObject({ downloaded: summary.listed, complete: true });
    const state = JSON.parse(readFileSync(statePath(e), "utf8")) as { lastTo: string };
    expect(Date.parse(state.lastTo)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(state.lastTo)).toBeGreaterThan(Date.now() - HOUR);
  });
});
