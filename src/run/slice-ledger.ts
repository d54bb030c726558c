import type { TimeRange } from "../listing/types.js";

/** One slice of a run while it is open: its recordings in flight and the names they claimed. */
export interface OpenSlice extends TimeRange {
  /** Recordings handed to the run and not settled yet. */
  pending: number;
  /** Every recording of the slice was handed to the run. */
  listed: boolean;
  /** A recording of the slice stopped unfinished (deadline, Ctrl-C, the login gone): the slice stays open. */
  blocked: boolean;
  /** Collision keys of the names this slice's recordings claimed (released when it closes). */
  readonly claimed: string[];
}

/**
 * The completed oldest-first prefix of a run. Slices open in order; the oldest one closes once it is listed and
 * each of its recordings settled (saved, skipped, or failed: a retryable failure holds the mark back by its own
 * start time, see IncrementalMark.record). Closing calls `onClosed` for each slice in order, one at a time, so the
 * incremental mark advances slice by slice and a stopped run never lists a finished slice again. A blocked
 * slice never closes, and neither does any slice after it.
 */
export class SliceLedger {
  private readonly open: OpenSlice[] = [];
  private closing: Promise<void> = Promise.resolve();

  /**
   * `onClosed` may fail (the state cannot be written: a full disk); `onError` gets that error, and later slices
   * still close (each close records a longer prefix, so a later success covers an earlier failure).
   */
  constructor(
    private readonly onClosed: (slice: OpenSlice) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(range: TimeRange): OpenSlice {
    const slice: OpenSlice = { ...range, pending: 0, listed: false, blocked: false, claimed: [] };
    this.open.push(slice);
    return slice;
  }

  add(slice: OpenSlice): void {
    slice.pending++;
  }

  /** A recording of `slice` is settled: `finished` false when it stopped before it could be. */
  settle(slice: OpenSlice, finished: boolean): void {
    slice.pending--;
    if (!finished) slice.blocked = true;
    this.flush();
  }

  listed(slice: OpenSlice): void {
    slice.listed = true;
    this.flush();
  }

  /** Resolves once every close started so far has run (state written). */
  idle(): Promise<void> {
    return this.closing;
  }

  private flush(): void {
    for (;;) {
      const head = this.open[0];
      if (!head?.listed || head.pending > 0 || head.blocked) return;
      this.open.shift();
      this.closing = this.closing.then(() => this.onClosed(head)).catch(this.onError);
    }
  }
}
