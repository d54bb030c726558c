import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import type { Logger } from "../ui/logger.js";
import type { CallLogRecord, CallParty, RecordingItem } from "./types.js";

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
}

export interface ListingStats {
  records: number;
  recordings: number;
}

interface CallLogPage {
  records?: CallLogRecord[];
  navigation?: { nextPage?: { uri?: string } };
}

const PATHS: Record<CallLogScope, string> = {
  account: "/restapi/v1.0/account/~/call-log",
  extension: "/restapi/v1.0/account/~/extension/~/call-log",
};

/**
 * The recordings of a time range, page by page: each page's recordings are yielded before the next page is
 * requested, so a huge log never sits in memory. A recording shared by several records (legs of one call) is
 * yielded once; only the set of recording ids seen is kept.
 */
export async function* listRecordings(
  api: ApiClient,
  options: ListOptions,
  log: Logger,
): AsyncGenerator<RecordingItem, void, undefined> {
  const stats = options.stats ?? { records: 0, recordings: 0 };
  const seen = new Set<string>();
  const query = new URLSearchParams({
    dateFrom: options.from.toISOString(),
    dateTo: options.to.toISOString(),
    recordingType: options.type,
    perPage: String(options.perPage ?? 1000),
  });
  const keep = options.raw ? (record: CallLogRecord) => record : slim;
  // Only the page's items stay referenced while they are yielded, never the parsed page itself.
  const itemsOf = (page: CallLogPage): { items: RecordingItem[]; next: string | undefined } => {
    const items: RecordingItem[] = [];
    const records = page.records ?? [];
    for (const record of records) {
      stats.records++;
      const recording = record.recording;
      if (!recording?.id || !recording.contentUri || seen.has(String(recording.id))) continue;
      const recordingId = String(recording.id);
      seen.add(recordingId);
      stats.recordings++;
      items.push({ recordingId, contentUri: recording.contentUri, record: keep(record) });
    }
    return { items, next: records.length > 0 ? page.navigation?.nextPage?.uri : undefined };
  };
  let page = itemsOf(await firstPage(api, options.scope, query, log));
  for (;;) {
    yield* page.items;
    if (!page.next) return;
    page = itemsOf(await api.getJson<CallLogPage>(page.next));
  }
}

/** The fields of a record that naming, the manifest and retries read; nothing else of the page stays alive. */
function slim(record: CallLogRecord): CallLogRecord {
  const { id, sessionId, startTime, direction, from, to, extension, recording } = record;
  return {
    id,
    startTime,
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(direction === undefined ? {} : { direction }),
    ...(from ? { from: party(from) } : {}),
    ...(to ? { to: party(to) } : {}),
    ...(extension?.id === undefined ? {} : { extension: { id: extension.id } }),
    ...(recording
      ? {
          recording: {
            id: recording.id,
            contentUri: recording.contentUri,
            ...(recording.type === undefined ? {} : { type: recording.type }),
          },
        }
      : {}),
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
  scope: CallLogScope | undefined,
  query: URLSearchParams,
  log: Logger,
): Promise<CallLogPage> {
  const url = (s: CallLogScope) => `${PATHS[s]}?${query}`;
  if (scope) return api.getJson<CallLogPage>(url(scope));
  try {
    return await api.getJson<CallLogPage>(url("account"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    log.info(
      "no permission for the account-wide call log; listing your own extension's calls (--scope extension)",
    );
    return api.getJson<CallLogPage>(url("extension"));
  }
}
