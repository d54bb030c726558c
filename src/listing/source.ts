import type { ApiClient } from "../api/types.js";
import type { StateStore } from "../destination/types.js";
import type { ListingStats } from "./call-log.js";
import type { Slice } from "./slices.js";
import type { Extension, RecordingItem, TimeRange } from "./types.js";

/**
 * Where a run's recordings come from (see docs/architecture.md, "Recording sources"). A run asks its source for
 * a pass, consumes the pass's slices oldest first, and moves the incremental mark to the end of each slice once
 * every recording of it (and of every earlier slice) is settled. The source owns the listing policy — which
 * span, which call log, which extensions, how the span is cut — and nothing else: it never fetches content and
 * never writes the mark.
 *
 * `download` has one source (CallLogSource: the span from the mark, or `--from`, to `--to`). A long-running
 * command sweeps again and again: each sweep is one pass of its source through the same open run (`OpenRun.sweep`).
 */
export interface RecordingSource {
  /**
   * Start a pass: decide its span (reading the mark if it wants) and make every check that must fail before
   * anything is listed (an unknown `--extension` is a UsageError).
   */
  open(context: SourceContext): Promise<SourcePass>;
}

/** What the run lends a source for one pass. */
export interface SourceContext {
  /**
   * The run's listing client: the run's signal and deadline, transient failures retried. Every request of the
   * pass goes through it (a page held by the rate limiter then ends on Ctrl-C).
   */
  readonly client: ApiClient;
  /** Where earlier runs got to. Read it; never move it (the run does, slice by slice). */
  readonly mark: MarkReader;
  /** The destination's state, for caches of the source's own (write only when `writable`: not in a dry run). */
  readonly state: StateStore;
  readonly writable: boolean;
  /** Count pages, records and recordings here (a dry run's estimate reads `pages`). */
  readonly listingStats: ListingStats;
}

/** One pass of a source over one span. */
export interface SourcePass {
  /**
   * The span the pass lists, `from` inclusive, `to` exclusive. Once every slice up to `to` is closed the mark
   * records the whole span as listed; a pass that stops early moves the mark only over its closed slices.
   */
  readonly range: TimeRange;
  /**
   * Consecutive slices from `range.from` to `range.to`, oldest first, each listed completely before it is handed
   * over (a slice is a promise: "these are all the recordings that started in it"). The run asks for the next
   * slice only when it wants more, so a run that stops asking stops listing.
   */
  slices(): AsyncIterable<Slice>;
  /**
   * Fill in what naming needs beyond the listing (the extension's number and name) for a recording the run
   * will fetch or plan; recordings already saved never ask (no directory request for a run that fetches nothing).
   * A failure here fails that recording alone (a 404: the platform no longer has it), like a failed transfer.
   */
  prepare(item: RecordingItem): Promise<RecordingItem>;
  /**
   * The pass covers no span of the call log (`download --repair` fetches again what the manifest lists): the
   * incremental mark stays where it is, since nothing was listed.
   */
  readonly keepsMark?: boolean;
  /**
   * Heavy requests each recording the pass hands over costs before its content, besides the listing's pages
   * (`download --repair` asks the recording resource for each: 1). A dry run's estimate counts them. Default 0.
   */
  readonly lookupsPerRecording?: number;
  /**
   * The extension with this id as far as the pass knows it, never asking the platform twice: index.csv names
   * with it the recordings that were saved while the extension directory could not be read.
   */
  knownExtension?(extensionId: string): Promise<Extension | undefined>;
}

/** The incremental mark as a source reads it (archive/mark.ts IncrementalMark). */
export interface MarkReader {
  /** Where a pass without an explicit start begins: the mark minus the overlap, or the last 24 hours. */
  incrementalFrom(to: Date): Promise<Date>;
  /** Where a time-boxed pass asked to start at `from` continues, when earlier runs listed up to the mark from there. */
  continuationOf(from: Date): Promise<Date | undefined>;
}
