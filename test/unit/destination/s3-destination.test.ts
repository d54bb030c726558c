import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relPath } from "../../../src/destination/rel-path.js";
import { MAX_LIST_PAGE_BYTES } from "../../../src/destination/s3/capped-body.js";
import { S3Destination } from "../../../src/destination/s3/destination.js";
import { StoreError } from "../../../src/destination/s3/errors.js";
import { SEGMENT_LINES } from "../../../src/destination/s3/state.js";
import { PART_SIZE } from "../../../src/destination/s3/upload.js";
import { BusyError } from "../../../src/errors.js";
import { startS3FaultProxy } from "../../helpers/s3-fault-proxy.js";
import { type S3Server, startS3Server } from "../../helpers/s3-server.js";

// The S3 destination against a real S3-compatible server process (s3rver), never a mock of the SDK. Every
// check reads back what the store HOLDS, not what was sent.

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server(["archive", "other"]);
});
afterAll(async () => {
  await server?.stop();
});

let prefixes = 0;
async function destination(bucket = "archive"): Promise<S3Destination> {
  prefixes += 1;
  return S3Destination.open({ bucket, prefix: `t${prefixes}/` }, server.env);
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const object = (recordingId: string, contentType = "audio/mpeg") => ({
  recordingId,
  contentType,
  metadata: {
    "recording-id": recordingId,
    "call-id": `call-${recordingId}`,
    "start-time": "2026-11-25T21:30:05.000Z",
  },
});

async function uploadsOf(d: S3Destination): Promise<string[]> {
  const keys = [...(await server.objects("archive")).keys()];
  return keys.filter((k) => k.startsWith(`${d.state.root}uploads/`));
}

/** Append in uneven chunks, as a response body arrives. */
async function appendAll(writer: { append(b: Buffer): Promise<void> }, bytes: Buffer, chunk = 65_537) {
  for (let at = 0; at < bytes.length; at += chunk) await writer.append(bytes.subarray(at, at + chunk));
}

/** Open a partial the way the transfer does, for a fresh download. */
const open = (
  d: S3Destination,
  key: string,
  meta: ReturnType<typeof object> & { total?: number },
  resume = false,
) => d.partials.open(relPath(key), meta, { resume });

async function uploadRecords(d: S3Destination): Promise<string[]> {
  const keys = await uploadsOf(d);
  return Promise.all(keys.map((k) => server.text("archive", k)));
}

describe("S3 destination: objects", () => {
  it.each([
    ["size known: one streamed PutObject", true],
    ["size unknown: one Buffer PutObject", false],
  ])("writes a small recording whole (%s), with its Content-Type and metadata", async (_, known) => {
    const d = await destination();
    const bytes = randomBytes(200_000);
    const partial = await open(d, "2026-11-25/a.mp3", {
      ...object("1"),
      ...(known ? { total: bytes.length } : {}),
    });
    await appendAll(partial, bytes);
    // s3rver writes a PutObject's body in place as it arrives, so a streamed one may show mid-way there (S3
    // itself shows an object only once its PUT completed); the Buffer one is sent only at the commit.
    if (!known) expect(await d.stat(relPath("2026-11-25/a.mp3"))).toBeUndefined();
    await partial.commit();
    // What the store HOLDS: a streamed body with aws-chunked framing would be longer than what was sent.
    const held = (await server.objects("archive")).get(d.keyOf("2026-11-25/a.mp3"));
    expect(held).toMatchObject({ size: bytes.length, sha256: sha256(bytes), contentType: "audio/mpeg" });
    expect(held?.metadata).toEqual(object("1").metadata);
    expect(partial.heldHash?.().digest("hex")).toBe(sha256(bytes));
  });

  it("a streamed object that gets more bytes than announced fails and leaves nothing", async () => {
    const d = await destination();
    const partial = await open(d, "over.mp3", { ...object("9"), total: 10 });
    await expect(partial.append(Buffer.alloc(11))).rejects.toThrow(/more bytes than the 10 announced/);
    await partial.abort();
    expect(await d.stat(relPath("over.mp3"))).toBeUndefined();
    expect(await uploadsOf(d)).toEqual([]);
  });

  it("streams a large recording as a multipart upload: byte-exact, nothing under the key before commit", async () => {
    const d = await destination();
    const bytes = randomBytes(2 * PART_SIZE + 12_345);
    const partial = await open(d, "big.wav", { ...object("2", "audio/wav"), total: bytes.length });
    await appendAll(partial, bytes);
    expect(await d.stat(relPath("big.wav"))).toBeUndefined();
    // The upload is recorded in the state before its first part, so a killed run's successor can abort it.
    const records = await uploadRecords(d);
    expect(records).toHaveLength(1);
    expect(JSON.parse(records[0] as string)).toMatchObject({
      recordingId: "2",
      key: "big.wav",
      total: bytes.length,
    });
    expect(records[0]).toContain('"uploadId"');
    await partial.commit();
    expect((await server.objects("archive")).get(d.keyOf("big.wav"))).toMatchObject({
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: "audio/wav",
    });
    // The record stays until the manifest has the line (the transfer drops it then).
    await d.partials.drop("2");
    expect(await uploadsOf(d)).toEqual([]);
  });

  it("uploads one after another and at once never share a part buffer: every object byte-exact", async () => {
    const d = await destination();
    const contents = [0, 1, 2].map((i) => randomBytes(PART_SIZE + 1 + i * 1_000_001));
    const upload = async (bytes: Buffer, i: number) => {
      const partial = await open(d, `many/${i}.wav`, object(`m${i}`, "audio/wav"));
      await appendAll(partial, bytes, 100_003 + i);
      await partial.commit();
    };
    for (const [i, bytes] of contents.entries()) await upload(bytes, i + 10); // one after another
    await Promise.all(contents.map(upload)); // at once
    const held = await server.objects("archive");
    for (const [i, bytes] of contents.entries()) {
      expect(held.get(d.keyOf(`many/${i}.wav`))?.sha256, `at once ${i}`).toBe(sha256(bytes));
      expect(held.get(d.keyOf(`many/${i + 10}.wav`))?.sha256, `after ${i}`).toBe(sha256(bytes));
    }
  }, 60_000);

  it("an aborted upload leaves nothing under the key and no record", async () => {
    const d = await destination();
    const partial = await open(d, "gone.mp3", object("3"));
    await appendAll(partial, randomBytes(PART_SIZE + 1000));
    await partial.abort();
    const keys = [...(await server.objects("archive")).keys()].filter((k) => k.startsWith(d.keyOf("")));
    expect(keys).toEqual([]);
  });

  it("resumes an upload in progress within the run; a fresh open starts over", async () => {
    const d = await destination();
    const first = await open(d, "r.mp3", object("4"));
    await first.append(Buffer.from("hello "));
    await first.close(); // a short body: kept for the resume
    expect(await d.partials.held(relPath("r.mp3"))).toBe(6);
    const again = await open(d, "r.mp3", object("4"), true);
    expect(again.offset).toBe(6);
    await again.append(Buffer.from("world"));
    expect(again.heldHash?.().digest("hex")).toBe(sha256(Buffer.from("hello world")));
    await again.commit();
    expect((await server.objects("archive")).get(d.keyOf("r.mp3"))?.size).toBe(11);
    const fresh = await open(d, "s.mp3", object("5"));
    await fresh.append(Buffer.from("abc"));
    const over = await open(d, "s.mp3", object("5"), false);
    expect(over.offset).toBe(0);
  });

  it("the next run aborts the uploads of a run killed mid-upload and adopts an object completed just before", async () => {
    const killed = await destination();
    const half = await open(killed, "half.mp3", object("6"));
    await appendAll(half, randomBytes(PART_SIZE + 5000)); // the first part is on its way
    const done = await open(killed, "done.mp3", { ...object("7"), total: 1000 });
    await done.append(randomBytes(1000));
    await done.commit(); // ... and killed before its manifest line
    // No close, no abort: like SIGKILL. A new destination (another machine, say) takes the archive over.
    const next = await S3Destination.open(killed.location, server.env);
    const lock = await next.lock();
    expect(await next.stat(relPath("half.mp3"))).toBeUndefined();
    // What the transfer needs to adopt the completed one without fetching it: its record and its size.
    expect(await next.partials.find("7")).toEqual({
      key: "done.mp3",
      contentType: "audio/mpeg",
      total: 1000,
    });
    expect(await next.stat(relPath("done.mp3"))).toEqual({ size: 1000 });
    expect(await next.partials.held(relPath("half.mp3"))).toBeUndefined();
    expect(await next.partials.dropFinished((id) => id === "7" || id === "6")).toBe(2);
    expect(await uploadsOf(next)).toEqual([]);
    await lock.release();
    await half.abort(); // let the first writer's own requests end
  });

  it("releasing the lock aborts the uploads the run leaves unfinished", async () => {
    const d = await destination();
    const lock = await d.lock();
    const partial = await open(d, "left.mp3", object("8"));
    await appendAll(partial, randomBytes(PART_SIZE + 10));
    await partial.close();
    await lock.release();
    const keys = [...(await server.objects("archive")).keys()].filter((k) => k.startsWith(d.keyOf("")));
    expect(keys).toEqual([]);
  });

  it("lists the objects directly inside a folder", async () => {
    const d = await destination();
    for (const key of ["a/x.mp3", "a/y.mp3", "a/b/z.mp3", "top.mp3"])
      await d.writeSmall(relPath(key), "x", "audio/mpeg", "evidence");
    await d.state.writeMark("{}\n");
    const names = async (folder: string) => (await d.list(folder)).map((e) => `${e.kind}:${e.name}`).sort();
    expect(await names("a")).toEqual(["object:x.mp3", "object:y.mp3"]);
    expect(await names("")).toEqual(["object:top.mp3"]);
    expect(await names("nope")).toEqual([]);
  });
});

describe("S3 destination: for verify", () => {
  it("objects() lists every object below the prefix, the state folder left out", async () => {
    const d = await destination();
    for (const key of ["a/x.mp3", "a/b/z.wav", "index.csv"])
      await d.writeSmall(relPath(key), "x", "audio/mpeg", "evidence");
    await d.state.writeMark("{}\n");
    await d.state.writeRecord("extensions.json", "[]");
    const all: string[] = [];
    for await (const key of d.objects()) all.push(key);
    expect(all.sort()).toEqual(["a/b/z.wav", "a/x.mp3", "index.csv"]);
    expect(await d.state.readRecord("extensions.json")).toBe("[]");
  });

  it("assertIdle() is busy while a live download holds the lock, and takes nothing", async () => {
    const d = await destination();
    await d.assertIdle();
    const holder = { pid: process.ppid, host: hostname(), token: "t", startedAt: "then" };
    await d.bucket.write(`${d.state.root}lock.json`, JSON.stringify(holder), "application/json");
    await expect(d.assertIdle()).rejects.toThrow(BusyError);
    expect(await d.bucket.readText(`${d.state.root}lock.json`)).toBe(JSON.stringify(holder));
  });
});

describe("S3 destination: state", () => {
  it("keeps every manifest line durable, in segments of bounded size, and compacts them", async () => {
    const d = await destination();
    const lines = Array.from({ length: SEGMENT_LINES + 37 }, (_, i) =>
      JSON.stringify({ recordingId: String(i) }),
    );
    await Promise.all(lines.map((line) => d.state.appendManifest(line)));
    const segments = [...(await server.objects("archive")).keys()].filter((k) =>
      k.startsWith(`${d.state.root}manifest/`),
    );
    expect(segments).toHaveLength(2);
    const read = async (x: S3Destination) => {
      const out: string[] = [];
      for await (const line of x.state.readManifest()) out.push(line);
      return out.filter((l) => l !== "");
    };
    expect((await read(d)).sort()).toEqual([...lines].sort());
    // The next run folds them into one object and reads the same lines.
    const next = await S3Destination.open(d.location, server.env);
    const lock = await next.lock();
    await lock.release();
    const after = [...(await server.objects("archive")).keys()].filter((k) =>
      k.startsWith(`${d.state.root}manifest/`),
    );
    expect(after).toEqual([`${d.state.root}manifest/compacted.jsonl`]);
    expect((await read(next)).sort()).toEqual([...lines].sort());
  });

  it("stores the incremental mark", async () => {
    const d = await destination();
    expect(await d.state.readMark()).toBeUndefined();
    await d.state.writeMark('{"lastTo":"2026-11-25T00:00:00.000Z"}\n');
    expect(await d.state.readMark()).toBe('{"lastTo":"2026-11-25T00:00:00.000Z"}\n');
  });

  it("one run per archive: a live holder makes the next run busy; a dead one is taken over", async () => {
    const d = await destination();
    const lockKey = `${d.state.root}lock.json`;
    const holder = (pid: number) =>
      JSON.stringify({ pid, host: hostname(), token: `t${pid}`, startedAt: "2026-11-25T00:00:00.000Z" });
    // Our parent (the test runner) is alive and not us: the holder of a run in progress on this host.
    await d.bucket.write(lockKey, holder(process.ppid), "application/json");
    await expect(d.lock()).rejects.toThrow(BusyError);
    await expect(d.lock()).rejects.toThrow(
      new RegExp(`another download is using s3://archive/t\\d+/: pid ${process.ppid} on `),
    );
    // A holder on this host whose process is gone (pid 2^22 + 1 cannot exist on Linux) is taken over.
    await d.bucket.write(lockKey, holder(4_194_305), "application/json");
    const lock = await d.lock();
    expect(JSON.parse((await d.bucket.readText(lockKey)) ?? "{}")).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await d.bucket.head(lockKey)).toBeUndefined();
  });
});

