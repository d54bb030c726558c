import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import type { Logger } from "../log/logger.js";
import { mergeByStartTime } from "./merge-listings.js";
import { PageBuffer, type RecordSpan } from "./page-buffer.js";
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
  /** Filled while listing: call-log records seen and distinct recordings yielded. */
  stats?: ListingStats;
  /** Only the calls of the extension with this short number (the account call log's `extensionNumber`). */
  extensionNumber?: string;
  /**
   * The recording ids already yielded, shared by listings merged into one (a call between two extensions is in
   * both extensions' logs). Default: this listing's own.
   */
  seen?: Set<string>;
}

export interface ListingStats {
  records: number;
  recordings: number;
}

/** A page whose records are still bytes in the listing's PageBuffer. */
interface CallLogPage {
  records: RecordSpan[];
  next: string | undefined;
  /** The request's path, for errors. */
  path: string;
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
  const stats = options.stats ?? { records: 0, recordings: 0 };
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
  let page = await firstPage(api, buffer, options.scope, query, log);
  for (;;) {
    for (const span of page.records) {
      stats.records++;
      const record = parseRecord(buffer, span, page.path);
      if (!record) continue;
      let kept: CallLogRecord | undefined; // one slim copy per record, shared by its recordings' items
      for (const recording of recordingsOf(record)) {
        const recordingId = String(recording.id);
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
    if (!page.next || page.records.length === 0) return;
    page = await getPage(api, buffer, page.next);
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

/** The downloadable recordings of a record: its own, then its legs' (duplicates are left to the caller). */
function recordingsOf(record: CallLogRecord): CallRecording[] {
  const legs = Array.isArray(record.legs) ? record.legs : [];
  return [record.recording, ...legs.map((leg) => leg?.recording)].filter(
    (recording): recording is CallRecording =>
      typeof recording === "object" && recording !== null && !!recording.id && !!recording.contentUri,
  );
}

function getPage(api: ApiClient, buffer: PageBuffer, url: string): Promise<CallLogPage> {
  return api.getJsonWith(url, undefined, async (response) => {
    await buffer.fill(response.body);
    const { records, rest } = buffer.split();
    const next = (rest as { navigation?: { nextPage?: { uri?: unknown } } } | null)?.navigation?.nextPage
      ?.uri;
    return {
      records,
      next: typeof next === "string" ? next : undefined,
      path: new URL(response.url).pathname,
    };
  });
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
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(duration === undefined ? {} : { duration }),
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
  scope: CallLogScope | undefined,
  query: URLSearchParams,
  log: Logger,
): Promise<CallLogPage> {
  const url = (s: CallLogScope) => `${PATHS[s]}?${query}`;
  if (scope) return getPage(api, buffer, url(scope));
  try {
    return await getPage(api, buffer, url("account"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    log.info(
      "no permission for the account-wide call log; listing your own extension's calls (--scope extension)",
    );
    return getPage(api, buffer, url("extension"));
  }
}
