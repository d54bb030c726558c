import { csvRow } from "../archive/archive-index.js";
import type {
  CompletenessReport,
  DayRow,
  MissingRecording,
  RepairedRecording,
} from "../archive/completeness.js";

/** How `report` shows its result on stdout when it is not `--json`: a table per day, then each missing recording. */

function columns(report: CompletenessReport): { header: string[]; cells: (row: DayRow) => string[] } {
  const byExtension = report.days.some((row) => row.extension !== undefined);
  const counts = (row: DayRow) => [String(row.expected), String(row.archived), String(row.missing)];
  return byExtension
    ? {
        header: ["day", "extension", "expected", "archived", "missing"],
        cells: (row) => [row.day, row.extension ?? "", ...counts(row)],
      }
    : { header: ["day", "expected", "archived", "missing"], cells: (row) => [row.day, ...counts(row)] };
}

/** `--csv`: the per-day (and per-extension) table, one row each (the missing recordings are in `--json`). */
export function reportCsv(report: CompletenessReport): string[] {
  const { header, cells } = columns(report);
  // csvRow ends each row with the index's CRLF; the printer adds the line break itself.
  return [csvRow(header), ...report.days.map((row) => csvRow(cells(row)))].map((row) => row.trimEnd());
}

/** Plain text: the table aligned, a total, then one line per missing recording with its reason. */
export function reportText(report: CompletenessReport): string[] {
  const { header, cells } = columns(report);
  const rows = [header, ...report.days.map(cells)];
  rows.push(["total", ...header.slice(1, -3).map(() => ""), ...totals(report)]);
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
  );
  if (report.missing.length > 0) lines.push("", "missing:", ...report.missing.map(missingLine));
  if (report.repaired.length > 0) lines.push("", "repaired:", ...report.repaired.map(repairedLine));
  return lines;
}

function totals(report: CompletenessReport): string[] {
  return [String(report.expected), String(report.archived), String(report.missing.length)];
}

/** A repair from the manifest's chain: when, what was found, the SHA-256 before and after, the kept copy. */
function repairedLine(repaired: RepairedRecording): string {
  const kept = repaired.quarantine ? `; the changed copy is kept in ${repaired.quarantine}` : "";
  const held = repaired.foundSha256 ? `held ${repaired.foundSha256}, ` : "";
  const hashes = `${held}sha256 ${repaired.previousSha256} -> ${repaired.sha256}`;
  return `${repaired.startTime}  recording ${repaired.recordingId} (call ${repaired.callId})  ${repaired.found}, fetched again${repaired.at ? ` ${repaired.at}` : ""}, ${hashes}${kept}`;
}

function missingLine(missing: MissingRecording): string {
  const why =
    missing.reason === "pending"
      ? `pending: ${missing.daysLeft} days left before retention deletes it`
      : `${missing.reason}: ${missing.error ?? "unknown error"}${missing.at ? ` (${missing.at})` : ""}`;
  const extension = missing.extension ? ` ext ${missing.extension}` : "";
  return `${missing.startTime}  recording ${missing.recordingId} (call ${missing.callId}${extension})  ${why}`;
}
