import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForeignHostError, NetworkError } from "../../../src/api/errors.js";
import { createResponse, type ResponseInit } from "../../../src/api/response.js";
import type { ApiClient, ApiRequestInit, ApiResponse } from "../../../src/api/types.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { OutsideDirError, relPath } from "../../../src/destination/rel-path.js";
import { BusyError, InterruptedError, LoginRequiredError } from "../../../src/errors.js";
import { Logger } from "../../../src/log/logger.js";
import { transferRecording } from "../../../src/transfer/attempt.js";
import { parseContentRange } from "../../../src/transfer/response.js";
import { TransferFailedError, type TransferJob, type TransferResult } from "../../../src/transfer/types.js";
import { tempDir } from "../../helpers/cli.js";

const CONTENT = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

type Handler = (init: ApiRequestInit | undefined) => ApiResponse | Promise<ApiResponse>;

const URL_ = "http://media.test/restapi/v1.0/account/1/recording/42/content";
const respond = (init: Omit<ResponseInit, "url" | "status"> & { status?: number }) =>
  createResponse({ status: 200, url: URL_, ...init });

/** An ApiClient that answers each request with the next scripted handler and records the requests. */
function scriptedApi(...handlers: Handler[]) {
  const requests: (ApiRequestInit | undefined)[] = [];
  const api: ApiClient = {
    async get(_url, init) {
      requests.push(init);
      const handler = handlers[Math.min(requests.length - 1, handlers.length - 1)];
      if (!handler) throw new Error("no handler");
      return handler(init);
    },
    async getJson() {
      throw new Error("not used");
    },
    async getJsonWith() {
      throw new Error("not used");
    },
  };
  return { api, requests };
}

function audio(body: Buffer, init: { status?: number; headers?: Record<string, string> } = {}) {
  return respond({
    body,
    status: init.status ?? 200,
    headers: { "content-type": "audio/mpeg", "content-length": String(body.length), ...init.headers },
  });
}

/** A body that sends `bytes` and then fails like a reset connection (or ends early when `clean`). */
function broken(bytes: Buffer, announced: number, clean = false) {
  const stream = Readable.from(
    (async function* () {
      yield Buffer.from(bytes);
      if (!clean) throw Object.assign(new Error("aborted"), { code: "ECONNRESET" });
    })(),
    { objectMode: false },
  );
  return respond({
    body: stream,
    headers: { "content-type": "audio/mpeg", "content-length": String(announced) },
  });
}

/** The part of CONTENT a Range header asks for, as a 206. */
function ranged(init: ApiRequestInit | undefined): ApiResponse {
  const range = /bytes=(\d+)-/.exec(init?.headers?.Range ?? "");
  const start = Number(range?.[1] ?? 0);
  return audio(CONTENT.subarray(start), {
    status: 206,
    headers: { "content-range": `bytes ${start}-${CONTENT.length - 1}/${CONTENT.length}` },
  });
}

let dir: ReturnType<typeof tempDir>;
let destination: LocalFolder;
let commits: TransferResult[];
const FAST = { baseDelayMs: 1, maxDelayMs: 5, idleTimeoutMs: 2000 };

beforeEach(() => {
  dir = tempDir("rcr-transfer-");
  destination = new LocalFolder(dir.path);
  commits = [];
});

/** The partial journal's record of recording 42, as a later run would find it. */
const journalled = () => destination.partials.find("42");
/** Where a result is on disk. */
const fileOf = (result: TransferResult) => join(dir.path, result.key);
afterEach(() => dir.cleanup());

function job(): TransferJob {
  return {
    recordingId: "42",
    contentUri: URL_,
    mayBeEmpty: false,
    choosePath: async (type) => ({ key: relPath(type === "audio/wav" ? "rec.wav" : "rec.mp3") }),
    couldBeNamed: (key) => /^rec(_\d+)?\.(mp3|wav)$/.test(key),
    refuse: () => undefined,
    commit: async (result) => {
      commits.push(result);
    },
  };
}

function run(api: ApiClient, signal = new AbortController().signal) {
  return transferRecording(job(), { api, destination, signal, log: new Logger("quiet"), retry: FAST });
}

