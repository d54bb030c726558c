import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, manifestOf, setupDownload } from "../download/helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** The column list, verbatim. */
const HEADER =
  "startTime,date,time,direction,fromNumber,fromName,toNumber,toName,extensionNumber,extensionName,durationSec,type,contentType,bytes,sha256,recordingId,callId,sessionId,path";

/** index.csv parsed by a real CSV parser (strict: every row as wide as the header). */
function indexOf(out: string): { header: string[]; rows: Record<string, string>[]; raw: Buffer } {
  const raw = readFileSync(join(out, "index.csv"));
  const records = parse(raw, { bom: true, relaxQuotes: false }) as string[][];
  const [header = [], ...body] = records;
  const rows = body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""])));
  return { header, rows, raw };
}

describe("index.csv", () => {
  it("has one row per archived recording, sorted by start time, and no cell a spreadsheet would run", async () => {
    e = await setupDownload({ calls: 30 });
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { header, rows, raw } = indexOf(e.out);
    // UTF-8 with a byte order mark, CRLF record ends (RFC 4180).
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(raw.toString("utf8")).toContain("\r\n");
    expect(header.join(",")).toBe(HEADER);

    const manifest = manifestOf(e.out);
    expect(rows).toHaveLength(manifest.length);
    expect(rows.map((r) => r.recordingId).sort()).toEqual(
      e.emu.control
        .recordings()
        .map((r) => r.id)
        .sort(),
    );
    const times = rows.map((r) => Date.parse(r.startTime ?? ""));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    for (const row of rows) {
      const entry = manifest.find((m) => m.recordingId === row.recordingId);
      expect(row.path).toBe(entry?.path);
      expect(row.sha256).toBe(entry?.sha256);
      expect(row.bytes).toBe(String(entry?.bytes));
      expect(row.date).toBe(row.startTime?.slice(0, 10));
      expect(row.time).toMatch(/^\d{2}:\d{2}:\d{2}$/);
      expect(row.direction).toMatch(/^(Inbound|Outbound)$/);
      expect(row.durationSec).toMatch(/^\d+$/);
      for (const cell of Object.values(row)) {
        // Formula-looking cells are neutralised; a phone number (+ and digits) stays searchable.
        if (/^[=+\-@\t\r]/.test(cell)) expect(cell).toMatch(/^\+\d+$/);
      }
    }
    const cells = rows.flatMap((r) => Object.values(r));
    expect(cells).toContain(`'=HYPERLINK("http://evil.example","Reception")`);
    expect(cells).toContain("'@Night Shift");
    expect(cells).toContain("'+44 London\tDesk");
    expect(cells.some((c) => /^\+1650555\d{4}$/.test(c))).toBe(true);
    // Names with commas, quotes, newlines survive the round trip.
    expect(cells).toContain('"Quoted" <b>Bold</b> | pipe * star ?');
    expect(cells).toContain("Tab\tNew\nLine\u0007Bell\u0000Nul");
  });

  it("read as a `;`-locale (or tab) spreadsheet reads it, no cell starts a formula (issue 21)", async () => {
    // Such a spreadsheet splits every line at each `;` and honours a quote only at its own cells' start, so the
    // comma-separated file's quotes do not hold there: a `;` (or a line break) in a name starts a cell.
    e = await setupDownload({
      calls: 30,
      extensions: [
        { id: "62264425102", extensionNumber: "102", name: "Alice;=2*21;" },
        { id: "62264425103", extensionNumber: "103", name: "Bob\n@SUM(A1)\t-3" },
      ],
    });
    const result = await e.download();
    expect(result.code, result.stderr).toBe(0);
    const raw = readFileSync(join(e.out, "index.csv"));
    for (const delimiter of [";", "\t"]) {
      const cells = (
        parse(raw, { bom: true, delimiter, quote: false, relaxColumnCount: true }) as string[][]
      ).flat();
      expect(cells.length).toBeGreaterThan(e.emu.control.recordings().length);
      const formulas = cells.filter((cell) => /^[=+\-@\t\r]/.test(cell) && !/^\+\d+$/.test(cell));
      expect(formulas, `cells split at ${JSON.stringify(delimiter)}`).toEqual([]);
    }
    // Read the usual way, the names are as the directory has them but for the `'` before each formula start.
    const names = indexOf(e.out).rows.map((row) => row.extensionName);
    expect(names).toContain("Alice;'=2*21;");
    expect(names).toContain("Bob\n'@SUM(A1)\t'-3");
  });

  it("is rebuilt from the manifest after a run that saved something or when missing, and a dry run does not write it", async () => {
    e = await setupDownload();
    const dry = await e.download(["--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(join(e.out, "index.csv"))).toBe(false);

    expect((await e.download()).code).toBe(0);
    const first = indexOf(e.out).rows;
    expect(first.length).toBe(e.emu.control.recordings().length);
    // A run that saves nothing leaves it alone (a marker written into it survives)...
    writeFileSync(join(e.out, "index.csv"), "untouched");
    expect((await e.download()).code).toBe(0);
    expect(readFileSync(join(e.out, "index.csv"), "utf8")).toBe("untouched");
    // ...unless it is missing: then that run writes it, with the same rows.
    rmSync(join(e.out, "index.csv"));
    expect((await e.download()).code).toBe(0);
    expect(indexOf(e.out).rows).toEqual(first);
    // It is replaced through a temporary file, and none is left beside it.
    expect(readdirSync(e.out).filter((name) => name.includes("index.csv"))).toEqual(["index.csv"]);
  });
});
