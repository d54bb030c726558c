import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../src/api/errors.js";
import { createResponse } from "../../../src/api/response.js";
import type { ApiClient } from "../../../src/api/types.js";
import type { NameTemplate } from "../../../src/archive/naming.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { LoginRequiredError } from "../../../src/errors.js";
import { CallLogSource, type CallLogSourceOptions } from "../../../src/listing/call-log-source.js";
import type { RecordingItem, TimeRange } from "../../../src/listing/types.js";
import { Logger } from "../../../src/log/logger.js";
import { Deadline } from "../../../src/run/deadline.js";
import { runDownload as run } from "../../../src/run/downloader.js";
import { RunStats } from "../../../src/run/stats.js";
import type { DownloaderDeps, DownloadOptions, ProgressSink } from "../../../src/run/types.js";
import { Zone } from "../../../src/zone.js";
import { tempDir } from "../../helpers/cli.js";

const bodyOf = (id: string) => Buffer.from(`recording ${id} `.repeat(100));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function item(id: string, name = `call-${id}`): RecordingItem {
  return {
    recordingId: id,
    contentUri: `http://media.test/recording/${id}/content`,
    record: { id: `c${id}`, startTime: "2026-01-01T00:00:00.000Z", from: { name } },
  };
}

/** Content server that counts requests and how many run at once. */
function fakeApi(status: (id: string) => number = () => 200) {
  const stats = { requests: 0, active: 0, peak: 0 };
  const api: ApiClient = {
    async get(url) {
      const id = /recording\/([^/]+)\/content/.exec(url)?.[1] ?? "";
      stats.requests += 1;
      stats.active += 1;
      stats.peak = Math.max(stats.peak, stats.active);
      await new Promise((r) => setTimeout(r, 5));
      stats.active -= 1;
      const code = status(id);
      if (code !== 200) return createResponse({ status: code, url, body: "{}" });
      const body = bodyOf(id);
      return createResponse({
        status: 200,
        url,
        body,
        headers: { "content-type": "audio/mpeg", "content-length": String(body.length) },
      });
    },
    async getJson() {
      throw new Error("unused");
    },
    async getJsonWith() {
      throw new Error("unused");
    },
  };
  return { api, stats };
}

/** The first content request of each listed recording gets a connection reset before the first byte. */
function resetFirstAttempt(api: ApiClient, ids: string[], onReset: () => void = () => {}): ApiClient {
  const reset = new Set<string>();
  return {
    ...api,
    async get(url, init) {
      const id = /recording\/([^/]+)\/content/.exec(url)?.[1] ?? "";
      if (!ids.includes(id) || reset.has(id)) return api.get(url, init);
      reset.add(id);
      onReset();
      const body = new Readable({
        read() {
          this.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
        },
      });
      return createResponse({
        status: 200,
        url,
        body,
        headers: { "content-type": "audio/mpeg", "content-length": String(bodyOf(id).length) },
      });
    },
  };
}

/** The files in DIR (the state folder aside), sorted. */
function filesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => name !== ".rc-recordings" && name !== "index.csv")
    .sort();
}

const quietSink: ProgressSink = {
  started() {},
  changed() {},
  skipped() {},
  saved() {},
  failed() {},
};

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-downloader-");
});
afterEach(() => dir.cleanup());

/** The run's options plus the span the test's source lists. */
type TestOptions = DownloadOptions & { from: Date | undefined; to: Date };

function options(overrides: Partial<TestOptions> = {}): TestOptions {
  return {
    destination: new LocalFolder(dir.path),
    from: new Date("2025-12-31T00:00:00Z"),
    to: new Date("2026-01-02T00:00:00Z"),
    concurrency: 2,
    metadata: false,
    dryRun: false,
    ...overrides,
  };
}

/** A template that names a recording after its caller; `render` can be replaced. */
function template(render?: NameTemplate["render"]): NameTemplate {
  return {
    zone: Zone.UTC,
    hasExt: true,
    render:
      render ??
      ((i: RecordingItem, type: string | undefined) =>
        `${i.record.from?.name ?? "x"}.${type === "audio/wav" ? "wav" : "mp3"}`),
    withSuffix: (path: string, n: number) => path.replace(/(\.[^.]+)$/, `_${n}$1`),
  };
}