/** Leave a `.part` with the first `n` bytes and its journal record, as an earlier run would have. */
function leavePartial(n: number, total: number | undefined = CONTENT.length) {
  const path = join(dir.path, "rec.mp3");
  writeFileSync(`${path}.part`, CONTENT.subarray(0, n));
  mkdirSync(join(dir.path, ".rc-recordings", "partial"), { recursive: true });
  const record = { path: "rec.mp3", contentType: "audio/mpeg", ...(total === undefined ? {} : { total }) };
  writeFileSync(join(dir.path, ".rc-recordings", "partial", "42.json"), JSON.stringify(record));
  return path;
}

describe("transferRecording", () => {
  it("streams a 200 to the final path via .part, hashes it and commits once", async () => {
    const { api } = scriptedApi(() => audio(CONTENT));
    const result = await run(api);
    expect(result).toMatchObject({
      bytes: CONTENT.length,
      sha256: sha(CONTENT),
      contentType: "audio/mpeg",
      resumedFrom: 0,
    });
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
    expect(existsSync(`${fileOf(result)}.part`)).toBe(false);
    expect(commits).toHaveLength(1);
    expect(await journalled()).toBeUndefined();
  });

  it("never writes a non-audio body as a recording", async () => {
    const { api, requests } = scriptedApi(() =>
      respond({ body: "<html>error</html>", headers: { "content-type": "text/html" } }),
    );
    await expect(run(api)).rejects.toMatchObject({
      permanent: true,
      reason: expect.stringContaining("not a recording"),
    });
    expect(requests).toHaveLength(1);
    expect(existsSync(join(dir.path, "rec.mp3"))).toBe(false);
    expect(commits).toHaveLength(0);
  });

  it("resumes after a reset with a Range request and ends byte-exact", async () => {
    const { api, requests } = scriptedApi(() => broken(CONTENT.subarray(0, 1200), CONTENT.length), ranged);
    const result = await run(api);
    expect(requests[1]?.headers?.Range).toBe("bytes=1200-");
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
    expect(result).toMatchObject({ sha256: sha(CONTENT), resumedFrom: 1200 });
  });

  it("treats a cleanly closed short body as incomplete and resumes it", async () => {
    const { api, requests } = scriptedApi(
      () => broken(CONTENT.subarray(0, 3000), CONTENT.length, true),
      ranged,
    );
    const result = await run(api);
    expect(requests[1]?.headers?.Range).toBe("bytes=3000-");
    expect(result.sha256).toBe(sha(CONTENT));
  });

  it("resumes a .part left by an earlier run", async () => {
    leavePartial(2500);
    const { api, requests } = scriptedApi(ranged);
    const result = await run(api);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers?.Range).toBe("bytes=2500-");
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
  });

  it("starts over when the server answers a Range request with 200", async () => {
    const path = leavePartial(2500);
    writeFileSync(`${path}.part`, Buffer.alloc(2500, 0xff)); // wrong bytes: must not survive
    const { api } = scriptedApi(() => audio(CONTENT));
    const result = await run(api);
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
    expect(result.resumedFrom).toBe(0);
  });

  it("restarts without Range when Content-Range does not match the partial", async () => {
    leavePartial(2500);
    const { api, requests } = scriptedApi(
      () =>
        audio(CONTENT.subarray(100), { status: 206, headers: { "content-range": `bytes 100-4999/5000` } }),
      () => audio(CONTENT),
    );
    const result = await run(api);
    expect(requests[1]?.headers?.Range).toBeUndefined();
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
  });

  it("starts over instead of stitching bodies when the destination cannot continue at the 206's offset", async () => {
    leavePartial(2500);
    const local = destination.partials;
    // A destination that cannot resume (an object store may not): it always opens an empty partial.
    const noResume = Object.assign(Object.create(destination) as LocalFolder, {
      partials: Object.assign(Object.create(local) as typeof local, {
        open: (...[key, meta]: Parameters<typeof local.open>) => local.open(key, meta, { resume: false }),
      }),
    });
    const { api, requests } = scriptedApi(ranged, () => audio(CONTENT));
    const result = await transferRecording(job(), {
      api,
      destination: noResume,
      signal: new AbortController().signal,
      log: new Logger("quiet"),
      retry: FAST,
    });
    expect(requests.map((r) => r?.headers?.Range)).toEqual(["bytes=2500-", undefined]);
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
    expect(result.resumedFrom).toBe(0);
  });

  it("finishes a complete partial on 416 without downloading again", async () => {
    leavePartial(CONTENT.length);
    const { api, requests } = scriptedApi(() => respond({ status: 416 }));
    const result = await run(api);
    expect(requests).toHaveLength(1);
    expect(result).toMatchObject({ bytes: CONTENT.length, sha256: sha(CONTENT) });
  });

  it("restarts on 416 when the partial cannot be whole", async () => {
    leavePartial(2500, undefined);
    const { api, requests } = scriptedApi(
      () => respond({ status: 416 }),
      () => audio(CONTENT),
    );
    const result = await run(api);
    expect(requests[1]?.headers?.Range).toBeUndefined();
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
  });

  it("adopts a file renamed just before a crash, with zero requests", async () => {
    const path = leavePartial(0);
    writeFileSync(path, CONTENT);
    const { rmSync } = await import("node:fs");
    rmSync(`${path}.part`);
    const { api, requests } = scriptedApi(() => audio(CONTENT));
    const result = await run(api);
    expect(requests).toHaveLength(0);
    expect(result.sha256).toBe(sha(CONTENT));
    expect(commits).toHaveLength(1);
  });

  it("retries 503 honouring Retry-After", async () => {
    const { api, requests } = scriptedApi(
      () => respond({ body: "busy", status: 503, headers: { "retry-after": "0" } }),
      () => audio(CONTENT),
    );
    expect((await run(api)).sha256).toBe(sha(CONTENT));
    expect(requests).toHaveLength(2);
  });

  it("fails a 404 at once, permanently", async () => {
    const { api, requests } = scriptedApi(() => respond({ body: "{}", status: 404 }));
    await expect(run(api)).rejects.toMatchObject({ permanent: true, reason: expect.stringContaining("404") });
    expect(requests).toHaveLength(1);
  });

  it("on 404 drops the partial and its journal record: the recording is gone for good", async () => {
    const path = leavePartial(2500);
    const { api } = scriptedApi(() => respond({ body: "{}", status: 404 }));
    await expect(run(api)).rejects.toMatchObject({ permanent: true, notFound: true });
    expect(existsSync(`${path}.part`)).toBe(false);
    expect(await journalled()).toBeUndefined();
  });

  it("on 403 fails for this run only (a permission of the login, no verdict on the recording), partial kept", async () => {
    const path = leavePartial(2500);
    const { api, requests } = scriptedApi(() => respond({ body: "{}", status: 403 }));
    await expect(run(api)).rejects.toMatchObject({
      permanent: false,
      notFound: false,
      reason: expect.stringContaining("403"),
    });
    expect(requests).toHaveLength(1);
    expect(existsSync(`${path}.part`)).toBe(true);
    expect((await journalled())?.total).toBe(CONTENT.length);
  });

  it("gives up after the bounded number of attempts", async () => {
    const { api, requests } = scriptedApi(() => respond({ body: "oops", status: 500 }));
    const error = await run(api).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferFailedError);
    expect(error).toMatchObject({ permanent: false });
    expect(requests).toHaveLength(5);
  });

  it("fails a foreign host permanently", async () => {
    const { api } = scriptedApi(() => {
      throw new ForeignHostError("http://evil.test/recording");
    });
    await expect(run(api)).rejects.toMatchObject({
      permanent: true,
      reason: expect.stringContaining("evil.test"),
    });
  });

  it("fails a name outside DIR permanently, with one request, and releases the unread body", async () => {
    let discarded = false;
    const { api, requests } = scriptedApi(() => {
      const res = audio(CONTENT);
      const discard = res.discard.bind(res);
      res.discard = () => {
        discarded = true;
        discard();
      };
      return res;
    });
    const outside: TransferJob = {
      ...job(),
      choosePath: async () => {
        throw new OutsideDirError("refusing a path outside DIR: ../x.mp3");
      },
    };
    const transfer = transferRecording(outside, {
      api,
      destination,
      signal: new AbortController().signal,
      log: new Logger("quiet"),
      retry: FAST,
    });
    await expect(transfer).rejects.toMatchObject({ permanent: true });
    expect(requests).toHaveLength(1);
    expect(discarded).toBe(true);
  });

  it("does not count a long wait for the response (rate limiter) as a stall, but a silent body", async () => {
    const hanging = () => {
      const body = new Readable({ read() {} }); // sends 700 bytes, then nothing
      body.push(CONTENT.subarray(0, 700));
      return respond({
        body,
        headers: { "content-type": "audio/mpeg", "content-length": String(CONTENT.length) },
      });
    };
    const { api, requests } = scriptedApi(async () => {
      // Queued in the limiter three times as long as the idle timeout (wide margins: on a loaded machine a 60 ms
      // idle timeout also fired between the second response's chunks, which made a third request).
      await new Promise((r) => setTimeout(r, 1500));
      return hanging();
    }, ranged);
    const result = await transferRecording(job(), {
      api,
      destination,
      signal: new AbortController().signal,
      log: new Logger("quiet"),
      retry: { ...FAST, idleTimeoutMs: 500 },
    });
    expect(requests).toHaveLength(2);
    expect(requests[1]?.headers?.Range).toBe("bytes=700-");
    expect(readFileSync(fileOf(result))).toEqual(CONTENT);
  });

  it("stops on abort, keeping the partial for the next run", async () => {
    const controller = new AbortController();
    const body = new Readable({ read() {} }); // ignores the signal: the transfer must stop reading itself
    body.push(CONTENT.subarray(0, 1000));
    // Once the first 1000 bytes are held (a fixed delay raced the partial's opening on a loaded machine).
    const poll = setInterval(() => {
      if (
        existsSync(join(dir.path, "rec.mp3.part")) &&
        statSync(join(dir.path, "rec.mp3.part")).size === 1000
      ) {
        clearInterval(poll);
        controller.abort(new InterruptedError());
      }
    }, 5);
    const { api } = scriptedApi(() =>
      respond({ body, headers: { "content-type": "audio/mpeg", "content-length": "5000" } }),
    );
    await expect(run(api, controller.signal)).rejects.toBeInstanceOf(InterruptedError);
    expect(readFileSync(join(dir.path, "rec.mp3.part")).length).toBe(1000);
    expect((await journalled())?.total).toBe(5000);
  });
  it("stops on an abort that comes while the partial is being opened, before the body is read", async () => {
    const controller = new AbortController();
    const body = new Readable({ read() {} }); // never ends by itself
    const { api } = scriptedApi(() => {
      controller.abort(new InterruptedError()); // before the transfer listens for it
      return respond({ body, headers: { "content-type": "audio/mpeg", "content-length": "5000" } });
    });
    await expect(run(api, controller.signal)).rejects.toBeInstanceOf(InterruptedError);
    expect((await journalled())?.total).toBe(5000);
  });
});

