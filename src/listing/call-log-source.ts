import type { ApiClient } from "../api/types.js";
import type { Logger } from "../log/logger.js";
import {
  type CallLogScope,
  type ListingStats,
  listExtensionRecordings,
  listRecordings,
  type RecordingTypeFilter,
} from "./call-log.js";
import { type DirectoryOptions, type ExtensionDirectory, openExtensionDirectory } from "./extensions.js";
import { oldestFirst, type SliceOptions } from "./slices.js";
import type { MarkReader, RecordingSource, SourceContext, SourcePass } from "./source.js";
import type { RecordingItem, TimeRange } from "./types.js";

export interface CallLogSourceOptions {
  /** `--from`; undefined: continue from the incremental mark (or the last 24 h). */
  from: Date | undefined;
  /** Where each pass ends; a function is asked once per pass (a long-running command lists up to "now" each time). */
  to: Date | (() => Date);
  /** `--max-duration` was given: a `--from` inside the span earlier runs listed continues at their mark. */
  timeBoxed: boolean;
  type: RecordingTypeFilter;
  /** Keep each record as the platform sent it (for `--metadata` sidecars). */
  raw: boolean;
  /** Undefined: the account-wide log when this login may read it, else its own (decided on the first slice). */
  scope: CallLogScope | undefined;
  /** `--extension`: only these extensions' calls, checked against the directory before anything is listed. */
  extensionNumbers?: readonly string[] | undefined;
  /** How the span is cut into oldest-first slices (tests; see slices.ts for the defaults). */
  slicing?: SliceOptions | undefined;
  log: Logger;
  /** How one range is listed (tests); default: the call log these options describe. */
  listRange?:
    | ((range: TimeRange, client: ApiClient, stats: ListingStats) => AsyncIterable<RecordingItem>)
    | undefined;
  /** The extension directory (tests); default: the account's, or the login's own with `--scope extension`. */
  directory?: ((options: DirectoryOptions) => ExtensionDirectory) | undefined;
}

/**
 * The call log from the mark (or `--from`) to `--to`, oldest first, slice by slice: the listing policy of
 * `download`. Without `--scope` the first slice finds out which call log this login may read, and every later
 * slice (and pass) asks that one at once.
 */
export class CallLogSource implements RecordingSource {
  private scope: CallLogScope | undefined;

  constructor(private readonly options: CallLogSourceOptions) {
    this.scope = options.scope;
  }

  async open(context: SourceContext): Promise<SourcePass> {
    const { options } = this;
    const directory = (options.directory ?? openExtensionDirectory)({
      api: context.client,
      // An extension-scope run lists only its own calls: its own extension info names them all.
      source: options.scope === "extension" ? "own" : "account",
      state: context.state,
      writable: context.writable,
      log: options.log,
    });
    // An unknown `--extension` is bad input: nothing is listed (exit 2).
    if (options.extensionNumbers?.length) await directory.requireNumbers(options.extensionNumbers);
    const to = typeof options.to === "function" ? options.to() : options.to;
    const range = { from: await this.startOf(context.mark, to), to };
    const list = (slice: TimeRange) => this.list(slice, context);
    return {
      range,
      slices: () => oldestFirst(range, list, options.slicing),
      // Set on the item itself: a copy per recording measurably raised the peak memory of a 100 000-record dry run.
      prepare: async (item) => {
        const extension = await directory.byId(item.record.extension?.id);
        if (extension) item.extension = extension;
        return item;
      },
      knownExtension: (id) => directory.known(id),
    };
  }

  /**
   * `--from`, else the incremental start. A time-boxed run whose `--from` lies in the span earlier runs listed
   * completely continues at their mark: the hourly cron line does the backfill one stretch after another.
   */
  private async startOf(mark: MarkReader, to: Date): Promise<Date> {
    const { from, timeBoxed, log } = this.options;
    if (from === undefined) return mark.incrementalFrom(to);
    if (!timeBoxed) return from;
    const continued = await mark.continuationOf(from);
    if (!continued || continued.getTime() <= from.getTime()) return from;
    log.info(
      `continuing at ${continued.toISOString()}: earlier runs listed everything from ${from.toISOString()} up to there`,
    );
    return continued;
  }

  private list(
    range: TimeRange,
    { client, listingStats: stats }: SourceContext,
  ): AsyncIterable<RecordingItem> {
    const { options } = this;
    if (options.listRange) return options.listRange(range, client, stats);
    const listing = { from: range.from, to: range.to, type: options.type, raw: options.raw, stats };
    if (options.extensionNumbers?.length) {
      return listExtensionRecordings(client, listing, options.extensionNumbers, options.log);
    }
    const onScope = (found: CallLogScope) => {
      this.scope = found;
    };
    return listRecordings(client, { ...listing, scope: this.scope, onScope }, options.log);
  }
}
