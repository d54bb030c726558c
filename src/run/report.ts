import { runClient } from "../api/run-client.js";
import type { ApiClient } from "../api/types.js";
import { type ArchiveView, type CompletenessReport, CompletenessTally } from "../archive/completeness.js";
import { readArchiveView } from "../archive/manifest.js";
import { IncrementalMark } from "../archive/mark.js";
import type { Destination } from "../destination/types.js";
import { UsageError } from "../errors.js";
import type { ListingStats } from "../listing/call-log.js";
import type { RecordingSource } from "../listing/source.js";
import type { TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import { BUDGETS } from "../retry.js";
import type { Zone } from "../zone.js";
import { listingPages } from "./eta.js";

export interface CompareOptions {
  destination: Destination;
  /** What the manifest holds (`readArchiveView`), read once before the listing. */
  archive: ArchiveView;
  /** The listing's client (the rate limiter inside); every request carries `signal` and is retried when transient. */
  api: ApiClient;
  /** The call log over the report's range (a pass over exactly that span: no mark, no time box). */
  source: RecordingSource;
  /** `--by extension`: rows per day and extension (asks the directory for the extensions' numbers). */
  byExtension: boolean;
  now: Date;
  retentionDays: number;
  /** `--timezone`: the zone whose calendar days the table's rows are. */
  zone: Zone;
  signal: AbortSignal;
  log: Logger;
}

/**
 * `report`: list the call log over the range (Heavy pages, like a dry run; nothing is fetched and nothing
 * written) and hold every recording against the manifest. Read-only: no lock (a download may run meanwhile;
 * the manifest is read once, before the listing).
 */
export async function compareWithPlatform(
  options: CompareOptions,
): Promise<{ report: CompletenessReport; pages: number }> {
  const { destination, log, signal } = options;
  const tally = new CompletenessTally(options.archive, options);
  const client = runClient(options.api, {
    signal,
    retry: {
      budget: BUDGETS.listing,
      onRetry: (error, delayMs) => log.debug(`call-log page: ${error.message}; retrying in ${delayMs} ms`),
    },
  });
  const listingStats: ListingStats = { pages: 0, records: 0, recordings: 0 };
  const pass = await options.source.open({
    client,
    mark: new IncrementalMark(destination.state),
    state: destination.state,
    writable: false,
    listingStats,
  });
  for await (const slice of pass.slices()) {
    signal.throwIfAborted();
    for (const listed of slice.items) {
      const item = options.byExtension ? await pass.prepare(listed) : listed;
      tally.add({
        recordingId: item.recordingId,
        callId: item.record.id,
        startTime: item.record.startTime,
        extension: item.extension?.extensionNumber,
      });
    }
  }
  return { report: tally.report(pass.range), pages: listingStats.pages };
}

/** What the destination's manifest holds; a UsageError (exit 2) when there is no archive at all. */
export async function readArchive(destination: Destination): Promise<ArchiveView> {
  const archive = await readArchiveView(destination);
  if (!archive) {
    throw new UsageError(`no archive in ${destination.describe()}: it has no manifest (is --out right?)`);
  }
  return archive;
}

/**
 * Heavy requests the listing of `range` will cost, guessed from what the archive already holds there (see
 * eta.ts listingPages).
 */
export function estimatePages(archive: ArchiveView, range: TimeRange): number {
  let inRange = 0;
  for (const entry of archive.entries.values()) {
    const start = Date.parse(entry.startTime);
    if (start >= range.from.getTime() && start < range.to.getTime()) inRange += 1;
  }
  return listingPages(inRange);
}