describe("what is retried", () => {
  it("fails a programming or containment error at once instead of retrying it like a network error", async () => {
    const { api, requests } = scriptedApi(() => audio(CONTENT));
    let commitCalls = 0;
    const failing: TransferJob = {
      ...job(),
      commit: async () => {
        commitCalls += 1;
        throw new Error("path escapes DIR");
      },
    };
    const error = await transferRecording(failing, {
      api,
      destination,
      signal: new AbortController().signal,
      log: new Logger("quiet"),
      retry: FAST,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferFailedError);
    expect(error).toMatchObject({ permanent: false, reason: expect.stringContaining("escapes DIR") });
    expect(requests).toHaveLength(1);
    expect(commitCalls).toBe(1);
  });

  it("retries a typed network error", async () => {
    const { api, requests } = scriptedApi(
      () => {
        throw new NetworkError("/content", Object.assign(new Error("reset"), { code: "ECONNRESET" }));
      },
      () => audio(CONTENT),
    );
    expect((await run(api)).sha256).toBe(sha(CONTENT));
    expect(requests).toHaveLength(2);
  });

  it("ends the run on a lost login, but fails only the recording on any other typed error", async () => {
    const lost = scriptedApi(() => {
      throw new LoginRequiredError("the stored login was rejected");
    });
    await expect(run(lost.api)).rejects.toBeInstanceOf(LoginRequiredError);
    const busy = scriptedApi(() => {
      throw new BusyError("someone else");
    });
    await expect(run(busy.api)).rejects.toBeInstanceOf(TransferFailedError);
    expect(busy.requests).toHaveLength(1);
  });
});

describe("header parsing", () => {
  it("reads Content-Range strictly", () => {
    expect(parseContentRange("bytes 10-99/100")).toEqual({ start: 10, end: 99, total: 100 });
    expect(parseContentRange("bytes 10-99/*")).toEqual({ start: 10, end: 99, total: undefined });
    expect(parseContentRange("bytes 10-100/100")).toBeUndefined();
    expect(parseContentRange(null)).toBeUndefined();
  });
});

describe("versions, empty bodies and files already there", () => {
  it("a resume names the version it continues (If-Range) and starts over when the size changed", async () => {
    leavePartial(1000);
    const record = join(dir.path, ".rc-recordings", "partial", "42.json");
    writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, "utf8")), validator: '"v1"' }));
    const other = Buffer.alloc(3000, 7);
    const { api, requests } = scriptedApi(
      () =>
        audio(other.subarray(1000), {
          status: 206, // a server that ignores If-Range and sends another version's range
          headers: { "content-range": "bytes 1000-2999/3000", etag: '"v2"' },
        }),
      () => audio(other, { headers: { etag: '"v2"' } }),
    );
    const result = await run(api);
    expect(requests[0]?.headers).toMatchObject({ Range: "bytes=1000-", "If-Range": '"v1"' });
    expect(requests[1]?.headers).toEqual({}); // started over: no range, no validator
    expect(readFileSync(fileOf(result)).equals(other)).toBe(true);
    expect(result.resumedFrom).toBe(0);
  });

  it("an empty body is a recording only when the job says it may be empty", async () => {
    const empty = () => audio(Buffer.alloc(0));
    await expect(run(scriptedApi(empty).api)).rejects.toThrow(/empty body/);
    expect(existsSync(join(dir.path, "rec.mp3"))).toBe(false);
    const result = await transferRecording(
      { ...job(), mayBeEmpty: true },
      {
        api: scriptedApi(empty).api,
        destination,
        signal: new AbortController().signal,
        log: new Logger("quiet"),
        retry: FAST,
      },
    );
    expect(result.bytes).toBe(0);
  });

  it("adopts a file already under the claimed name when it holds the same bytes; refuses it otherwise", async () => {
    writeFileSync(join(dir.path, "rec.mp3"), CONTENT);
    const refused: string[] = [];
    const occupied = (size: number): TransferJob => ({
      ...job(),
      choosePath: async () =>
        refused.length === 0
          ? { key: relPath("rec.mp3"), occupant: { size } }
          : { key: relPath("rec_2.mp3") },
      refuse: (key) => refused.push(key),
    });
    const deps = () => ({
      api: scriptedApi(() => audio(CONTENT)).api,
      destination,
      signal: new AbortController().signal,
      log: new Logger("quiet"),
      retry: FAST,
    });
    const adopted = await transferRecording(occupied(CONTENT.length), deps());
    expect(adopted).toMatchObject({ key: "rec.mp3", bytes: CONTENT.length, sha256: sha(CONTENT) });
    expect(refused).toEqual([]);

    writeFileSync(join(dir.path, "rec.mp3"), Buffer.alloc(CONTENT.length, 1)); // same size, other bytes
    const moved = await transferRecording(occupied(CONTENT.length), deps());
    expect(refused).toEqual(["rec.mp3"]);
    expect(moved.key).toBe("rec_2.mp3");
    expect(readFileSync(join(dir.path, "rec.mp3")).equals(Buffer.alloc(CONTENT.length, 1))).toBe(true);
  });

  it("stops the byte-for-byte comparison of a file already there on abort, even when the body ignores it", async () => {
    writeFileSync(join(dir.path, "rec.mp3"), CONTENT);
    const controller = new AbortController();
    let reading = false;
    // Never ends by itself and ignores the signal: only destroying it stops the comparison's read.
    const body = new Readable({
      read() {
        if (reading) return;
        reading = true;
        this.push(CONTENT.subarray(0, 1000));
        setImmediate(() => controller.abort(new InterruptedError())); // Ctrl-C while comparing
      },
    });
    const { api } = scriptedApi(() =>
      respond({ body, headers: { "content-type": "audio/mpeg", "content-length": String(CONTENT.length) } }),
    );
    const occupied: TransferJob = {
      ...job(),
      choosePath: async () => ({ key: relPath("rec.mp3"), occupant: { size: CONTENT.length } }),
    };
    const deps = { api, destination, signal: controller.signal, log: new Logger("quiet"), retry: FAST };
    await expect(transferRecording(occupied, deps)).rejects.toBeInstanceOf(InterruptedError);
    expect(reading).toBe(true);
    expect(body.destroyed).toBe(true);
    expect(readFileSync(join(dir.path, "rec.mp3")).equals(CONTENT)).toBe(true);
  });
});
