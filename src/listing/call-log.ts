import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import { OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { mergeByStartTime } from "./merge-listings.js";
import { PageBuffer, type RecordSpan } from "./page-buffer.js";
import { type BufferedPage, fetchPage, PagingGuard } from "./paging.js";
import type { CallLogRecord, CallParty, CallRecording, RecordingItem } from "./types.js";

export type CallLogScope = "account" | "extension";
export type RecordingTypeFilter = "Automatic" | "OnDemand" | "All";

export interface ListOptions {
  /** Undefined: the account-wide log when permitted (admins), else the user's own, with one notice line. */
  scope: CallLogScope | undefined;
  from: Date;
  to: Date;
  type: RecordingTypeFilter;
  /** 1..1000; the platform's maximum keeps Heavy requests (10 a minute by default) for the downloads. */
  perPage?: number;
  /**
   * Keep each record as the platform sent it (for `--metadata` sidecars). Otherwise only the fields
   * rc-recordings reads are copied out and the parsed page is dropped at once, which keeps a long listing small.
   */
  raw?: boolean;
  /** Filled while listing: pages asked for, call-log records seen and distinct recordings yielded. */
  stats?: ListingStats;
  /**
   * Told which log a listing without `scope` settled on, so the next listing of the run (its next slice) asks
   * that one at once instead of paying another Heavy 403 and notice line for the account-wide log.
   */
  onScope?: (scope: CallLogScope) => void;
  /** Only the calls of the extension with this short number (the account call log's `extensionNumber`). */
  extensionNumber?: string;
  /**
   * The recording ids already yielded, shared by listings merged into one (a call between two extensions is in
   * both extensions' logs). Default: this listing's own.
   */
  seen?: Set<string>;
}

export interface ListingStats {
  /** Call-log page requests (Heavy): what a dry run's estimate counts besides the downloads. */
  pages: number;
  records: number;
  recordings: number;
}

const PATHS: Record<CallLogScope, string> = {
  account: "/restapi/v1.0/account/~/call-log",
  extension: "/restapi/v1.0/account/~/extension/~/call-log",
};

/**
 * The recordings of a time range, page by page: each page's recordings are yielded before the next page is
 * requested, so a huge log never sits in memory. The Detailed view is asked for because a transferred call may
 * carry its recordings only on its legs (one per leg). A recording found on several records or legs is yielded
 * once; only the set of recording ids seen is kept.
 */
export async function* listRecordings(
  api: ApiClient,
  options: ListOptions,
  log: Logger,
): AsyncGenerator<RecordingItem, void, undefined> {
  const stats = options.stats ?? { pages: 0, records: 0, recordings: 0 };
  const seen = options.seen ?? new Set<string>();
  const query = new URLSearchParams({
    dateFrom: options.from.toISOString(),
    dateTo: options.to.toISOString(),
    recordingType: options.type,
    view: "Detailed",
    perPage: String(options.perPage ?? 1000),
    ...(options.extensionNumber === undefined ? {} : { extensionNumber: options.extensionNumber }),
  });
  const keep = options.raw ? (record: CallLogRecord) => record : slim;
  // One buffer for every page: the next page is read only once every record of this one has been yielded.
  const buffer = new PageBuffer();
  const paging: PagingGuard = new PagingGuard((reason) => new ListingIncompleteError(reason));
  let page = await firstPage(api, buffer, options, query, stats, log);
  for (;;) {
    paging.check(page, buffer);
    for (const span of page.records) {
      stats.records++;
      const record = parseRecord(buffer, span, page.path);
      if (!record) continue;
      let kept: CallLogRecord | undefined; // one slim copy per record, shared by its recordings' items
      for (const recording of recordingsOf(record)) {
        const recordingId = idText(recording.id);
        if (seen.has(recordingId)) continue;
        seen.add(recordingId);
        stats.recordings++;
        kept ??= keep(record);
        yield {
          recordingId,
          contentUri: recording.contentUri,
          ...(recording.type === undefined ? {} : { recordingType: recording.type }),
          record: kept,
        };
      }
    }
    if (!page.next) return; // the one way a listing is complete: the last page says there is no next one
    page = await getPage(api, buffer, page.next, stats);
  }
}

/**
 * The recordings of some extensions only (`--extension`): one account call-log listing per extension number
 * (the platform filters by one number at a time), merged by start time in the call log's order (newest first),
 * each recording once.
 */
export function listExtensionRecordings(
  api: ApiClient,
  options: Omit<ListOptions, "scope" | "extensionNumber" | "seen">,
  extensionNumbers: readonly string[],
  log: Logger,
): AsyncGenerator<RecordingItem, void, undefined> {
  const seen = new Set<string>();
  return mergeByStartTime(
    extensionNumbers.map((extensionNumber) =>
      listRecordings(api, { ...options, scope: "account", extensionNumber, seen }, log),
    ),
  );
}

/**
 * The listing did not provably reach its end: a page was malformed, or the pages never end (a `nextPage` that
 * points back, a server that ignores `page`, more pages than the platform serves). The run fails instead of
 * counting as complete, so the incremental mark stays where it was and the next run lists the range again.
 */
export class ListingIncompleteError extends OperationError {
  constructor(reason: string) {
    super(`the call-log listing is incomplete: ${reason}; the incremental mark was not moved`);
  }
}

/** The downloadable recordings of a record: its own, then its legs' (duplicates are left to the caller). */
function recordingsOf(record: CallLogRecord): CallRecording[] {
  const legs = Array.isArray(record.legs) ? record.legs : [];
  return [record.recording, ...legs.map((leg) => leg?.recording)].filter(
    (recording): recording is CallRecording =>
      typeof recording === "object" &&
      recording !== null &&
      idText(recording.id) !== "" &&
      typeof recording.contentUri === "string" &&
      recording.contentUri !== "",
  );
}

/** One call-log page, counted (a dry run's estimate counts Heavy requests). */
function getPage(
  api: ApiClient,
  buffer: PageBuffer,
  url: string,
  stats: ListingStats,
): Promise<BufferedPage> {
  stats.pages++;
  return fetchPage(api, buffer, url);
}

/**
 * A recording id as the archive keys it: text or a number as the platform sends it (digits, in practice); "" for
 * anything else (no usable id). The id goes into file names, S3 keys and object metadata headers, so every
 * character outside printable ASCII (a lone surrogate, a control character) becomes "_": otherwise that one
 * recording would fail on every run and hold the mark there.
 */
function idText(id: unknown): string {
  if (typeof id === "number") return Number.isFinite(id) ? String(id) : "";
  return typeof id === "string" ? id.replace(/[^\x21-\x7e]/g, "_") : "";
}

function parseRecord(buffer: PageBuffer, span: RecordSpan, path: string): CallLogRecord | undefined {
  let record: unknown;
  try {
    record = buffer.parse(span);
  } catch {
    throw new ApiError(200, undefined, "response is not JSON", path);
  }
  return typeof record === "object" && record !== null ? (record as CallLogRecord) : undefined;
}

/**
 * The fields of a record that naming, the manifest and retries read; nothing else of the page stays alive (its
 * recordings and legs are not kept: each item carries its recording's id, contentUri and type).
 */
function slim(record: CallLogRecord): CallLogRecord {
  const { id, sessionId, startTime, duration, direction, from, to, extension } = record;
  return {
    id,
    startTime,
    // Whether an empty body can be this call's recording (only when the call lasted 0 s).
    ...(duration === undefined ? {} : { duration }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(direction === undefined ? {} : { direction }),
    ...(from ? { from: party(from) } : {}),
    ...(to ? { to: party(to) } : {}),
    ...(extension?.id === undefined ? {} : { extension: { id: extension.id } }),
  };
}

function party({ phoneNumber, extensionNumber, name }: CallParty): CallParty {
  return {
    ...(phoneNumber === undefined ? {} : { phoneNumber }),
    ...(extensionNumber === undefined ? {} : { extensionNumber }),
    ...(name === undefined ? {} : { name }),
  };
}

async function firstPage(
  api: ApiClient,
  buffer: PageBuffer,
  { scope, onScope }: Pick<ListOptions, "scope" | "onScope">,
  query: URLSearchParams,
  stats: ListingStats,
  log: Logger,
): Promise<BufferedPage> {
  const url = (s: CallLogScope) => `${PATHS[s]}?${query}`;
  if (scope) return getPage(api, buffer, url(scope), stats);
  try {
    const page = await getPage(api, buffer, url("account"), stats);
    onScope?.("account");
    return page;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    log.info(
      "no permission for the account-wide call log; listing your own extension's calls (--scope extension)",
    );
    onScope?.("extension");
    return getPage(api, buffer, url("extension"), stats);
  }
}

/** What one call-log page of `perPage=1` says about a range: a count, nothing, or "some" (no totals). */
export type RecordedCallCount = { kind: "counted"; calls: number } | { kind: "some" };

/**
 * How many calls with a recording the call log lists in a range, from ONE Heavy request (`perPage=1`, the page's
 * `paging.totalElements`) instead of listing them: what a first run tells about the older recordings it leaves.
 * The platform may omit totals ("for performance reasons", spec §4): then an empty page still proves none, and a
 * page with a record says only "some". Without `scope` the account-wide log is asked, else (403) the user's own.
 */
export async function countRecordedCalls(
  api: ApiClient,
  options: {
    scope: CallLogScope | undefined;
    from: Date;
    to: Date;
    type: RecordingTypeFilter;
    signal: AbortSignal;
  },
): Promise<RecordedCallCount> {
  const ask = async (scope: CallLogScope): Promise<RecordedCallCount> => {
    const query = new URLSearchParams({
      dateFrom: options.from.toISOString(),
      dateTo: options.to.toISOString(),
      recordingType: options.type,
      perPage: "1",
    });
    const page = await api.getJson<{ records?: unknown; paging?: { totalElements?: unknown } }>(
      `${PATHS[scope]}?${query}`,
      { signal: options.signal },
    );
    const total = page.paging?.totalElements;
    if (typeof total === "number" && Number.isInteger(total) && total >= 0)
      return { kind: "counted", calls: total };
    if (Array.isArray(page.records) && page.records.length === 0) return { kind: "counted", calls: 0 };
    return { kind: "some" };
  };
  if (options.scope) return ask(options.scope);
  try {
    return await ask("account");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    return ask("extension");
  }
}
