import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, manifestOf, setupDownload } from "../download/helpers.js";

// --timezone: names, index.csv's date/time and --from/--to dates in the zone the archive's owner lives in.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** The wall clock of `iso` in `zone`, computed here independently of the CLI: ["2026-11-01", "013005"]. */
function local(iso: string, zone: string): [string, string] {
  const f = new Intl.DateTimeFormat("sv-SE", {
    timeZone: zone,
    hourCycle: "h23",
    dateStyle: "short",
    timeStyle: "medium",
  });
  const [date, time] = f.format(new Date(iso)).split(" ") as [string, string];
  return [date, time.replaceAll(":", "")];
}

describe("--timezone", () => {
  it("files recordings under their local date across the night the clocks go back (America/Los_Angeles)", async () => {
    // 2026-11-01 09:00Z: 02:00 PDT becomes 01:00 PST, so 01:00-02:00 happens twice. Calls from 23:30 on Oct 31
    // to 02:30 on Nov 1, local time.
    e = await setupDownload({
      calls: 24,
      withRecordingRatio: 1,
      endTime: "2026-11-01T10:30:00Z",
      spanMs: 4 * 3_600_000,
    });
    const zone = "America/Los_Angeles";
    const result = await e.download([
      "--timezone",
      "america/los_angeles",
      "--from",
      "2026-10-31T23:00",
      "--to",
      "2026-11-01T03:00",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      "recordings from 2026-10-31 23:00:00 (America/Los_Angeles) to 2026-11-01 03:00:00 (America/Los_Angeles)",
    );
    const entries = manifestOf(e.out);
    expect(entries.length).toBe(e.emu.control.recordings().length);
    const dates = new Set<string>();
    for (const entry of entries) {
      const [date, time] = local(entry.startTime, zone);
      dates.add(date);
      expect(entry.path.startsWith(`${date}/${time}_`), `${entry.path} for ${entry.startTime}`).toBe(true);
    }
    expect(dates).toEqual(new Set(["2026-10-31", "2026-11-01"]));
    // Both 01:xx hours are there (PDT and PST), and no two recordings share a name.
    const repeated = entries.filter((entry) => local(entry.startTime, zone)[1].startsWith("01"));
    const offsets = new Set(repeated.map((entry) => new Date(entry.startTime).getUTCHours()));
    expect(offsets).toEqual(new Set([8, 9]));
    expect(new Set(entries.map((entry) => entry.path)).size).toBe(entries.length);

    const rows = parse(readFileSync(join(e.out, "index.csv"), "utf8"), {
      columns: true,
      bom: true,
    }) as Record<string, string>[];
    for (const row of rows) {
      expect(row.startTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/); // UTC ISO stays
      const [date, time] = local(row.startTime as string, zone);
      expect([row.date, (row.time as string).replaceAll(":", "")]).toEqual([date, time]);
    }
  });

  it("a zone far from UTC (RC_RECORDINGS_TIMEZONE=Pacific/Kiritimati, UTC+14): local dates; --from a local date", async () => {
    e = await setupDownload({ calls: 12, withRecordingRatio: 1 });
    const zone = "Pacific/Kiritimati";
    const yesterday = local(new Date(Date.now() - 86_400_000).toISOString(), zone)[0];
    const result = await e.download(["--from", yesterday, "--json"], {
      env: { ...e.env, RC_RECORDINGS_TIMEZONE: zone },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`recordings from ${yesterday} 00:00:00 (Pacific/Kiritimati) to `);
    const entries = manifestOf(e.out);
    expect(entries.length).toBe(e.emu.control.recordings().length);
    let differs = 0;
    for (const entry of entries) {
      const [date, time] = local(entry.startTime, zone);
      expect(entry.path.startsWith(`${date}/${time}_`), entry.path).toBe(true);
      if (date !== entry.startTime.slice(0, 10)) differs++;
    }
    expect(differs).toBeGreaterThan(0); // the UTC date would have filed these elsewhere

    // report takes the same option: its --from date and its days are Kiritimati's too.
    const report = await e.run(["--json", "report", "--out", e.out, "--from", yesterday], {
      env: { ...e.env, RC_RECORDINGS_TIMEZONE: zone },
    });
    expect(report.code, report.stderr).toBe(0);
    const { days, from } = JSON.parse(report.stdout) as {
      days: { day: string; expected: number }[];
      from: string;
    };
    expect(local(from, zone)).toEqual([yesterday, "000000"]);
    const expectedDays = new Map<string, number>();
    for (const entry of entries) {
      const date = local(entry.startTime, zone)[0];
      expectedDays.set(date, (expectedDays.get(date) ?? 0) + 1);
    }
    expect(new Map(days.map((row) => [row.day, row.expected]))).toEqual(expectedDays);
  });

  it("an unknown zone is exit 2 with one line naming the nearest, before any request", async () => {
    e = await setupDownload({ calls: 2 });
    const result = await e.download(["--timezone", "Europe/Berln"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      'rc-recordings: --timezone "Europe/Berln": not a time zone; use an IANA name such as Europe/Berlin or America/Los_Angeles (did you mean Europe/Berlin?)',
    ]);
    expect(e.emu.stats.callLogRequests).toBe(0);
  });
});