type ListRange = NonNullable<CallLogSourceOptions["listRange"]>;
type TestDeps = DownloaderDeps & { list: ListRange; slicing?: CallLogSourceOptions["slicing"] };

function deps(api: ApiClient, list: ListRange, more: Partial<TestDeps> = {}) {
  return {
    api,
    list,
    template: template(),
    progress: quietSink,
    log: new Logger("quiet"),
    signal: new AbortController().signal,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...more,
  } satisfies TestDeps;
}

/** The mark a first run leaves before any slice closed: its start, as an empty listed span (archive/mark.ts). */
function expectOnlyStartIn(folder: string, from: Date | undefined): void {
  const state = JSON.parse(readFileSync(join(folder, ".rc-recordings", "state.json"), "utf8"));
  const start = (from as Date).toISOString();
  expect(state).toMatchObject({ lastTo: start, listedFrom: start });
}

/** The run over a call-log source whose ranges `list` answers (no directory: every extension is unknown). */
function runDownload({ from, to, ...runOptions }: TestOptions, { list, slicing, ...runDeps }: TestDeps) {
  const source = new CallLogSource({
    from,
    to,
    timeBoxed: runOptions.deadline !== undefined,
    type: "All",
    raw: false,
    scope: undefined,
    slicing,
    log: runDeps.log,
    listRange: list,
    directory: () => ({
      byId: async () => undefined,
      known: async () => undefined,
      requireNumbers: async () => {},
    }),
  });
  return run(runOptions, runDeps, source);
}

async function* listOf(items: RecordingItem[]) {
  yield* items;
}

