import { describe, expect, it } from "vitest";
import { ApiError } from "../../../src/api/errors.js";
import { createResponse } from "../../../src/api/response.js";
import type { ApiClient } from "../../../src/api/types.js";
import {
  ListingIncompleteError,
  type ListingStats,
  type ListOptions,
  listRecordings,
} from "../../../src/listing/call-log.js";
import { MAX_PAGES } from "../../../src/listing/paging.js";
import type { CallLogRecord, CallRecording, RecordingItem } from "../../../src/listing/types.js";
import { Logger } from "../../../src/log/logger.js";

const ACCOUNT = "/restapi/v1.0/account/~/call-log";
const EXTENSION = "/restapi/v1.0/account/~/extension/~/call-log";

function recording(id: number, type?: "Automatic" | "OnDemand"): CallRecording {
  return {
    id: String(id),
    contentUri: `https://media.ringcentral.com/restapi/v1.0/account/1/recording/${id}/content`,
    ...(type === undefined ? {} : { type }),
  };
}

function record(id: number, recordingId?: number): CallLogRecord {
  return {
    id: `call-${id}`,
    startTime: new Date(Date.UTC(2026, 10, 25, 12, 0, id)).toISOString(),
    ...(recordingId === undefined ? {} : { recording: recording(recordingId) }),
  };
}

/** A Detailed-view record whose legs carry these recordings (undefined: a leg without one). */
function withLegs(base: CallLogRecord, legs: (CallRecording | undefined)[]): CallLogRecord {
  return {
    ...base,
    legs: legs.map((r, i) => ({ legType: "PstnToSip", master: i === 0, ...(r && { recording: r }) })),
  };
}

/** An ApiClient over canned pages: page n links to page n+1 via navigation.nextPage.uri. */
function fakeApi(pages: CallLogRecord[][], options: { forbidAccount?: boolean } = {}) {
  return scriptedApi((parsed) => {
    if (options.forbidAccount && parsed.pathname === ACCOUNT) {
      throw new ApiError(403, "CMN-408", "needs FullCompanyCallLog", parsed.pathname);
    }
    const page = Number(parsed.searchParams.get("page") ?? "1");
    const next =
      page < pages.length ? `https://platform.ringcentral.com${parsed.pathname}?page=${page + 1}` : undefined;
    return { records: pages[page - 1] ?? [], navigation: next ? { nextPage: { uri: next } } : {} };
  });
}

/** A server whose page bodies a test writes: `answer(url, n)` for the n-th request (1-based). */
function scriptedApi(answer: (url: URL, n: number) => unknown) {
  const requested: string[] = [];
  const api: ApiClient = {
    get: () => Promise.reject(new Error("not used")),
    getJson: () => Promise.reject(new Error("not used")),
    getJsonWith: async (url, _init, read) => {
      requested.push(url);
      const parsed = new URL(url, "https://platform.ringcentral.com");
      const body = JSON.stringify(answer(parsed, requested.length));
      return read(createResponse({ status: 200, url: parsed.href, body }));
    },
  };
  return { api, requested };
}

function logCollector() {
  const lines: string[] = [];
  return { log: new Logger("normal", { write: (t: string) => lines.push(t) }), lines };
}

const OPTIONS: ListOptions = {
  scope: "account",
  from: new Date("2026-11-24T00:00:00Z"),
  to: new Date("2026-11-25T00:00:00Z"),
  type: "All",
};

async function collect(iterable: AsyncIterable<{ recordingId: string }>): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of iterable) ids.push(item.recordingId);
  return ids;
}

