import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login } from "./harness.js";
import { type Emulator, type EmulatorOptions, start } from "./index.js";

interface Party {
  phoneNumber?: string;
  name?: string;
  extensionNumber?: string;
}
interface Recording {
  id: string;
  uri: string;
  type: string;
  contentUri: string;
}
interface Leg {
  legType: string;
  master: boolean;
  recording?: Recording;
}
interface CallRecord {
  id: string;
  uri: string;
  startTime: string;
  type: string;
  direction: string;
  telephonySessionId: string;
  from: Party;
  to: Party;
  recording?: Recording;
  legs?: Leg[];
}

/** The recordings a (Detailed) record carries, on itself or on its legs. */
function recordingsOf(record: CallRecord): Recording[] {
  return [record.recording, ...(record.legs ?? []).map((leg) => leg.recording)].filter(
    (r): r is Recording => r !== undefined,
  );
}
interface CallLogPage {
  uri: string;
  records: CallRecord[];
  paging: { page: number; perPage: number; totalPages?: number; totalElements?: number };
  navigation: { nextPage?: { uri: string }; firstPage?: { uri: string } };
}

async function page(emu: Emulator, token: string, query: string, path = CALL_LOG): Promise<CallLogPage> {
  const res = await get(emu, query.startsWith("http") ? query : `${path}?${query}`, token);
  if (res.status !== 200) throw new Error(`call log ${res.status}: ${await res.text()}`);
  return (await res.json()) as CallLogPage;
}

/** Follow navigation.nextPage to the end. */
async function all(
  emu: Emulator,
  token: string,
  query: string,
): Promise<{ records: CallRecord[]; pages: number }> {
  let current = await page(emu, token, query);
  const records = [...current.records];
  let pages = 1;
  while (current.navigation.nextPage) {
    current = await page(emu, token, current.navigation.nextPage.uri);
    records.push(...current.records);
    pages++;
  }
  return { records, pages };
}

