import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login } from "./harness.js";
import { DEFAULT_EXTENSIONS, type Emulator, start } from "./index.js";

const DIRECTORY = "/restapi/v1.0/account/~/extension";

interface DirectoryPage {
  records: { id: number; extensionNumber: string; name: string; status: string }[];
  paging: { page: number; perPage: number; totalElements?: number };
  navigation: { nextPage?: { uri: string } };
}

interface CallRecord {
  startTime: string;
  extension: { id: number };
  from: { extensionNumber?: string };
  to: { extensionNumber?: string };
  direction: string;
}

describe("extension directory and the extensionNumber filter", () => {
  let emu: Emulator;
  let token: string;
  beforeAll(async () => {
    emu = await start({ calls: 40, rateLimits: { limits: { heavy: 1000, medium: 1000 } } });
    token = (await login(emu)).access_token;
  });
  afterAll(() => emu.stop());

  async function json<T>(url: string): Promise<T> {
    const res = await get(emu, url, token);
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  it("lists the users and the listed extensions (hostile names as given), paged, in the Medium group", async () => {
    const res = await get(emu, `${DIRECTORY}?perPage=2`, token);
    expect(res.headers.get("x-rate-limit-group")).toBe("medium");
    let page = (await res.json()) as DirectoryPage;
    const records = [...page.records];
    while (page.navigation.nextPage) {
      page = await json<DirectoryPage>(page.navigation.nextPage.uri);
      records.push(...page.records);
    }
    const listed = DEFAULT_EXTENSIONS.filter((x) => x.listed !== false);
    expect(records.map((r) => r.extensionNumber)).toEqual(["101", ...listed.map((x) => x.extensionNumber)]);
    expect(records.map((r) => r.name)).toEqual(["Emma Emulator", ...listed.map((x) => x.name)]);
    expect(records.every((r) => typeof r.id === "number" && r.status === "Enabled")).toBe(true);
    // The deleted extension's calls stay in the call log, but the directory does not know it.
    const deleted = DEFAULT_EXTENSIONS.find((x) => x.listed === false);
    expect(records.some((r) => String(r.id) === deleted?.id)).toBe(false);
    expect(emu.control.directory()).toHaveLength(records.length);
  });

  it("bad paging values are 400 CMN-101", async () => {
    const res = await get(emu, `${DIRECTORY}?perPage=0`, token);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      errors: [{ errorCode: "CMN-101", parameterName: "perPage" }],
    });
  });

  it("the account call log's extensionNumber filter returns only that extension's calls", async () => {
    const all = (await json<{ records: CallRecord[] }>(`${CALL_LOG}?perPage=1000`)).records;
    const ids = new Map(emu.control.directory().map((x) => [x.extensionNumber, Number(x.id)]));
    const sales = (await json<{ records: CallRecord[] }>(`${CALL_LOG}?perPage=1000&extensionNumber=102`))
      .records;
    expect(sales.length).toBeGreaterThan(0);
    expect(sales.length).toBe(all.filter((r) => r.extension.id === ids.get("102")).length);
    for (const record of sales) {
      expect(record.extension.id).toBe(ids.get("102"));
      const company = record.direction === "Inbound" ? record.to : record.from;
      expect(company.extensionNumber).toBe("102");
    }
    // Every call belongs to one of the company's extensions, so the per-extension logs add up to the whole.
    let total = 0;
    for (const number of [...ids.keys(), "107"]) {
      total += (await json<{ records: CallRecord[] }>(`${CALL_LOG}?perPage=1000&extensionNumber=${number}`))
        .records.length;
    }
    expect(total).toBe(all.length);
    expect((await get(emu, `${CALL_LOG}?extensionNumber=abc`, token)).status).toBe(400);
  });

  it("an extension's own call log holds only its own calls", async () => {
    const own = (await json<{ records: CallRecord[] }>("/restapi/v1.0/account/~/extension/~/call-log"))
      .records;
    expect(own.length).toBeGreaterThan(0);
    const owner = emu.control.directory()[0];
    expect(own.every((r) => String(r.extension.id) === owner?.id)).toBe(true);
  });
});
