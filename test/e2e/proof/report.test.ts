import { afterEach, describe, expect, it } from "vitest";
import type { CompletenessReport } from "../../../src/archive/completeness.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

// `report` against the emulator: what the call log lists, held against the manifest, each missing recording
// with its reason.

const DAY = 24 * 60 * 60 * 1000;

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("report", { timeout: 120_000 }, () => {
  it("names every missing recording: deleted before the first run, failed, pending with days left (exit 3)", async () => {
    // Ten calls, about two days apart, the newest a minute ago (the emulator leaves one without a recording).
    e = await setupDownload({ calls: 10, withRecordingRatio: 1, transferredCalls: false, spanMs: 20 * DAY });
    const recordings = e.emu.control.recordings().sort((a, b) => a.index - b.index); // newest first
    const old = recordings.filter((r) => r.index >= 6); // older than 10 days, whatever the jitter
    const deleted = old[0]?.id as string;
    const failed = old[1]?.id as string;
    e.emu.control.deleteRecording(deleted); // a user deleted it before the nightly run
    // Its content on a host that is not RingCentral's: refused before any request, a failure of that run.
    e.emu.control.setForeignContent(failed, "http://127.0.0.2:9");
    // The archive so far: only calls older than 10 days.
    const first = await e.download(["--from", "30d", "--to", "10d"]);
    expect(first.code, first.stderr).toBe(3);

    const result = await e.run(["--json", "report", "--out", e.out, "--from", "30d"]);
    expect(result.code, result.stderr).toBe(3);
    const report = JSON.parse(result.stdout) as CompletenessReport & Record<string, unknown>;
    // The common result envelope of download and verify (docs/scheduling.md#the-json-result), around the report.
    expect(report).toMatchObject({
      schema: 1,
      command: "report",
      exitCode: 3,
      profile: "default",
      out: e.out,
      error: expect.stringMatching(/recordings the call log lists are not archived/),
    });
    expect(Date.parse(report.startedAt as string)).toBeLessThanOrEqual(Date.parse(report.endedAt as string));
    const older = recordings.filter((r) => r.index >= 5).length;
    expect(report.expected).toBe(recordings.length);
    expect(report.archived).toBe(older - 2);
    const reasons = Object.fromEntries(report.missing.map((m) => [m.recordingId, m]));
    expect(reasons[deleted]).toMatchObject({ reason: "deleted", error: expect.stringContaining("404") });
    expect(reasons[failed]).toMatchObject({
      reason: "failed",
      error: expect.stringMatching(/refusing to send/),
    });
    const pending = report.missing.filter((m) => m.reason === "pending");
    expect(pending.map((m) => m.recordingId).sort()).toEqual(
      recordings
        .filter((r) => r.index < 5)
        .map((r) => r.id)
        .sort(),
    );
    for (const m of pending) {
      const left = (Date.parse(m.startTime) + 90 * DAY - Date.now()) / DAY;
      expect(m.daysLeft).toBeGreaterThanOrEqual(Math.floor(left) - 1);
      expect(m.daysLeft).toBeLessThanOrEqual(Math.ceil(left));
      expect(m.daysLeft).toBeGreaterThan(60);
    }
    expect(report.days.reduce((sum, day) => sum + day.expected, 0)).toBe(recordings.length);
    expect(report.days.reduce((sum, day) => sum + day.missing, 0)).toBe(report.missing.length);
    // The estimate comes first for a range this long; the last line sums it up.
    expect(result.stderr).toMatch(/listing 30 days of the call log: about \d+ Heavy requests/);
    expect(result.stderr).toContain(
      `${report.missing.length} of ${recordings.length} recordings the call log lists are not archived (1 deleted, ${pending.length} pending, 1 failed)`,
    );

    // The text form names each missing recording and its reason; --csv and --by extension give the table.
    const text = await e.run(["report", "--out", e.out, "--from", "30d"]);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(
      new RegExp(`recording ${deleted} .*deleted: recording not found \\(HTTP 404\\)`),
    );
    expect(text.stdout).toMatch(/pending: \d+ days left before retention deletes it/);
    const csv = await e.run(["report", "--out", e.out, "--from", "30d", "--csv", "--by", "extension"]);
    expect(csv.code).toBe(3);
    const rows = csv.stdout.trim().split("\n");
    expect(rows[0]).toBe("day,extension,expected,archived,missing");
    expect(rows.slice(1).reduce((sum, row) => sum + Number(row.split(",")[2]), 0)).toBe(recordings.length);
  });

  it("exits 0 when everything the call log lists is archived; 2 without an archive", async () => {
    e = await setupDownload({ calls: 6 });
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const ok = await e.run(["report", "--out", e.out, "--from", "2d"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/all \d+ recordings the call log lists are archived/);
    expect(ok.stderr).not.toContain("warning");
    // A --from older than the platform keeps is said once, as download says it.
    const older = await e.run(["report", "--out", e.out, "--from", "120d"]);
    expect(older.code, older.stderr).toBe(0);
    expect(
      older.stderr.match(
        /^warning: --from .* is more than 90 days ago; the platform keeps recordings for 90 days/gm,
      ),
    ).toHaveLength(1);
    const none = await e.run(["--json", "report", "--out", `${e.out}-typo`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no archive in");
    // Every exit has its one result document.
    expect(JSON.parse(none.stdout)).toMatchObject({ schema: 1, command: "report", exitCode: 2 });
    const json = await e.run(["--json", "report", "--out", e.out, "--from", "2d"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: "report", exitCode: 0, missing: [] });
    expect(JSON.parse(json.stdout)).not.toHaveProperty("error");
  });
});
