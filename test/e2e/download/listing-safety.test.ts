import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withPeakRss } from "../../helpers/rss.js";
import { endlessJson, json, parseJson, type Tamper } from "../../helpers/tamper-proxy.js";
import { summaryOf } from "./helpers.js";
import { type ProxiedDownloadEnv, setupProxiedDownload } from "./proxied.js";

let e: ProxiedDownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const isCallLog = (path: string) => path.endsWith("/call-log");

interface Page {
  records?: unknown[];
  navigation?: { nextPage?: { uri: string } };
  [key: string]: unknown;
}

/** A tamper that rewrites every call-log page the emulator serves (`n` counts call-log requests from 1). */
function pages(rewrite: Rewrite): Tamper {
  let n = 0;
  let first: Page | undefined;
  return async (req, ctx) => {
    if (!isCallLog(req.url.pathname)) return undefined;
    const answer = await ctx.forward();
    if (answer.status !== 200) return answer;
    n++;
    const page = parseJson<Page>(answer);
    first ??= page;
    return json(rewrite(page, req.url, n, first));
  };
}

/** `first`: the first page the emulator served (its records are the ones a misbehaving server repeats). */
type Rewrite = (page: Page, url: URL, n: number, first: Page) => unknown;

const callLogRequests = (env: ProxiedDownloadEnv) =>
  env.proxy.requests.filter((r) => isCallLog(r.url.pathname)).length;

const stateFile = (env: ProxiedDownloadEnv) => join(env.out, ".rc-recordings", "state.json");

/** A first run passes through untouched and sets the incremental mark; returns the state file's text. */
async function markSet(env: ProxiedDownloadEnv): Promise<string> {
  const first = await env.download(["--json"]);
  expect(first.code, first.stderr).toBe(0);
  env.proxy.requests.length = 0;
  return readFileSync(stateFile(env), "utf8");
}

const broken: Array<[string, Rewrite, RegExp, number]> = [
  [
    "nextPage pointing at the page itself",
    (page, url) => ({ ...page, navigation: { nextPage: { uri: url.href } } }),
    /page 2 repeats page 1/,
    2,
  ],
  [
    "a cycle: page 2 links back to page 1",
    (page, url, n, first) => {
      const back = new URL(url.href);
      back.searchParams.delete("page");
      const next = new URL(url.href);
      next.searchParams.set("page", "2");
      const records = n === 1 ? page.records : [...(first.records ?? [])].reverse();
      return { ...page, records, navigation: { nextPage: { uri: n === 1 ? next.href : back.href } } };
    },
    /page 3 repeats page 1/,
    3,
  ],
  [
    "a server that ignores page (every page the same)",
    (page, url, n, first) => {
      const next = new URL(url.href);
      next.searchParams.set("page", String(n + 1));
      return { ...page, records: first.records, navigation: { nextPage: { uri: next.href } } };
    },
    /page 2 starts with the same record as page 1/,
    2,
  ],
  ["a 200 page without a records array", ({ records: _, ...rest }) => rest, /no records array/, 1],
  [
    "an empty page that links a next page",
    (page, url) => ({ ...page, records: [], navigation: { nextPage: { uri: `${url.href}&page=2` } } }),
    /empty but links a next page/,
    1,
  ],
];

describe("download: a listing that cannot prove its end fails and leaves the mark alone", () => {
  for (const [name, rewrite, message, requests] of broken) {
    it(name, async () => {
      e = await setupProxiedDownload({ calls: 30 });
      const before = await markSet(e);
      e.proxy.set(pages(rewrite));
      const result = await e.download(["--json"]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/listing is incomplete/);
      expect(summaryOf(result.stdout)).toMatchObject({ error: expect.stringMatching(message) });
      expect(callLogRequests(e)).toBe(requests); // a verdict, not a network error: never asked again
      expect(readFileSync(stateFile(e), "utf8")).toBe(before);
    });
  }

  it("more than the platform's 1,000 pages of one query: listing failed after exactly 1,001 requests", async () => {
    e = await setupProxiedDownload({ calls: 30 });
    const before = await markSet(e);
    let n = 0;
    // Every page is new (its own URI, its own first record) and links one more: only the page cap can end it.
    e.proxy.set(async (req) => {
      if (!isCallLog(req.url.pathname)) return undefined;
      n++;
      const next = new URL(req.url.href);
      next.searchParams.set("page", String(n + 1));
      const record = { id: `synthetic-${n}`, startTime: new Date().toISOString(), type: "Voice" };
      return json({ records: [record], navigation: { nextPage: { uri: next.href } } });
    });
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/more than 1000 pages/);
    expect(result.stderr).toMatch(/listing is incomplete/);
    expect(callLogRequests(e)).toBe(1001);
    expect(readFileSync(stateFile(e), "utf8")).toBe(before);
  }, 60_000);

  it("a 15 MB page of 1,000 records (many legs each) is listed with a peak RSS under 400 MB; 50 MB is refused", async () => {
    e = await setupProxiedDownload({ calls: 30 });
    const before = await markSet(e);
    // Records without recordings: the test measures the listing, not 1,000 downloads (measured: ~100 MiB peak).
    const legs = Array.from({ length: 40 }, (_, i) => ({
      type: "Voice",
      action: "Phone Call",
      leg: `${i}${"x".repeat(300)}`,
    }));
    const pageOf = (count: number) =>
      json({
        records: Array.from({ length: count }, (_, i) => ({
          id: `big-${i}`,
          startTime: new Date(Date.now() - 3_600_000).toISOString(),
          type: "Voice",
          legs,
        })),
        navigation: {},
      });
    let page = pageOf(1000);
    expect(page.body.length).toBeGreaterThan(13 * 1024 * 1024);
    expect(page.body.length).toBeLessThan(16 * 1024 * 1024);
    e.proxy.set(async (req) => (isCallLog(req.url.pathname) ? page : undefined));
    const { result, peak } = await withPeakRss(e.spawnDownload(["--json"]));
    expect(result.code, result.stderr).toBe(0);
    if (process.platform === "linux") {
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(400 * 1024 * 1024);
    }
    page = pageOf(3500); // about 50 MB
    const refused = await e.download(["--json"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/call-log page is larger than 16 MiB/);
    expect(readFileSync(stateFile(e), "utf8")).not.toBe(before); // the first run listed and moved the mark
  }, 120_000);

  it("an endless page body: the run stops at the size cap with bounded memory, listing failed", async () => {
    e = await setupProxiedDownload();
    const before = await markSet(e);
    let body: { readonly sent: number } | undefined;
    e.proxy.set((req, ctx) => {
      if (!isCallLog(req.url.pathname)) return undefined;
      body = endlessJson(ctx.res, Buffer.from(`{"records":[${'{"id":"1"},'.repeat(6000)}`));
      return "handled";
    });
    const { result, peak } = await withPeakRss(e.spawnDownload(["--json"]));
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/larger than 16 MiB/);
    if (process.platform === "linux") {
      expect(peak).toBeGreaterThan(0); // the sampler saw the process
      expect(peak).toBeLessThan(300 * 1024 * 1024); // the cap, not the body
    }
    expect(callLogRequests(e)).toBe(1);
    expect(body?.sent ?? 0).toBeLessThan(200 * 1024 * 1024); // stopped reading at the cap (plus socket buffers)
    expect(readFileSync(stateFile(e), "utf8")).toBe(before);
  }, 60_000);
});