describe("call log (default dataset)", () => {
  let emu: Emulator;
  let token: string;
  beforeAll(async () => {
    emu = await start({ rateLimits: false });
    token = (await login(emu)).access_token;
  });
  afterAll(() => emu.stop());

  it("defaults to the last 24 h, newest first, with and without recordings", async () => {
    const body = await page(emu, token, "");
    expect(body.records).toHaveLength(30);
    const times = body.records.map((r) => Date.parse(r.startTime));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times.every((t) => t > Date.now() - 86_400_000 && t <= Date.now())).toBe(true);
    const withRecording = body.records.filter((r) => r.recording).length;
    expect(withRecording).toBeGreaterThan(12);
    expect(withRecording).toBeLessThan(30);
    expect(body.paging).toMatchObject({ page: 1, perPage: 100, totalElements: 30 });
    expect(body.navigation.nextPage).toBeUndefined();
  });

  it("a dateFrom/dateTo window selects only calls inside it", async () => {
    const everything = (await page(emu, token, "")).records;
    const newest = everything[0];
    const third = everything[2];
    if (!newest || !third) throw new Error("too few records");
    const query = new URLSearchParams({ dateFrom: third.startTime, dateTo: newest.startTime });
    const body = await page(emu, token, query.toString());
    // [dateFrom, dateTo): the newest call starts exactly at dateTo and is excluded.
    expect(body.records.map((r) => r.id)).toEqual([everything[1]?.id, third.id]);
    const old = await page(emu, token, "dateTo=2020-01-02T00:00:00Z");
    expect(old.records).toEqual([]);
  });

  it("pages via navigation.nextPage (absolute URLs on the API origin) until the last page", async () => {
    const first = await page(emu, token, "perPage=7&recordingType=All");
    expect(first.navigation.nextPage?.uri.startsWith(`${emu.server}/restapi/v1.0/account/`)).toBe(true);
    const { records, pages } = await all(emu, token, "perPage=7&recordingType=All&view=Detailed");
    expect(pages).toBe(Math.ceil(records.length / 7));
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    expect(records.every((r) => recordingsOf(r).length > 0)).toBe(true);
    const past = await page(emu, token, "perPage=7&page=99");
    expect(past.records).toEqual([]);
    expect(past.paging).toEqual({ page: 99, perPage: 7 });
  });

  it("filters by recordingType, type and direction", async () => {
    const automatic = (await page(emu, token, "recordingType=Automatic&view=Detailed")).records;
    const onDemand = (await page(emu, token, "recordingType=OnDemand")).records;
    const allRec = (await page(emu, token, "recordingType=All")).records;
    expect(automatic.length).toBeGreaterThan(0);
    expect(onDemand.length).toBeGreaterThan(0);
    expect(automatic.every((r) => recordingsOf(r).every((rec) => rec.type === "Automatic"))).toBe(true);
    expect(automatic.length + onDemand.length).toBe(allRec.length);
    const inbound = (await page(emu, token, "direction=Inbound")).records;
    expect(inbound.length).toBeGreaterThan(0);
    expect(inbound.every((r) => r.direction === "Inbound")).toBe(true);
    const both = (await page(emu, token, "direction=Inbound&direction=Outbound")).records;
    expect(both).toHaveLength(30);
    const voice = (await page(emu, token, "type=Voice")).records;
    expect(voice.every((r) => r.type === "Voice")).toBe(true);
  });

  it("has two-leg pairs sharing one recording, recordings on both origins, mixed content types", async () => {
    const records = (await page(emu, token, "recordingType=All")).records;
    const byRecording = new Map<string, CallRecord[]>();
    for (const r of records)
      if (r.recording) byRecording.set(r.recording.id, [...(byRecording.get(r.recording.id) ?? []), r]);
    const shared = [...byRecording.values()].filter((legs) => legs.length === 2);
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const [a, b] of shared) expect(a?.telephonySessionId).toBe(b?.telephonySessionId);
    const first = records[0]?.recording;
    expect(first?.uri.startsWith(`${emu.server}/`)).toBe(true);
    expect(first?.contentUri).toMatch(
      new RegExp(`^${emu.media}/restapi/v1\\.0/account/\\d+/recording/\\d+/content$`),
    );
    const types = new Set(emu.control.recordings().map((r) => r.contentType));
    expect(types).toEqual(new Set(["audio/mpeg", "audio/wav"]));
  });

  it("has transferred calls whose recordings exist only on their two legs, in the Detailed view only", async () => {
    const detailed = (await page(emu, token, "recordingType=All&view=Detailed")).records;
    const split = detailed.filter((r) => !r.recording && recordingsOf(r).length > 0);
    expect(split.length).toBeGreaterThanOrEqual(1);
    const topLevel = new Set(detailed.flatMap((r) => (r.recording ? [r.recording.id] : [])));
    const listed = new Map(emu.control.recordings().map((r) => [r.id, r]));
    for (const record of split) {
      expect(record.legs).toHaveLength(2);
      const legIds = recordingsOf(record).map((r) => r.id);
      expect(new Set(legIds).size).toBe(2);
      expect(legIds.some((id) => topLevel.has(id))).toBe(false);
      expect(record.legs?.filter((leg) => leg.master)).toHaveLength(1);
      for (const recording of recordingsOf(record)) {
        expect(recording.contentUri.startsWith(`${emu.media}/`)).toBe(true);
        expect(listed.get(recording.id)?.deleted).toBe(false);
        const content = await get(emu, recording.contentUri, token);
        expect(content.status).toBe(200);
        expect(Buffer.from(await content.arrayBuffer()).length).toBe(emu.control.expectedBytes(recording.id));
        expect((await get(emu, recording.uri, token)).status).toBe(200);
      }
      // Simple view: the same call, without legs and so without any recording; the type filter still keeps it.
      const type = record.legs?.[0]?.recording?.type;
      const simple = (await page(emu, token, `recordingType=${type}`)).records.find(
        (r) => r.id === record.id,
      );
      expect(simple).toBeDefined();
      expect(simple?.recording).toBeUndefined();
      expect(simple?.legs).toBeUndefined();
      const other = type === "Automatic" ? "OnDemand" : "Automatic";
      const excluded = (await page(emu, token, `recordingType=${other}`)).records;
      expect(excluded.some((r) => r.id === record.id)).toBe(false);
    }
  });

  it("has hostile and missing caller names", async () => {
    const records = (await page(emu, token, "")).records;
    const names = records
      .flatMap((r) => [r.from.name, r.to.name])
      .filter((n): n is string => n !== undefined);
    expect(names.some((n) => n.includes("/"))).toBe(true);
    expect(names.some((n) => n.includes(".."))).toBe(true);
    expect(names.some((n) => n.includes(":") && n.includes('"'))).toBe(true);
    expect(names.some((n) => /[<>]/.test(n))).toBe(true);
    const codes = (n: string) => [...n].map((c) => c.codePointAt(0) ?? 0);
    expect(names.some((n) => codes(n).some((c) => c < 0x20))).toBe(true);
    expect(names.some((n) => codes(n).some((c) => c > 0x7f))).toBe(true);
    expect(records.some((r) => r.from.name === undefined && r.from.phoneNumber === undefined)).toBe(true);
  });

  it("caps perPage at 1000, accepts max, and rejects bad parameters with 400 CMN-101", async () => {
    expect((await page(emu, token, "perPage=5000")).paging.perPage).toBe(1000);
    expect((await page(emu, token, "perPage=max")).paging.perPage).toBe(1000);
    for (const [name, query] of [
      ["perPage", "perPage=0"],
      ["page", "page=x"],
      ["dateFrom", "dateFrom=yesterday"],
      ["recordingType", "recordingType=Sometimes"],
      ["view", "view=Full"],
      ["direction", "direction=Sideways"],
    ] as const) {
      const res = await get(emu, `${CALL_LOG}?${query}`, token);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ errors: [{ errorCode: "CMN-101", parameterName: name }] });
    }
  });

  it("serves the extension call log and Detailed view", async () => {
    const body = await page(
      emu,
      token,
      "view=Detailed&perPage=3",
      "/restapi/v1.0/account/~/extension/~/call-log",
    );
    expect(body.records).toHaveLength(3);
    expect(body.records[0]?.legs).toHaveLength(1);
    expect(body.records[0]?.uri).toContain("view=Detailed");
  });
});

