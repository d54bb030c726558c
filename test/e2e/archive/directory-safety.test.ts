import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterEach, describe, expect, it } from "vitest";
import { neutralise } from "../../../src/archive/archive-index.js";
import { withPeakRss } from "../../helpers/rss.js";
import { endlessJson, json, parseJson, type Tamper } from "../../helpers/tamper-proxy.js";
import { manifestOf, summaryOf } from "../download/helpers.js";
import { type ProxiedDownloadEnv, setupProxiedDownload } from "../download/proxied.js";

// The account's extension directory is paged like the call log and gets the same guards (no page twice, no
// endless pages, a capped body). And names matter less than recordings: a directory that cannot be read (after
// retries, or because its paging never ends) costs one warning, the recordings are saved with "unknown" where a
// name is needed, and index.csv gets the names once a later run reads the directory.

let e: ProxiedDownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const TEMPLATE = "{extensionNumber}/{recordingId}.{ext}";
const isDirectory = (path: string) => /\/extension$/.test(path);
const directoryRequests = (env: ProxiedDownloadEnv) =>
  env.proxy.requests.filter((r) => isDirectory(r.url.pathname)).length;

/** Every directory page links itself as its next page (45,116 requests in 20 s before the guard). */
const selfLinked: Tamper = async (req, ctx) => {
  if (!isDirectory(req.url.pathname)) return undefined;
  const answer = await ctx.forward();
  const page = parseJson<Record<string, unknown>>(answer);
  return json({ ...page, navigation: { nextPage: { uri: req.url.href } } });
};

const failing: Tamper = async (req) =>
  isDirectory(req.url.pathname)
    ? json({ errorCode: "CMN-500", message: "Internal Server Error" }, 500)
    : undefined;

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("warning: "));
}

function indexRows(env: ProxiedDownloadEnv): Record<string, string>[] {
  const [header = [], ...body] = parse(readFileSync(join(env.out, "index.csv")), { bom: true }) as string[][];
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""])));
}

describe("the extension directory", () => {
  it("a nextPage that is the page itself: 2 requests, one warning, recordings saved as unknown (exit 0)", async () => {
    e = await setupProxiedDownload({ calls: 12 }, selfLinked);
    const result = await e.download(["--template", TEMPLATE, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.listed).toBeGreaterThan(0);
    expect(summary).toMatchObject({ downloaded: summary.listed, failed: 0 });
    expect(directoryRequests(e)).toBe(2);
    expect(warnings(result.stderr)).toEqual([
      expect.stringMatching(/could not read the extension directory \(.*page 2 repeats page 1.*\).*unknown/),
    ]);
    for (const entry of manifestOf(e.out)) expect(entry.path).toMatch(/^unknown\//);
  });

  it("a directory answering 500: one warning, recordings saved; the next run that saves one fills index.csv's names", async () => {
    e = await setupProxiedDownload({ calls: 12 }, failing);
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).failed).toBe(0);
    expect(warnings(result.stderr)).toEqual([
      expect.stringMatching(/could not read the extension directory/),
    ]);
    const rows = indexRows(e);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.extensionNumber === "" && row.extensionName === "")).toBe(true);

    // The directory is back: the next run that saves a recording (here one deleted by hand) rebuilds index.csv,
    // with the names of every recording it lists.
    e.proxy.set(undefined);
    const [first] = manifestOf(e.out);
    rmSync(join(e.out, first?.path ?? "missing"));
    const later = await e.download(["--from", "2d", "--json"]);
    expect(later.code, later.stderr).toBe(0);
    expect(summaryOf(later.stdout).downloaded).toBe(1);
    const known = new Map(e.emu.control.directory().map((x) => [x.extensionNumber, x.name]));
    const named = indexRows(e).filter((row) => row.extensionNumber !== "");
    expect(named.length).toBeGreaterThan(0);
    for (const row of named)
      expect(row.extensionName).toBe(neutralise(known.get(row.extensionNumber ?? "") ?? "?"));
  });

  it("an endless directory body stops at the cap with bounded memory; the recordings are still saved", async () => {
    e = await setupProxiedDownload({ calls: 12 });
    let body: { readonly sent: number } | undefined;
    e.proxy.set((req, ctx) => {
      if (!isDirectory(req.url.pathname)) return undefined;
      body = endlessJson(
        ctx.res,
        Buffer.from(`{"records":[${'{"id":1,"extensionNumber":"1","name":"x"},'.repeat(2000)}`),
      );
      return "handled";
    });
    const { result, peak } = await withPeakRss(e.spawnDownload(["--json"]));
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).failed).toBe(0);
    expect(warnings(result.stderr)).toEqual([
      expect.stringMatching(/extension-directory page is larger than 8 MiB/),
    ]);
    expect(directoryRequests(e)).toBe(1); // a verdict, not retried
    expect(body?.sent ?? 0).toBeLessThan(100 * 1024 * 1024);
    if (process.platform === "linux") {
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(250 * 1024 * 1024);
    }
  }, 60_000);
});
