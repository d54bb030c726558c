import type { StateStore } from "../destination/types.js";

/** What the mark record holds: where the next run without `--from` starts. */
export interface RunState {
  /** The incremental high-water mark: everything before it was listed (see `nextLastTo`). */
  lastTo: string;
  finishedAt: string;
  /**
   * Where the completely listed span that ends at `lastTo` begins (absent in state files of older versions): a
   * time-boxed run whose `--from` lies inside it continues at the mark instead of listing the span again.
   */
  listedFrom?: string;
}

/** A span whose listing completed, as far as the incremental mark is concerned. */
export interface ListedRun {
  from: Date;
  to: Date;
  /** Start time (ms) of the oldest recording that failed but may succeed later, if any. */
  oldestRetryable: number | undefined;
}

/**
 * The call log is filtered by a call's start time, but a call is logged only once it ends (and 15-30 s late),
 * so the next run re-reads this window before the last `to`. A call longer than 12 h that spans a run boundary
 * can still be missed; `--from` covers it. Re-listed recordings cost a line in a call-log page, never a
 * content request: the manifest skips them.
 */
export const INCREMENTAL_OVERLAP_MS = 12 * 60 * 60 * 1000;
export const FIRST_RUN_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * The next high-water mark after `run`. It advances to `run.to` only when the run's listing joined up with
 * the previous mark (otherwise the gap between them was never listed: a `--from 1h` test run after nights
 * that failed must not make the next nightly skip those days), and a range that ends earlier never moves it
 * back. A recording that failed but may succeed later holds the mark at its start, even below the previous
 * mark, so that the next incremental run lists it again.
 */
export function nextLastTo(previous: number | undefined, run: ListedRun): number {
  const retryFrom = run.oldestRetryable ?? Number.POSITIVE_INFINITY;
  if (previous === undefined) return Math.min(run.to.getTime(), retryFrom);
  const joined = run.from.getTime() <= previous;
  const reached = joined ? Math.max(previous, run.to.getTime()) : previous;
  return Math.min(reached, retryFrom);
}

/** Where the listed span ending at the next mark begins: widened by a run that joined it, else unchanged. */
function nextListedFrom(
  previous: { lastTo: number; listedFrom: number | undefined } | undefined,
  run: ListedRun,
): number | undefined {
  const from = run.from.getTime();
  if (previous === undefined) return from;
  if (from > previous.lastTo) return previous.listedFrom; // a gap: the mark did not move
  return Math.min(previous.listedFrom ?? from, from);
}

/**
 * The incremental mark: a record in the destination's state saying up to when earlier runs listed the call log
 * completely (and from when). Sources read it to decide where a pass starts; the run moves it as slices close.
 */
export class IncrementalMark {
  constructor(private readonly state: StateStore) {}

  /**
   * The mark. One past `now` (an older version stored a future `--to`; an edited file) is read as `now`:
   * believed, it would make every later run list an empty or inverted range and call it complete.
   */
  async read(now = Date.now()): Promise<RunState | undefined> {
    const text = await this.state.readMark();
    if (text === undefined) return undefined;
    try {
      const state = JSON.parse(text) as Partial<RunState>;
      if (typeof state.lastTo !== "string" || Number.isNaN(Date.parse(state.lastTo))) return undefined;
      const listedFrom =
        typeof state.listedFrom === "string" && !Number.isNaN(Date.parse(state.listedFrom))
          ? { listedFrom: state.listedFrom }
          : {};
      const lastTo = new Date(Math.min(Date.parse(state.lastTo), now)).toISOString();
      return { lastTo, finishedAt: String(state.finishedAt ?? ""), ...listedFrom };
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /**
   * A run over a destination that has no mark yet is about to list from `from`: record the empty span
   * [from, from) as listed, so that a first run killed or time-boxed before its first slice closed still leaves
   * its start to the next run without `--from` (else that run would take only the last 24 hours, and a first
   * `--from retention` backfill would be forgotten). True when it wrote the mark; an existing mark is left alone.
   */
  async begin(from: Date, at = new Date()): Promise<boolean> {
    if ((await this.read(at.getTime())) !== undefined) return false;
    const start = new Date(Math.min(from.getTime(), at.getTime())).toISOString();
    await this.write({ lastTo: start, finishedAt: at.toISOString(), listedFrom: start });
    return true;
  }

  /** Move the mark for a span whose listing completed (see `nextLastTo`). */
  async record(run: ListedRun, finishedAt = new Date()): Promise<void> {
    const previous = await this.read(finishedAt.getTime());
    // Never a mark past now: calls that have not happened yet were not listed.
    const lastTo = Math.min(
      nextLastTo(previous === undefined ? undefined : Date.parse(previous.lastTo), run),
      finishedAt.getTime(),
    );
    const listedFrom = nextListedFrom(
      previous && {
        lastTo: Date.parse(previous.lastTo),
        listedFrom: previous.listedFrom === undefined ? undefined : Date.parse(previous.listedFrom),
      },
      run,
    );
    await this.write({
      lastTo: new Date(lastTo).toISOString(),
      finishedAt: finishedAt.toISOString(),
      ...(listedFrom === undefined ? {} : { listedFrom: new Date(listedFrom).toISOString() }),
    });
  }

  /**
   * Where a time-boxed run asked to start at `from` continues: at the mark (minus the overlap) when earlier
   * runs listed everything from `from` up to it, else undefined (start at `from`).
   */
  async continuationOf(from: Date): Promise<Date | undefined> {
    const state = await this.read();
    if (state?.listedFrom === undefined) return undefined;
    const lastTo = Date.parse(state.lastTo);
    if (Date.parse(state.listedFrom) > from.getTime() || lastTo <= from.getTime()) return undefined;
    return new Date(Math.max(from.getTime(), lastTo - INCREMENTAL_OVERLAP_MS));
  }

  async write(state: RunState): Promise<void> {
    await this.state.writeMark(`${JSON.stringify(state)}\n`);
  }

  /** Where a run without `--from` starts: the last run's `to` minus the overlap, else the last 24 hours. */
  async incrementalFrom(to: Date): Promise<Date> {
    const state = await this.read();
    if (!state) return new Date(to.getTime() - FIRST_RUN_WINDOW_MS);
    return new Date(Math.min(Date.parse(state.lastTo), to.getTime()) - INCREMENTAL_OVERLAP_MS);
  }
}