describe("call log options", () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });
  const boot = async (options: EmulatorOptions) => {
    emu = await start({ rateLimits: false, ...options });
    return { e: emu, token: (await login(emu)).access_token };
  };

  it("non-admin users get 403 CMN-408 on the account call log but can read their own", async () => {
    const { e, token } = await boot({ admin: false });
    const res = await get(e, CALL_LOG, token);
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({
      errorCode: "InsufficientPermissions",
      errors: [{ errorCode: "CMN-408", permissionName: "FullCompanyCallLog" }],
    });
    expect((await get(e, "/restapi/v1.0/account/~/extension/~/call-log", token)).status).toBe(200);
  });

  it("scales to 100 000 records generated on demand, and can omit totals", async () => {
    const { e, token } = await boot({ dataset: { calls: 100_000 }, pagingTotals: false });
    const started = performance.now();
    const first = await page(e, token, "perPage=1000&recordingType=All");
    const last = await page(e, token, "perPage=1000&recordingType=All&page=60");
    expect(performance.now() - started).toBeLessThan(3000);
    expect(first.records).toHaveLength(1000);
    expect(first.paging.totalElements).toBeUndefined();
    expect(first.navigation.nextPage).toBeDefined();
    expect(last.records.length).toBeGreaterThan(0);
    expect(Date.parse(first.records[999]?.startTime ?? "")).toBeGreaterThan(
      Date.parse(last.records[0]?.startTime ?? ""),
    );
  });

  it("is deterministic for a seed and endTime", async () => {
    const endTime = Date.now() - 120_000;
    const a = await boot({ seed: 7, endTime });
    const first = await page(a.e, a.token, "");
    await a.e.stop();
    const b = await boot({ seed: 7, endTime });
    const second = await page(b.e, b.token, "");
    // Same records apart from the (ephemeral) ports in URLs.
    const strip = (p: CallLogPage, e: Emulator) =>
      JSON.stringify(p.records).replaceAll(e.server, "API").replaceAll(e.media, "MEDIA");
    expect(strip(second, b.e)).toBe(strip(first, a.e));
  });
});