describe("runDownload", () => {
  it("downloads everything, then a rerun makes zero content requests", async () => {
    const items = ["1", "2", "3"].map((id) => item(id));
    const { api, stats } = fakeApi();
    const first = await runDownload(
      options(),
      deps(api, () => listOf(items)),
    );
    expect(first.summary).toMatchObject({ listed: 3, downloaded: 3, skipped: 0, failed: 0 });
    expect(sha(readFileSync(join(dir.path, "call-2.mp3")))).toBe(sha(bodyOf("2")));

    stats.requests = 0;
    const second = await runDownload(
      options(),
      deps(api, () => listOf(items)),
    );
    expect(second.summary).toMatchObject({ listed: 3, downloaded: 0, skipped: 3 });
    expect(stats.requests).toBe(0);
  });

  it("gives colliding names a suffix and never overwrites a stranger's file", async () => {
    writeFileSync(join(dir.path, "same.mp3"), "not ours");
    const { api } = fakeApi();
    await runDownload(
      options(),
      deps(api, () => listOf([item("1", "same"), item("2", "same")])),
    );
    expect(readFileSync(join(dir.path, "same.mp3"), "utf8")).toBe("not ours");
    const saved = [readFileSync(join(dir.path, "same_2.mp3")), readFileSync(join(dir.path, "same_3.mp3"))];
    expect(saved.map(sha).sort()).toEqual([sha(bodyOf("1")), sha(bodyOf("2"))].sort());
  });

  it("treats names that differ only in case or Unicode normalisation as one file", async () => {
    writeFileSync(join(dir.path, "SMITH.mp3"), "not ours");
    const { api } = fakeApi();
    const names = ["smith", "José", "Jose\u0301", "JOSÉ"];
    await runDownload(
      options({ concurrency: 1 }),
      deps(api, () => listOf(names.map((name, i) => item(String(i), name)))),
    );
    expect(readFileSync(join(dir.path, "SMITH.mp3"), "utf8")).toBe("not ours");
    // The call log lists newest first; the run takes them oldest first, so the last listed claims first.
    const expected = ["SMITH.mp3", "smith_2.mp3", "JOSÉ.mp3", "Jose\u0301_2.mp3", "José_3.mp3"];
    expect(filesIn(dir.path)).toEqual(expected.sort());
  });

  it("keeps the base name when a transfer starts over after a reset before the first byte", async () => {
    const { api, stats } = fakeApi();
    const resetting = resetFirstAttempt(api, ["1"]);
    await runDownload(
      options(),
      deps(resetting, () => listOf([item("1")])),
    );
    expect(stats.requests).toBe(1); // the reset attempt never reached the counting server
    expect(filesIn(dir.path)).toEqual(["call-1.mp3"]);
    expect(sha(readFileSync(join(dir.path, "call-1.mp3")))).toBe(sha(bodyOf("1")));
  });

  it("keeps the base name when a rerun starts over a .part that an interrupted run left", async () => {
    const { api } = fakeApi();
    const controller = new AbortController();
    // Run 1: recording 1 resets before its first byte, then the run is stopped while it waits to retry.
    const resetting = resetFirstAttempt(api, ["1"], () => setTimeout(() => controller.abort(), 20));
    const first = await runDownload(
      options({ concurrency: 1 }),
      deps(resetting, () => listOf([item("1")]), {
        signal: controller.signal,
        retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 },
      }),
    );
    expect(first.end.kind).toBe("interrupted");
    expect(filesIn(dir.path)).toEqual(["call-1.mp3.part"]);
    // Run 2: recording 0 reads the folder (with the .part) before recording 1 discards it and starts over.
    await runDownload(
      options({ concurrency: 1 }),
      deps(api, () => listOf([item("0", "call-1x"), item("1")])),
    );
    expect(filesIn(dir.path)).toEqual(["call-1.mp3", "call-1x.mp3"]);
  });

  it("holds one slice of the listing at a time, with a bounded queue and bounded concurrency", async () => {
    let produced = 0;
    const { api, stats } = fakeApi();
    let maxAhead = 0;
    let finished = 0;
    const t0 = Date.parse("2025-12-31T00:00:00Z");
    // 40 recordings an hour apart, listed per range newest first like the call log.
    async function* endless(range: TimeRange) {
      for (let i = 39; i >= 0; i--) {
        const start = t0 + i * 3_600_000;
        if (start < range.from.getTime() || start >= range.to.getTime()) continue;
        produced += 1;
        maxAhead = Math.max(maxAhead, produced - finished);
        const listed = item(String(i));
        yield { ...listed, record: { ...listed.record, startTime: new Date(start).toISOString() } };
      }
    }
    const sink = {
      ...quietSink,
      saved: () => {
        finished += 1;
      },
    };
    const slicing = { target: 5, maxItems: 10, initialSpanMs: 5 * 3_600_000 };
    const outcome = await runDownload(
      options({ concurrency: 3 }),
      deps(api, endless, { progress: sink, slicing }),
    );
    expect(outcome.summary.downloaded).toBe(40);
    expect(stats.peak).toBeLessThanOrEqual(3);
    // At most one slice (≤ maxItems + 1 while it is sized) plus the queue of 2 × concurrency is ahead.
    expect(maxAhead).toBeLessThanOrEqual(11 + 3 * 2 + 1);
  });

  it("drops a partial record left behind for a recording the manifest already has", async () => {
    const { api } = fakeApi();
    await runDownload(
      options(),
      deps(api, () => listOf([item("1")])),
    );
    const partials = new LocalFolder(dir.path).partials;
    const journal = (id: string, key: string) =>
      partials.open(relPath(key), { recordingId: id, contentType: "audio/mpeg" }, { resume: true });
    await (await journal("1", "call-1.mp3")).close(); // crash before the record was dropped
    await (await journal("2", "call-2.mp3")).close(); // still in progress
    await runDownload(
      options(),
      deps(api, () => listOf([])),
    );
    expect(await partials.find("1")).toBeUndefined();
    expect(await partials.find("2")).toEqual({ key: "call-2.mp3", contentType: "audio/mpeg" });
  });

  it("reports failures, keeps going, and holds the incremental start back to a retryable failure", async () => {
    const { api } = fakeApi((id) => (id === "2" ? 404 : id === "3" ? 500 : 200));
    const items = [
      item("1"),
      item("2"),
      { ...item("3"), record: { ...item("3").record, startTime: "2026-01-01T06:00:00.000Z" } },
    ];
    const outcome = await runDownload(
      options(),
      deps(api, () => listOf(items)),
    );
    expect(outcome.summary).toMatchObject({ downloaded: 1, failed: 2 });
    expect(outcome.summary.failures.map((f) => f.recordingId).sort()).toEqual(["2", "3"]);
    const state = JSON.parse(readFileSync(join(dir.path, ".rc-recordings", "state.json"), "utf8"));
    expect(state.lastTo).toBe("2026-01-01T06:00:00.000Z");
  });

  it("fails a recording whose name would leave DIR, once, and goes on with the rest", async () => {
    const { api, stats } = fakeApi();
    const escaping = (i: RecordingItem) =>
      i.recordingId === "1" ? "../escaped.mp3" : `${i.recordingId}.mp3`;
    for (const dryRun of [true, false]) {
      const outcome = await runDownload(
        options({ dryRun }),
        deps(api, () => listOf([item("1"), item("2")]), { template: template(escaping) }),
      );
      expect(outcome.summary).toMatchObject({ failed: 1, failures: [{ recordingId: "1" }] });
      expect(outcome.summary.failures[0]?.error).toMatch(/outside/);
    }
    expect(stats.requests).toBe(2); // one each, no retry of the escaping one
    expect(existsSync(join(dir.path, "..", "escaped.mp3"))).toBe(false);
    expect(filesIn(dir.path)).toEqual(["2.mp3"]);
  });

  it("keeps the incremental mark when an explicit range leaves a gap after it", async () => {
    const { api } = fakeApi();
    const stateFile = join(dir.path, ".rc-recordings", "state.json");
    await runDownload(
      options({ to: new Date("2025-12-31T00:00:00Z") }),
      deps(api, () => listOf([])),
    );
    const nightly = JSON.parse(readFileSync(stateFile, "utf8")).lastTo;
    // A test run over the last hour, days later: the days in between were never listed.
    await runDownload(
      options({ from: new Date("2026-01-01T23:00:00Z"), to: new Date("2026-01-02T00:00:00Z") }),
      deps(api, () => listOf([item("1")])),
    );
    expect(JSON.parse(readFileSync(stateFile, "utf8")).lastTo).toBe(nightly);
  });

  it("plans paths in a dry run without content requests or files", async () => {
    const { api, stats } = fakeApi();
    const streamed: string[] = [];
    const onPlanned = (path: string) => streamed.push(path);
    const outcome = await runDownload(
      options({ dryRun: true }),
      deps(api, () => listOf([item("1"), item("2")]), { onPlanned }),
    );
    expect(outcome.summary).toMatchObject({ listed: 2, downloaded: 0 });
    expect(streamed.sort()).toEqual(["call-1.mp3", "call-2.mp3"]);
    expect(stats.requests).toBe(0);
    expect(existsSync(join(dir.path, ".rc-recordings"))).toBe(false);
  });

  it("writes metadata sidecars, also for recordings saved by an earlier run", async () => {
    const { api } = fakeApi();
    await runDownload(
      options(),
      deps(api, () => listOf([item("1")])),
    );
    await runDownload(
      options({ metadata: true }),
      deps(api, () => listOf([item("1"), item("2")])),
    );
    for (const id of ["1", "2"]) {
      expect(JSON.parse(readFileSync(join(dir.path, `call-${id}.mp3.json`), "utf8")).id).toBe(`c${id}`);
    }
  });

  it("stops on abort without starting queued transfers and says it was interrupted", async () => {
    const controller = new AbortController();
    const { api, stats } = fakeApi();
    async function* slow() {
      for (let i = 0; i < 100; i++) {
        if (i === 3) controller.abort();
        yield item(String(i));
      }
    }
    const outcome = await runDownload(options(), deps(api, slow, { signal: controller.signal }));
    expect(outcome.end.kind).toBe("interrupted");
    expect(stats.requests).toBeLessThan(5);
    expectOnlyStartIn(dir.path, options().from); // the mark did not move: it holds the run's start
  });

  it("passes the run's signal to listing requests, so a page held by the rate limiter ends on abort", async () => {
    const controller = new AbortController();
    let listingSignal: AbortSignal | undefined;
    const { api } = fakeApi();
    const waitingApi: ApiClient = {
      ...api,
      getJson: (_url, init) =>
        new Promise((_resolve, reject) => {
          listingSignal = init?.signal;
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
          setTimeout(() => controller.abort(), 10); // Ctrl-C while the page waits (not before it was asked)
        }),
    };
    async function* pages(_range: unknown, client: ApiClient) {
      await client.getJson("/restapi/v1.0/account/~/call-log");
      yield item("never");
    }
    const outcome = await runDownload(options(), deps(waitingApi, pages, { signal: controller.signal }));
    expect(outcome.end.kind).toBe("interrupted");
    expect(listingSignal?.aborted).toBe(true);
  });

  it("asks a call-log page again after a transient failure instead of ending the run", async () => {
    const { api } = fakeApi();
    let calls = 0;
    const flaky: ApiClient = {
      ...api,
      async getJson<T>() {
        calls += 1;
        if (calls < 3) throw new ApiError(503, "CMN-503", "try later", "/restapi/v1.0/account/~/call-log");
        return {} as T;
      },
    };
    async function* pages(_range: unknown, client: ApiClient) {
      await client.getJson("/restapi/v1.0/account/~/call-log");
      yield item("1");
    }
    const oneDay = options({ from: new Date("2026-01-01T00:00:00Z"), to: new Date("2026-01-02T00:00:00Z") });
    const outcome = await runDownload(oneDay, deps(flaky, pages));
    expect(calls).toBe(3);
    expect(outcome.summary).toMatchObject({ listed: 1, downloaded: 1 });
  });

  it("reports what was saved when the listing fails for good halfway", async () => {
    const { api } = fakeApi();
    const refusedLater: ApiClient = {
      ...api,
      getJson: () => Promise.reject(new ApiError(403, "CMN-401", "no", "/restapi/v1.0/account/~/call-log")),
    };
    // The first day's slice lists 1 and 2; the listing of the next one is refused.
    async function* pages(range: TimeRange, client: ApiClient) {
      if (range.from.getTime() < Date.parse("2026-01-01T00:00:00Z")) {
        for (const [id, hour] of [
          ["1", "06"],
          ["2", "05"],
        ] as const) {
          const listed = item(id);
          yield { ...listed, record: { ...listed.record, startTime: `2025-12-31T${hour}:00:00.000Z` } };
        }
        return;
      }
      await client.getJson("/restapi/v1.0/account/~/call-log?page=2");
      yield item("3");
    }
    const outcome = await runDownload(options(), deps(refusedLater, pages));
    expect(outcome.end).toMatchObject({ kind: "failed", error: { status: 403 } });
    expect(outcome.summary).toMatchObject({ listed: 2, downloaded: 2, failed: 0 });
    expect(filesIn(dir.path)).toEqual(["call-1.mp3", "call-2.mp3"]);
  });

  it("ends the run at the first transfer that finds the login gone, with what was saved before", async () => {
    const { api } = fakeApi();
    const loggedOut: ApiClient = {
      ...api,
      get: (url, init) =>
        url.includes("/3/")
          ? Promise.reject(new LoginRequiredError("the session ended"))
          : api.get(url, init),
    };
    const outcome = await runDownload(
      options({ concurrency: 1 }),
      deps(loggedOut, () => listOf(["1", "2", "3", "4"].map((id) => item(id)))),
    );
    expect(outcome.end).toMatchObject({ kind: "failed", error: expect.any(LoginRequiredError) });
    // Oldest first: 4 (listed last) was saved before 3 found the login gone.
    expect(outcome.summary).toMatchObject({ downloaded: 1, failed: 0 });
    expectOnlyStartIn(dir.path, options().from); // the mark did not move: it holds the run's start
  });

  it("still fails the run when the listing is refused for good", async () => {
    const { api } = fakeApi();
    const refused: ApiClient = {
      ...api,
      getJson: () => Promise.reject(new ApiError(403, "CMN-401", "no", "/restapi/v1.0/account/~/call-log")),
    };
    async function* pages(_range: unknown, client: ApiClient) {
      await client.getJson("/restapi/v1.0/account/~/call-log");
      yield item("1");
    }
    const outcome = await runDownload(options(), deps(refused, pages));
    expect(outcome.end).toMatchObject({ kind: "failed", error: { status: 403 } });
    expectOnlyStartIn(dir.path, options().from); // the mark did not move: it holds the run's start
  });

  it("warns once when recordings arrive faster than the profiles' budget can fetch them", async () => {
    const { api } = fakeApi();
    const lines: string[] = [];
    const log = new Logger("normal", { write: (text: string) => lines.push(text) > 0 });
    const t0 = Date.parse("2025-12-31T00:00:00Z");
    // 48 recordings in the first day (2 an hour), against a budget of one request an hour (24 a day).
    async function* busy(range: TimeRange) {
      for (let i = 47; i >= 0; i--) {
        const start = t0 + i * 1_800_000;
        if (start < range.from.getTime() || start >= range.to.getTime()) continue;
        const listed = item(String(i));
        yield { ...listed, record: { ...listed.record, startTime: new Date(start).toISOString() } };
      }
    }
    const stats = new RunStats();
    stats.budgetPerSecond = () => 1 / 3600;
    await runDownload(
      options({ dryRun: true }),
      deps(api, busy, { log, stats, slicing: { target: 10, maxItems: 40, initialSpanMs: 6 * 3_600_000 } }),
    );
    const warnings = lines.filter((line) => line.includes("faster than the Heavy budget"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/about 48 a day.*about 24 a day.*add profiles/);
  });

  it("estimates a dry run: pages + downloads at the learned budget", async () => {
    const { api: content } = fakeApi();
    const api: ApiClient = { ...content, getJsonWith: async <T>() => ({}) as T };
    const stats = new RunStats();
    stats.budgetPerSecond = () => 0.5;
    let pages = 0;
    async function* paged(_range: TimeRange, client: ApiClient, listing: { pages: number }) {
      listing.pages++; // as listRecordings counts its pages
      await client.getJsonWith("/restapi/v1.0/account/~/call-log", undefined, async () => ({}));
      pages++;
      yield item("1");
      yield item("2");
    }
    const oneDay = options({ from: new Date("2026-01-01T00:00:00Z"), to: new Date("2026-01-02T00:00:00Z") });
    const outcome = await runDownload({ ...oneDay, dryRun: true }, deps(api, paged, { stats }));
    expect(pages).toBe(1);
    expect(outcome.summary.estimate).toEqual({ requests: 3, pages: 1, lookups: 0, durationMs: 6000 });
  });

  it("stops at the deadline: nothing new starts, a transfer on the wire stops as a partial after the grace", async () => {
    const { api: content } = fakeApi();
    let stalled: Readable | undefined;
    const api: ApiClient = {
      ...content,
      async get(url, init) {
        if (!url.includes("/c/")) return content.get(url, init);
        // Half the body, then nothing: a transfer that would take much longer than the time box.
        const full = bodyOf("c");
        stalled = new Readable({ read() {} });
        stalled.push(full.subarray(0, full.length / 2));
        return createResponse({
          status: 200,
          url,
          body: stalled,
          headers: { "content-type": "audio/mpeg", "content-length": String(full.length) },
        });
      },
    };
    // Long enough for the run to open (and record its start) and send c's request on a loaded machine.
    const deadline = new Deadline(800, { graceMs: 200 });
    const began = Date.now();
    const oneDay = options({ from: new Date("2026-01-01T00:00:00Z"), to: new Date("2026-01-02T00:00:00Z") });
    // Listed newest first: c is the oldest and goes first.
    const outcome = await runDownload(
      { ...oneDay, concurrency: 1, deadline },
      deps(api, () => listOf(["a", "b", "c"].map((id) => item(id)))),
    );
    deadline.dispose();
    expect(Date.now() - began).toBeLessThan(10_000); // not the stalled transfer's idle timeout (minutes)
    expect(outcome.end).toEqual({ kind: "stopped", remaining: 3 });
    expect(outcome.summary).toMatchObject({ downloaded: 0, failed: 0, complete: false, remaining: 3 });
    // c waits as a partial for the next run; a and b never started; the mark did not move.
    const parts = readdirSync(dir.path, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".part"));
    expect(parts).toHaveLength(1);
    expect(filesIn(dir.path).filter((f) => !f.endsWith(".part"))).toEqual([]);
    expectOnlyStartIn(dir.path, oneDay.from); // the mark did not move: it holds the run's start
  });
});
