import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import type { CompletenessReport } from "../../../src/archive/completeness.js";
import type { OlderRecordings } from "../../../src/commands/first-run.js";
import {
  type DownloadEnv,
  expectAllSaved,
  manifestOf,
  partials,
  setupDownload,
  summaryOf,
  waitFor,
} from "../download/helpers.js";

// Issue 17 item 3 through the built CLI: the account's retention is read (GET …/call-recording) and used
// (`--from retention`, report's range and days left); a refusal means the defaults with one warning; a first
// run that is killed leaves its start to the next run.

const DAY = 24 * 60 * 60 * 1000;

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const olderOf = (stdout: string) =>
  (JSON.parse(stdout) as { olderRecordings?: OlderRecordings }).olderRecordings;
const firstRunLines = (stderr: string) => stderr.split("\n").filter((line) => line.includes("first run:"));

/** Recordings the platform no longer serves (older than the account's retention). */
function goneIds(env: DownloadEnv): string[] {
  return env.emu.control
    .recordings()
    .filter((r) => r.deleted)
    .map((r) => r.id);
}

describe("the account's retention", { timeout: 120_000 }, () => {
  it("--from retention takes everything the account still keeps, by the account's own period", async () => {
    // 30 calls over 20 days; the account keeps 15: the older quarter is gone, the rest goes back two weeks.
    e = await setupDownload({ calls: 30, spanMs: 20 * DAY, recordingSettings: { retentionPeriod: 15 } });
    const gone = goneIds(e);
    expect(gone.length).toBeGreaterThan(0);
    const result = await e.download(["--from", "retention", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/--from retention: .*15 days before now \(the account's retention\)/);
    expect(result.stderr).not.toMatch(/warning/);
    await expectAllSaved(e, gone);
    const oldest = Math.min(...manifestOf(e.out).map((m) => Date.parse(m.startTime)));
    expect(Date.now() - oldest).toBeGreaterThan(10 * DAY); // far beyond a first run's 24 hours
    expect(summaryOf(result.stdout)).toMatchObject({ complete: true, failed: 0 });
  });

  it("a refusal (403) means RingCentral's defaults, with one warning; the run does not fail", async () => {
    e = await setupDownload({ calls: 12, spanMs: 20 * DAY, recordingSettings: { forbidden: true } });
    const result = await e.download(["--from", "retention"]);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.split("\n").filter((line) => line.includes("recording retention"));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warning: could not read the account's recording retention \(no permission \(the app needs ReadAccounts\)\); assuming RingCentral's defaults: 90 days, 100,000 recordings$/,
      ),
    ]);
    expect(result.stderr).toMatch(/90 days before now \(the default\)/);
    await expectAllSaved(e); // 20 days: all within 90
  });

  it("report: the default range and each pending recording's days left follow the account's period", async () => {
    e = await setupDownload({
      calls: 10,
      withRecordingRatio: 1,
      transferredCalls: false,
      spanMs: 20 * DAY,
      recordingSettings: { retentionPeriod: 15 },
    });
    const first = await e.download(["--from", "3d"]);
    expect(first.code, first.stderr).toBe(0);
    const started = Date.now();
    const result = await e.run(["--json", "report", "--out", e.out]);
    expect(result.code, result.stderr).toBe(3); // the older ones are pending
    const report = JSON.parse(result.stdout) as CompletenessReport;
    const from = Date.parse(report.from);
    expect(Math.abs(from - (started - 15 * DAY))).toBeLessThan(5 * 60_000);
    const pending = report.missing.filter((m) => m.reason === "pending");
    expect(pending.length).toBeGreaterThan(0);
    for (const m of pending) {
      const left = (Date.parse(m.startTime) + 15 * DAY - Date.now()) / DAY;
      expect(m.daysLeft).toBeGreaterThanOrEqual(Math.floor(left) - 1);
      expect(m.daysLeft).toBeLessThanOrEqual(15);
    }
    // The same range spelled out.
    const spelled = await e.run(["--json", "report", "--out", e.out, "--from", "retention"]);
    expect(spelled.code, spelled.stderr).toBe(3);
    expect((JSON.parse(spelled.stdout) as CompletenessReport).expected).toBe(report.expected);
  });
});

