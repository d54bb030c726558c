import { relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import type { Extension } from "../listing/types.js";
import { Zone } from "../zone.js";
import { type ManifestEntry, readManifestEntries } from "./manifest.js";

/**
 * `DIR/index.csv`: one row per archived recording, for people (a spreadsheet) rather than for the tool. It is
 * rebuilt from the manifest after every run and replaced atomically, so it never disagrees with the manifest
 * for long and a crash never leaves half of it.
 */
export const INDEX_FILE_NAME = "index.csv";

/** The columns, in order; the header row names them exactly so. */
export const INDEX_COLUMNS = [
  "startTime",
  "date",
  "time",
  "direction",
  "fromNumber",
  "fromName",
  "toNumber",
  "toName",
  "extensionNumber",
  "extensionName",
  "durationSec",
  "type",
  "contentType",
  "bytes",
  "sha256",
  "recordingId",
  "callId",
  "sessionId",
  "path",
] as const;

type Column = (typeof INDEX_COLUMNS)[number];

/** A byte order mark: spreadsheet programs (Excel above all) then read the file as UTF-8, not the locale's code page. */
const BOM = "\uFEFF";
/** RFC 4180 ends records with CRLF. */
const EOL = "\r\n";
/**
 * Rebuild `index.csv` at the destination's top level from its manifest, replaced atomically (`writeSmall`). The
 * text is built whole: about 300 bytes a recording, 30 MB for 100 000.
 */
export async function writeArchiveIndex(
  destination: Destination,
  /**
   * The extension of an id, for recordings saved while the directory could not be read (their manifest lines
   * have the id but no number or name): the index shows the names once a later run knows them.
   */
  extensionOf?: (extensionId: string) => Promise<Extension | undefined>,
  /** The zone of the `date` and `time` columns (the names' zone). */
  zone: Zone = Zone.UTC,
): Promise<void> {
  const entries = (await readManifestEntries(destination)) ?? [];
  if (extensionOf) await fillExtensions(entries, extensionOf);
  entries.sort(byStartTime);
  const rows = entries.map((entry) => csvRow(INDEX_COLUMNS.map((column) => cellOf(entry, column, zone))));
  const text = `${BOM}${csvRow(INDEX_COLUMNS)}${rows.join("")}`;
  await destination.writeSmall(relPath(INDEX_FILE_NAME), text, "text/csv; charset=utf-8", "derived");
}

async function fillExtensions(
  entries: ManifestEntry[],
  extensionOf: (extensionId: string) => Promise<Extension | undefined>,
): Promise<void> {
  const found = new Map<string, Extension | undefined>();
  for (const entry of entries) {
    const id = entry.extensionId;
    if (id === undefined || entry.extensionNumber !== undefined || entry.extensionName !== undefined)
      continue;
    if (!found.has(id)) found.set(id, await extensionOf(id));
    const extension = found.get(id);
    if (extension) {
      entry.extensionNumber = extension.extensionNumber;
      entry.extensionName = extension.name;
    }
  }
}

/** Oldest first; ties (and unparseable times, last) by recording id, so the order is stable run to run. */
function byStartTime(a: ManifestEntry, b: ManifestEntry): number {
  const ta = timeOf(a);
  const tb = timeOf(b);
  if (ta !== tb) return ta - tb;
  return a.recordingId < b.recordingId ? -1 : a.recordingId > b.recordingId ? 1 : 0;
}

function timeOf(entry: ManifestEntry): number {
  const ms = Date.parse(entry.startTime);
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}

/** `startTime` stays UTC ISO (sortable, unambiguous); `date` and `time` are the wall clock of the run's zone. */
function cellOf(entry: ManifestEntry, column: Column, zone: Zone): string {
  const start = new Date(entry.startTime);
  const valid = !Number.isNaN(start.getTime());
  const wall = valid ? zone.wall(start) : undefined;
  switch (column) {
    case "startTime":
      return valid ? start.toISOString() : (entry.startTime ?? "");
    case "date":
      return wall ? `${wall.year}-${wall.month}-${wall.day}` : "";
    case "time":
      return wall ? `${wall.hour}:${wall.minute}:${wall.second}` : "";
    default: {
      const value = entry[column];
      return value === undefined || value === null ? "" : String(value);
    }
  }
}

export function csvRow(cells: readonly string[]): string {
  return `${cells.map((cell) => csvField(neutralise(cell))).join(",")}${EOL}`;
}

/**
 * RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled; so is one with a `;` or a tab (a
 * reader that splits there keeps it whole when it is the first cell of the line; elsewhere see neutralise).
 */
function csvField(value: string): string {
  return /[",;\t\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * OWASP "CSV Injection": a spreadsheet runs a cell that begins with `=`, `+`, `-`, `@`, tab or CR as a formula
 * (`=HYPERLINK(…)` in a caller's name). Such a cell gets a leading `'`, which spreadsheets show as text. A
 * phone number (`+` and digits only) stays as it is, so it can still be searched for.
 *
 * A cell can also begin INSIDE our text: a spreadsheet in a locale whose list separator is `;` (or one reading
 * tabs) splits each line at every `;`, and honours a quote only at the start of its own cells, so the quotes
 * of the comma-separated file do not hold there; `Alice;=2*21;` would give a cell `=2*21`, and a line break in
 * a name a line that starts with what follows it. So whatever follows a `;`, tab, CR or LF inside a cell gets
 * the same `'` when it would begin a formula.
 */
export function neutralise(value: string): string {
  const inner = value.replace(INNER_FORMULA, "$1'");
  if (!/^[=+\-@\t\r]/.test(inner)) return inner;
  if (/^\+\d+$/.test(inner)) return inner;
  return `'${inner}`;
}

/** A formula's first character right after a character where another reader starts a cell or a line. */
const INNER_FORMULA = /([;\t\r\n])(?=[=+\-@\t\r])/g;

/** Whether `index.csv` is there at all (a run that added nothing still writes a missing one). */
export async function hasArchiveIndex(destination: Destination): Promise<boolean> {
  return (await destination.stat(relPath(INDEX_FILE_NAME))) !== undefined;
}