describe("S3 destination: preflight", () => {
  it("no such bucket: one line naming the bucket and the cause", async () => {
    const d = await S3Destination.open({ bucket: "no-such-bucket", prefix: "x/" }, server.env);
    const error = await d.preflight().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^s3:\/\/no-such-bucket: .*no such bucket$/);
  });

  it("access denied: an unknown access key", async () => {
    const d = await S3Destination.open(
      { bucket: "archive", prefix: "" },
      { ...server.env, AWS_ACCESS_KEY_ID: "NOBODY" },
    );
    await expect(d.preflight()).rejects.toThrow(/^s3:\/\/archive: .*access denied \(InvalidAccessKeyId\)$/);
  });

  it("the store unreachable", async () => {
    const d = await S3Destination.open(
      { bucket: "archive", prefix: "" },
      { ...server.env, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" },
    );
    await expect(d.preflight()).rejects.toThrow(/cannot reach the store \(ECONNREFUSED\)/);
  });
});

describe("S3 destination: a store that stops answering", () => {
  it("fails the request after the idle timeout instead of hanging (upload, state write, read)", async () => {
    const proxy = await startS3FaultProxy(server.endpoint, { stall: /\/archive\/stalled\// });
    try {
      const d = await S3Destination.open(
        { bucket: "archive", prefix: "stalled/" },
        { ...server.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_MAX_ATTEMPTS: "1" },
        { idleTimeoutMs: 500 },
      );
      await expect(open(d, "a.mp3", object("s1"))).rejects.toBeInstanceOf(StoreError);
      await expect(d.state.writeMark("{}")).rejects.toThrow(/s3:\/\/archive: PUT /);
      await expect(d.stat(relPath("a.mp3"))).rejects.toBeInstanceOf(StoreError);
      expect(proxy.faults.stalled).toBe(3);
    } finally {
      await proxy.stop();
    }
  });

  it("stops at once when the process's signal aborts", async () => {
    const proxy = await startS3FaultProxy(server.endpoint, { stall: /\/archive\/stalled\// });
    try {
      const stop = new AbortController();
      const d = await S3Destination.open(
        { bucket: "archive", prefix: "stalled/" },
        { ...server.env, AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { signal: stop.signal },
      );
      const pending = d.stat(relPath("a.mp3"));
      setTimeout(() => stop.abort(), 200);
      await expect(pending).rejects.toThrow();
    } finally {
      await proxy.stop();
    }
  });

  it("refuses a listing answer that never ends at MAX_LIST_PAGE_BYTES, after one request, memory bounded", async () => {
    let requests = 0;
    const endless = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { "content-type": "application/xml" });
      res.write('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>archive</Name>');
      const entry = Buffer.from(`<Contents><Key>${"k".repeat(1000)}</Key><Size>1</Size></Contents>`);
      const more = () => {
        while (res.write(entry));
      };
      res.on("drain", more);
      res.on("error", () => undefined);
      more();
    });
    await new Promise<void>((resolve) => endless.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = endless.address() as AddressInfo;
      const d = await S3Destination.open(
        { bucket: "archive", prefix: "endless/" },
        { ...server.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: "3" },
      );
      const listing = async () => {
        for await (const _ of d.objects());
      };
      await expect(listing()).rejects.toThrow(
        new RegExp(`s3://archive: list endless/: page 1 is over ${MAX_LIST_PAGE_BYTES / 1024 / 1024} MiB`),
      );
      expect(requests).toBe(1); // never retried: the store answers the same way
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });
});