describe("listRecordings", () => {
  it("asks for the range, recording type and 1000 per page, and follows nextPage to the end", async () => {
    const { api, requested } = fakeApi([
      [record(1, 101), record(2, 102)],
      [record(3, 103)],
      [record(4, 104)],
    ]);
    const stats: ListingStats = { pages: 0, records: 0, recordings: 0 };
    const ids = await collect(
      listRecordings(api, { ...OPTIONS, type: "OnDemand", stats }, logCollector().log),
    );
    expect(ids).toEqual(["101", "102", "103", "104"]);
    expect(requested).toHaveLength(3);
    const first = new URL(requested[0] as string, "https://x");
    expect(first.pathname).toBe(ACCOUNT);
    expect(Object.fromEntries(first.searchParams)).toEqual({
      dateFrom: "2026-11-24T00:00:00.000Z",
      dateTo: "2026-11-25T00:00:00.000Z",
      recordingType: "OnDemand",
      view: "Detailed",
      perPage: "1000",
    });
    expect(requested[1]).toBe(`https://platform.ringcentral.com${ACCOUNT}?page=2`);
    expect(stats).toEqual({ pages: 3, records: 4, recordings: 4 });
  });

  it("yields a recording shared by several legs once, and skips records without one", async () => {
    const { api } = fakeApi([
      [record(1, 101), record(2, 101), record(3)],
      [record(4, 101), record(5, 105)],
    ]);
    const stats: ListingStats = { pages: 0, records: 0, recordings: 0 };
    expect(await collect(listRecordings(api, { ...OPTIONS, stats }, logCollector().log))).toEqual([
      "101",
      "105",
    ]);
    expect(stats).toEqual({ pages: 2, records: 5, recordings: 2 });
  });

  it("yields each distinct recording of a record and of its legs, across pages, with the call's record", async () => {
    const transferred = withLegs(record(1), [recording(201, "Automatic"), recording(202, "OnDemand")]);
    const { api, requested } = fakeApi([
      [transferred, withLegs(record(2, 101), [recording(101), recording(203)])],
      [withLegs(record(3), [recording(202), undefined, recording(204)]), record(4)],
    ]);
    const stats: ListingStats = { pages: 0, records: 0, recordings: 0 };
    const items: RecordingItem[] = [];
    for await (const item of listRecordings(api, { ...OPTIONS, stats }, logCollector().log)) items.push(item);
    expect(items.map((i) => [i.recordingId, i.record.id])).toEqual([
      ["201", "call-1"],
      ["202", "call-1"],
      ["101", "call-2"],
      ["203", "call-2"],
      ["204", "call-3"],
    ]);
    expect(items[1]).toMatchObject({
      recordingType: "OnDemand",
      contentUri: "https://media.ringcentral.com/restapi/v1.0/account/1/recording/202/content",
    });
    expect(items[0]?.recordingType).toBe("Automatic");
    // The slim record is the call's, shared by its items, without legs.
    expect(items[0]?.record).toBe(items[1]?.record);
    expect(items[0]?.record).toEqual({ id: "call-1", startTime: transferred.startTime });
    expect(requested).toHaveLength(2);
    expect(stats).toEqual({ pages: 2, records: 4, recordings: 5 });
  });

  it("skips leg recordings without an id or contentUri", async () => {
    const broken = withLegs(record(1), [
      { id: "", contentUri: "https://media.example/x" },
      { id: "301" } as CallRecording,
      recording(302),
    ]);
    const { api } = fakeApi([[broken]]);
    expect(await collect(listRecordings(api, OPTIONS, logCollector().log))).toEqual(["302"]);
  });

  it("streams: the first page's recordings arrive before the next page is requested", async () => {
    const { api, requested } = fakeApi([[record(1, 101)], [record(2, 102)], [record(3, 103)]]);
    const iterator = listRecordings(api, OPTIONS, logCollector().log);
    const first = await iterator.next();
    expect(first.value).toMatchObject({ recordingId: "101", record: { id: "call-1" } });
    expect(requested).toHaveLength(1);
    await iterator.return(undefined);
  });

  it("without --scope falls back from a forbidden account log to the extension log with one notice", async () => {
    const { api, requested } = fakeApi([[record(1, 101)], [record(2, 102)]], { forbidAccount: true });
    const { log, lines } = logCollector();
    expect(await collect(listRecordings(api, { ...OPTIONS, scope: undefined }, log))).toEqual(["101", "102"]);
    expect(requested.map((u) => new URL(u, "https://x").pathname)).toEqual([ACCOUNT, EXTENSION, EXTENSION]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/extension/);
  });

  it("with --scope account a 403 is an error, not a silent fallback", async () => {
    const { api } = fakeApi([[record(1, 101)]], { forbidAccount: true });
    await expect(collect(listRecordings(api, OPTIONS, logCollector().log))).rejects.toMatchObject({
      status: 403,
    });
  });

  it("--scope extension goes straight to the user's own log", async () => {
    const { api, requested } = fakeApi([[record(1, 101)]]);
    await collect(listRecordings(api, { ...OPTIONS, scope: "extension" }, logCollector().log));
    expect(new URL(requested[0] as string, "https://x").pathname).toBe(EXTENSION);
  });

  it("an empty page that still links a next page is a failure, not the end", async () => {
    const pages = [[record(1, 101)], [], [record(3, 103)]];
    const { api, requested } = fakeApi(pages);
    await expect(collect(listRecordings(api, OPTIONS, logCollector().log))).rejects.toThrow(
      /page 2 is empty but links a next page/,
    );
    expect(requested).toHaveLength(2);
  });
});