describe("an interrupted first run", { timeout: 180_000 }, () => {
  it("keeps its start: killed before anything closed, the next plain run still fetches the older recordings", async () => {
    // Seconds per recording: the first run is stopped while its oldest recording is still on the way. Calls
    // 1.25 days apart over 10 days, kept 10 days: the oldest (about 9.4 days ago) is in the first slice (the
    // first 24 hours after the retention edge), so no slice can close before it is saved.
    e = await setupDownload({
      calls: 8,
      spanMs: 10 * DAY,
      recordingSettings: { retentionPeriod: 10 },
      withRecordingRatio: 1,
      transferredCalls: false,
      recordingBytes: 2_000_000,
      faults: { bandwidth: 100_000 },
    });
    const env = e;
    const first = env.spawnDownload(["--from", "retention", "--concurrency", "1"]);
    await waitFor(() => partials(env.out).some((p) => p.size > 0), 30_000, "a transfer in flight");
    first.child.kill("SIGTERM");
    const stopped = await first.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(manifestOf(env.out)).toEqual([]); // nothing was finished: no slice closed

    env.emu.control.setFaults({});
    const plain = await env.download(["--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    await expectAllSaved(env); // 10 days of them, not the last 24 hours
    expect(Date.now() - Math.min(...manifestOf(env.out).map((m) => Date.parse(m.startTime)))).toBeGreaterThan(
      5 * DAY,
    );
  });
});

describe("a first run without --from", { timeout: 120_000 }, () => {
  it("says in one line how many older recordings the platform keeps and what the backfill costs, naming the profile and --out", async () => {
    e = await setupDownload({ calls: 40, spanMs: 20 * DAY, withRecordingRatio: 1, transferredCalls: false });
    const login = await e.run(["--profile", "work", "login"]);
    expect(login.code, login.stderr).toBe(0);
    const out = join(e.dir, "my calls");
    const first = await e.run(["--profile", "work", "download", "--out", out, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const older = olderOf(first.stdout) as OlderRecordings;
    expect(older).toMatchObject({ retentionDays: 90, retentionFromAccount: true });
    const calls = older.calls as number;
    expect(calls).toBeGreaterThan(10); // 20 days of calls, the first run took one
    // The dry run's estimate: the listing's pages (one per ~800) and one request per recording.
    expect(older.heavyRequests).toBe(calls + Math.ceil(calls / 800) + 1);
    expect(older.durationSeconds).toBeGreaterThan(0);
    const command = `rc-recordings --profile work download --out '${out}' --from retention`;
    expect(older.command).toBe(command);
    const lines = firstRunLines(first.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `warning: first run: only the last 24 hours; ${calls} older calls with recordings since ${older.since.slice(0, 10)} are still on the platform, which deletes each one after 90 days; to archive them run: ${command} (about ${older.heavyRequests} Heavy requests, ~${lines[0]?.match(/~([^)]+)\)$/)?.[1]})`,
    );

    // The next run is not a first run: nothing to say.
    const second = await e.run(["--profile", "work", "download", "--out", out, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(firstRunLines(second.stderr)).toEqual([]);
    expect(olderOf(second.stdout)).toBeUndefined();

    // The command it names takes them: as many as the call log counted (two records of one call share one).
    const backfill = await e.run([
      "--profile",
      "work",
      "download",
      "--out",
      out,
      "--from",
      "retention",
      "--json",
    ]);
    expect(backfill.code, backfill.stderr).toBe(0);
    const fetched = summaryOf(backfill.stdout).downloaded;
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThanOrEqual(calls);
    await expectAllSaved({ ...e, out });
  });

  it("says so when the call log gives no count, and when there is nothing older", async () => {
    e = await setupDownload({ calls: 20, spanMs: 10 * DAY, pagingTotals: false });
    const unknown = await e.download(["--json"]);
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(olderOf(unknown.stdout)).toMatchObject({ calls: null, heavyRequests: null });
    expect(firstRunLines(unknown.stderr)).toEqual([
      expect.stringMatching(
        /^warning: first run: only the last 24 hours; older recordings \(the call log gives no count\) since .* to archive them run: rc-recordings download --out \S+ --from retention$/,
      ),
    ]);
    await e.stop();

    e = await setupDownload({ calls: 6 }); // all within the last 23 hours
    const none = await e.download(["--json"]);
    expect(none.code, none.stderr).toBe(0);
    expect(olderOf(none.stdout)).toMatchObject({ calls: 0 });
    expect(firstRunLines(none.stderr)).toEqual([
      expect.stringMatching(
        /^first run: only the last 24 hours; the call log lists no older recordings .*nothing to backfill$/,
      ),
    ]);
  });
});

describe("the at-risk metric", { timeout: 120_000 }, () => {
  it("counts what a --from retention run listed but did not archive that retention deletes within 7 days", async () => {
    // Calls about 0.67 days apart over 20 days, kept 15: the at-risk window is 8 to 15 days old.
    e = await setupDownload({
      calls: 30,
      spanMs: 20 * DAY,
      withRecordingRatio: 1,
      transferredCalls: false,
      recordingSettings: { retentionPeriod: 15 },
    });
    const recordings = e.emu.control.recordings();
    const atRisk = recordings.find((r) => r.index === 16) as (typeof recordings)[number]; // ~11 days old
    const later = recordings.find((r) => r.index === 3) as (typeof recordings)[number]; // ~2 days old
    // Refused before any request (a host that is not RingCentral's): they fail this run, the next one retries.
    for (const r of [atRisk, later]) e.emu.control.setForeignContent(r.id, "http://127.0.0.2:9");
    const file = join(e.dir, "rc.prom");
    const metric = () =>
      parsePrometheusTextFormat(readFileSync(file, "utf8")).find(
        (family) => family.name === "rc_recordings_retention_at_risk_recordings",
      );

    const run = await e.download(["--from", "retention", "--metrics-file", file, "--json"]);
    expect(run.code, run.stderr).toBe(3);
    const summary = JSON.parse(run.stdout) as { retentionAtRisk?: unknown; failed: number };
    expect(summary.failed).toBe(2);
    expect(summary.retentionAtRisk).toEqual({ withinDays: 7, recordings: 1 }); // the 2-day-old one has time
    const family = metric();
    expect(family?.type).toBe("GAUGE");
    expect(family?.help).toMatch(/within 7 days/);
    expect(family?.metrics).toEqual([{ value: "1", labels: { profile: "default", out: e.out } }]);

    // A nightly run lists only its last hours: it cannot know, so the metric is absent rather than 0.
    const nightly = await e.download(["--metrics-file", file, "--json"]);
    expect(JSON.parse(nightly.stdout)).not.toHaveProperty("retentionAtRisk");
    expect(metric()).toBeUndefined();
  });
});
