import type { Zone } from "../zone.js";
import type { ManifestEntry, RepairRecord, UnsavedRecord } from "./manifest.js";

/**
 * `report`: what the platform's call log had against what the archive holds. Pure: the command lists the call
 * log and reads the manifest, this module sorts every listed recording into archived or missing, and says why
 * each missing one is missing.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A recording the call log listed, as far as the report needs it. */
export interface ListedRecording {
  recordingId: string;
  callId: string;
  startTime: string;
  /** The extension's number as the directory names it, when known (for `--by extension`). */
  extension?: string | undefined;
}

/**
 * Why a listed recording is not in the archive:
 * - `deleted`: a run met a 404 for its content: the platform lists it, but the recording itself is gone;
 * - `failed`: a run tried and failed for another reason (`error` is the last one);
 * - `pending`: no run has tried yet; `daysLeft` before retention deletes it.
 */
export type MissingReason = "deleted" | "pending" | "failed";

export interface MissingRecording extends ListedRecording {
  reason: MissingReason;
  /** `pending`: whole days until the platform's retention deletes it (0: it may go any moment). */
  daysLeft?: number;
  /** `deleted`, `failed`: what the last run that tried met, and when. */
  error?: string;
  at?: string;
}

/** An archived recording that `download --repair` fetched again (its latest repair record). */
export interface RepairedRecording extends ListedRecording {
  /** When it was repaired, what the check had found, and the SHA-256 before and after. */
  at?: string;
  found: RepairRecord["found"];
  previousSha256: string;
  /** A changed file: the SHA-256 of what it held, when it was read. */
  foundSha256?: string;
  sha256: string;
  /** Where the changed copy is kept, relative to the archive. */
  quarantine?: string;
}

/** One row of the per-day (and per-extension) table. */
export interface DayRow {
  /** YYYY-MM-DD of the calls' start, in `--timezone` (default UTC). */
  day: string;
  /** `--by extension`: the extension's number ("unknown" when the directory does not name it). */
  extension?: string;
  expected: number;
  archived: number;
  missing: number;
}

/** The `--json` document. */
export interface CompletenessReport {
  from: string;
  to: string;
  expected: number;
  archived: number;
  missing: MissingRecording[];
  /** Archived recordings of the range that a repair fetched again (evidence from the manifest's chain). */
  repaired: RepairedRecording[];
  days: DayRow[];
}

export interface ArchiveView {
  /** Recordings the manifest lists (the later line of a recording wins). */
  entries: ReadonlyMap<string, ManifestEntry>;
  /** What runs recorded they could not save (the latest record of a recording wins). */
  unsaved: ReadonlyMap<string, UnsavedRecord & { at?: string }>;
  /** What `download --repair` fetched again (the latest repair of a recording wins). */
  repairs: ReadonlyMap<string, RepairRecord & { at?: string }>;
}

/** Builds the report as listed recordings arrive (a long range is never held in memory beyond its missing ones). */
export class CompletenessTally {
  private expected = 0;
  private archived = 0;
  private readonly missing: MissingRecording[] = [];
  private readonly repaired: RepairedRecording[] = [];
  private readonly rows = new Map<string, DayRow>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly archive: ArchiveView,
    private readonly options: { byExtension: boolean; now: Date; retentionDays: number; zone?: Zone },
  ) {}

  add(listed: ListedRecording): void {
    if (this.seen.has(listed.recordingId)) return; // a recording listed by two legs counts once
    this.seen.add(listed.recordingId);
    const row = this.rowOf(listed);
    this.expected += 1;
    row.expected += 1;
    if (this.archive.entries.has(listed.recordingId)) {
      this.archived += 1;
      row.archived += 1;
      const repair = this.archive.repairs.get(listed.recordingId);
      if (repair) this.repaired.push(repairedOf(listed, repair));
      return;
    }
    row.missing += 1;
    this.missing.push(this.whyMissing(listed));
  }

  report(range: { from: Date; to: Date }): CompletenessReport {
    const days = [...this.rows.values()].sort(
      (a, b) => a.day.localeCompare(b.day) || (a.extension ?? "").localeCompare(b.extension ?? ""),
    );
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      expected: this.expected,
      archived: this.archived,
      missing: [...this.missing].sort((a, b) => a.startTime.localeCompare(b.startTime)),
      repaired: [...this.repaired].sort((a, b) => a.startTime.localeCompare(b.startTime)),
      days,
    };
  }

  private whyMissing(listed: ListedRecording): MissingRecording {
    const unsaved = this.archive.unsaved.get(listed.recordingId);
    if (unsaved) {
      return {
        ...listed,
        reason: unsaved.reason,
        error: unsaved.error,
        ...(unsaved.at !== undefined && { at: unsaved.at }),
      };
    }
    const start = Date.parse(listed.startTime);
    const deletesAt = start + this.options.retentionDays * DAY_MS;
    const daysLeft = Math.max(0, Math.floor((deletesAt - this.options.now.getTime()) / DAY_MS));
    return { ...listed, reason: "pending", daysLeft };
  }

  private rowOf(listed: ListedRecording): DayRow {
    const day = dayOf(listed.startTime, this.options.zone);
    const extension = this.options.byExtension ? (listed.extension ?? "unknown") : undefined;
    const key = `${day}|${extension ?? ""}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { day, ...(extension !== undefined && { extension }), expected: 0, archived: 0, missing: 0 };
      this.rows.set(key, row);
    }
    return row;
  }
}

function repairedOf(listed: ListedRecording, repair: RepairRecord & { at?: string }): RepairedRecording {
  return {
    ...listed,
    ...(repair.at !== undefined && { at: repair.at }),
    found: repair.found,
    previousSha256: repair.previousSha256,
    ...(repair.foundSha256 !== undefined && { foundSha256: repair.foundSha256 }),
    sha256: repair.sha256,
    ...(repair.quarantine !== undefined && { quarantine: repair.quarantine }),
  };
}

/** The calendar day of a start time in `zone`; a start time that is no date keeps its first ten characters. */
function dayOf(startTime: string, zone: Zone | undefined): string {
  const at = new Date(startTime);
  if (zone === undefined || Number.isNaN(at.getTime())) return startTime.slice(0, 10);
  const wall = zone.wall(at);
  return `${wall.year}-${wall.month}-${wall.day}`;
}