const linkTo = (uri: string) => ({ nextPage: { uri } });

describe("listRecordings: a listing that cannot prove its end fails", () => {
  const list = (api: ApiClient) => collect(listRecordings(api, OPTIONS, logCollector().log));

  it("a nextPage pointing at the page itself", async () => {
    const { api, requested } = scriptedApi((url) => ({
      records: [record(1, 101)],
      navigation: linkTo(url.href),
    }));
    await expect(list(api)).rejects.toBeInstanceOf(ListingIncompleteError);
    expect(requested).toHaveLength(2);
  });

  it("a cycle of pages (1 → 2 → 1), also with the query reordered", async () => {
    let first: URL | undefined;
    const { api, requested } = scriptedApi((url, n) => {
      first ??= url;
      const back = new URL(first.href);
      back.search = `?${[...first.searchParams]
        .reverse()
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join("&")}`;
      return {
        records: [record(n, 100 + n)],
        navigation: linkTo(n === 1 ? `${url.href}&page=2` : back.href),
      };
    });
    await expect(list(api)).rejects.toThrow(/page 3 repeats page 1/);
    expect(requested).toHaveLength(3);
  });

  it("a server that ignores `page` (every page starts with the same record)", async () => {
    const { api, requested } = scriptedApi((url, n) => ({
      records: [record(1, 101), record(2, 102)],
      navigation: linkTo(`${url.origin}${url.pathname}?page=${n + 1}`),
    }));
    await expect(list(api)).rejects.toThrow(/page 2 starts with the same record as page 1/);
    expect(requested).toHaveLength(2);
  });

  it(`more than ${MAX_PAGES} pages`, async () => {
    const { api, requested } = scriptedApi((url, n) => ({
      records: [record(n, 100_000 + n)],
      navigation: linkTo(`${url.origin}${url.pathname}?page=${n + 1}`),
    }));
    await expect(list(api)).rejects.toThrow(/more than 1000 pages/);
    expect(requested).toHaveLength(MAX_PAGES + 1);
  });

  it("a 200 page without a records array", async () => {
    const { api } = scriptedApi(() => ({ navigation: {} }));
    await expect(list(api)).rejects.toThrow(/has no records array/);
  });

  it("the last page (no nextPage), even an empty one, is the end", async () => {
    const { api } = scriptedApi((url, n) =>
      n === 1 ? { records: [record(1, 101)], navigation: linkTo(`${url.href}&page=2`) } : { records: [] },
    );
    expect(await list(api)).toEqual(["101"]);
  });
});

describe("listRecordings: what each item keeps", () => {
  const full = {
    ...record(1, 101),
    direction: "Inbound",
    from: { phoneNumber: "+16505550100", name: "Caller", location: "Palo Alto" },
    billing: { costIncluded: 0 },
    legs: [{ legType: "PstnToSip", master: true, recording: recording(102) }],
  } as CallLogRecord;

  it("copies only the fields naming and the manifest read", async () => {
    const { api } = fakeApi([[full]]);
    const items = [];
    for await (const item of listRecordings(api, OPTIONS, logCollector().log)) items.push(item);
    expect(items[0]?.record).toEqual({
      id: "call-1",
      startTime: full.startTime,
      direction: "Inbound",
      from: { phoneNumber: "+16505550100", name: "Caller" },
    });
    expect(items.map((i) => i.recordingId)).toEqual(["101", "102"]);
  });

  it("keeps the record as sent with raw (for --metadata sidecars)", async () => {
    const { api } = fakeApi([[full]]);
    const items = [];
    for await (const item of listRecordings(api, { ...OPTIONS, raw: true }, logCollector().log))
      items.push(item);
    expect(items[0]?.record).toEqual(full);
    expect(items[1]?.record).toBe(items[0]?.record);
  });
});
