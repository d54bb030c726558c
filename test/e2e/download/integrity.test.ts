import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CallLogRecord } from "../../../src/listing/types.js";
import {
  type DownloadEnv,
  expectAllSaved,
  filesBelow,
  manifestOf,
  partials,
  setupDownload,
  summaryOf,
  waitFor,
} from "./helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("download: every file byte-exact", () => {
  it("survives resets, truncations and 503s; a rerun makes zero content requests", async () => {
    e = await setupDownload({
      faults: {
        reset: { firstAttemptsPerRecording: 1, probability: 0.5 },
        truncate: { firstAttemptsPerRecording: 2, probability: 0.5 },
        unavailable: { firstAttemptsPerRecording: 1, probability: 0.4, retryAfterSec: 0 },
        seed: 7,
      },
    });
    const first = await e.download(["--json"]);
    expect(first.code, first.stderr).toBe(0);
    const faults = e.emu.stats.faultsInjected;
    expect(faults.reset).toBeGreaterThan(0);
    expect(faults.truncate).toBeGreaterThan(0);
    expect(faults.unavailable).toBeGreaterThan(0);
    const recordings = e.emu.control.recordings().length;
    // Among them recordings that exist only on the legs of a transferred call (Detailed view).
    expect(e.emu.control.recordings().filter((r) => r.leg !== undefined).length).toBeGreaterThanOrEqual(2);
    expect(summaryOf(first.stdout)).toMatchObject({ listed: recordings, downloaded: recordings, failed: 0 });
    await expectAllSaved(e);

    const contentRequests = e.emu.stats.contentRequests;
    // Incremental: only the overlap before the last run's end is listed again, and fetched never.
    const incremental = await e.download(["--json"]);
    expect(incremental.code, incremental.stderr).toBe(0);
    expect(summaryOf(incremental.stdout)).toMatchObject({ downloaded: 0, failed: 0 });
    expect(summaryOf(incremental.stdout).listed).toBeLessThan(recordings);
    // The whole range again: everything is skipped by the manifest.
    const rerun = await e.download(["--from", "2d", "--json"]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(summaryOf(rerun.stdout)).toMatchObject({ downloaded: 0, skipped: recordings, failed: 0 });
    expect(e.emu.stats.contentRequests).toBe(contentRequests);
  });

  it("asks a call-log page again after a 503 instead of failing the run", async () => {
    e = await setupDownload();
    e.emu.control.setFaults({ unavailable: { firstRequests: 2, scope: "api", retryAfterSec: 0 } });
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.faultsInjected.unavailable).toBe(2);
    await expectAllSaved(e);
  });

  it("resumes a file killed mid-transfer (SIGKILL) with a Range request", async () => {
    e = await setupDownload({ calls: 2, recordingBytes: 400_000, faults: { bandwidth: 100_000 } });
    const env = e;
    const run = env.spawnDownload(["--concurrency", "1"]);
    await waitFor(() => partials(env.out).some((p) => p.size > 100_000), 8000, "a .part file in flight");
    run.child.kill("SIGKILL");
    const killed = await run.result;
    expect(killed.signal).toBe("SIGKILL");
    const left = partials(env.out);
    expect(left).toHaveLength(1);

    env.emu.control.setFaults({});
    env.emu.control.resetStats();
    const total = env.emu.control.recordings().reduce((sum, r) => sum + r.bytes, 0);
    const rerun = await env.download(["--json"]);
    expect(rerun.code, rerun.stderr).toBe(0); // the dead holder's lock is taken over at once
    await expectAllSaved(env);
    // The kept partial was not sent again.
    expect(env.emu.stats.bytesSent).toBeLessThanOrEqual(total - (left[0]?.size ?? 0));
  });

  it("keeps hostile caller names inside DIR with a name template", async () => {
    e = await setupDownload({ calls: 24 });
    const result = await e.download(["--template", "{fromName}/{toName}_{recordingId}.{ext}", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(e);
    // Nothing escaped: the test folder holds only the config and DIR, and every path resolves inside DIR.
    expect(filesBelow(e.dir).every((f) => f.startsWith("config/") || f.startsWith("out/"))).toBe(true);
    for (const entry of manifestOf(e.out)) {
      expect(resolve(e.out, entry.path).startsWith(`${e.out}/`)).toBe(true);
      expect(entry.path.split("/")).toHaveLength(2);
      expect(entry.path.split("/")).not.toContain("..");
    }
  });

  it("plans paths in a dry run without a single content request or file", async () => {
    e = await setupDownload();
    const result = await e.download(["--dry-run"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(e.emu.control.recordings().length);
    expect(lines.every((l) => /^\d{4}-\d{2}-\d{2}\/\d{6}_.+\.mp3$/.test(l))).toBe(true);
    expect(e.emu.stats.contentRequests).toBe(0);
    expect(existsSync(e.out)).toBe(false);
    expect(result.stderr).toContain(`would download ${lines.length}`);

    const json = await e.download(["--dry-run", "--json"]);
    // The dry run's JSON document carries the planned paths beside the summary (ui/planned-json.ts).
    expect((JSON.parse(json.stdout) as { planned: string[] }).planned).toEqual(lines);
    expect(e.emu.stats.contentRequests).toBe(0);
  });

  it("writes a .json sidecar with the call-log record beside each recording", async () => {
    e = await setupDownload();
    const result = await e.download(["--metadata"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    const entries = manifestOf(e.out);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const sidecar = JSON.parse(readFileSync(join(e.out, `${entry.path}.json`), "utf8")) as CallLogRecord;
      expect(sidecar.id).toBe(entry.callId);
      // The recording is the record's own or, on a transferred call, one of its legs'.
      const carried = [sidecar.recording, ...(sidecar.legs ?? []).map((leg) => leg.recording)];
      expect(carried.map((r) => r?.id)).toContain(entry.recordingId);
    }
  });

  it("logs plain lines without a terminal, nothing but errors with --quiet, and warns beyond retention", async () => {
    e = await setupDownload();
    const plain = await e.download(["--from", "100d"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe("");
    expect(plain.stderr).not.toContain("\u001b["); // no colour, no spinner
    expect(plain.stderr).toMatch(/warning: .*more than 90 days ago/);
    expect(plain.stderr).toMatch(/^saved \d{4}-\d{2}-\d{2}\/.+ \(.+B\)$/m);

    const quiet = await e.download(["--from", "2d", "--quiet", "--json"]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(summaryOf(quiet.stdout).skipped).toBe(e.emu.control.recordings().length);
  });
});
