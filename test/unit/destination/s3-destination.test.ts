import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Destination } from "../../../src/destination/s3/destination.js";
import { StoreError } from "../../../src/destination/s3/errors.js";
import { SEGMENT_LINES } from "../../../src/destination/s3/state.js";
import { PART_SIZE } from "../../../src/destination/s3/upload.js";
import { BusyError } from "../../../src/errors.js";
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

/** Retry `check` until it passes (the uploader works in the background), or fail after 5 s. */
async function eventually(check: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await check();
    } catch (error) {
      if (tries > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Append in uneven chunks, as a response body arrives. */
async function appendAll(writer: { append(b: Buffer): Promise<void> }, bytes: Buffer, chunk = 65_537) {
  for (let at = 0; at < bytes.length; at += chunk) await writer.append(bytes.subarray(at, at + chunk));
}

describe("S3 destination: objects", () => {
  it.each([
    ["size known: one streamed PutObject", true],
    ["size unknown: one Buffer PutObject", false],
  ])("writes a small recording whole (%s), with its Content-Type and metadata", async (_, known) => {
    const d = await destination();
    const bytes = randomBytes(200_000);
    const writer = await d.openPartial("2026-11-25/a.mp3", {
      ...object("1"),
      ...(known ? { total: bytes.length } : {}),
    });
    await appendAll(writer, bytes);
    expect(await d.stat("2026-11-25/a.mp3")).toBeUndefined();
    await writer.commit();
    // What the store HOLDS: a streamed body with aws-chunked framing would be longer than what was sent.
    const held = (await server.objects("archive")).get(d.keyOf("2026-11-25/a.mp3"));
    expect(held).toMatchObject({ size: bytes.length, sha256: sha256(bytes), contentType: "audio/mpeg" });
    expect(held?.metadata).toEqual(object("1").metadata);
    expect(writer.hashSoFar().digest("hex")).toBe(sha256(bytes));
  });

  it("a streamed object that gets more bytes than announced fails and leaves nothing", async () => {
    const d = await destination();
    const writer = await d.openPartial("over.mp3", { ...object("9"), total: 10 });
    await expect(writer.append(Buffer.alloc(11))).rejects.toThrow(/more bytes than the 10 announced/);
    await d.discardPartial("9");
    expect(await d.stat("over.mp3")).toBeUndefined();
  });

  it("streams a large recording as a multipart upload: byte-exact, nothing under the key before commit", async () => {
    const d = await destination();
    const bytes = randomBytes(2 * PART_SIZE + 12_345);
    const writer = await d.openPartial("big.wav", object("2", "audio/wav"));
    await appendAll(writer, bytes);
    expect(await d.stat("big.wav")).toBeUndefined();
    // The upload is recorded in the state while it runs, so a killed run's successor can abort it.
    await eventually(async () => expect(await uploadsOf(d)).toHaveLength(1));
    await writer.commit();
    const objects = await server.objects("archive");
    expect(objects.get(d.keyOf("big.wav"))).toMatchObject({
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: "audio/wav",
    });
    expect([...objects.keys()].filter((k) => k.includes(".rc-recordings/uploads/"))).toEqual([]);
  });

  it("an aborted upload leaves nothing under the key and no upload record", async () => {
    const d = await destination();
    const writer = await d.openPartial("gone.mp3", object("3"));
    await appendAll(writer, randomBytes(PART_SIZE + 1000));
    await d.discardPartial("3");
    const keys = [...(await server.objects("archive")).keys()].filter((k) => k.startsWith(d.keyOf("")));
    expect(keys).toEqual([]);
  });

  it("resumes an upload in progress for the same recording; a new content type starts over", async () => {
    const d = await destination();
    const first = await d.openPartial("r.mp3", object("4"));
    await first.append(Buffer.from("hello "));
    const again = await d.openPartial("r.mp3", object("4"));
    expect(again).toBe(first);
    expect(again.offset).toBe(6);
    const other = await d.openPartial("r.wav", object("4", "audio/wav"));
    expect(other).not.toBe(first);
    expect(other.offset).toBe(0);
    await other.append(Buffer.from("world"));
    await other.commit();
    expect((await server.objects("archive")).get(d.keyOf("r.wav"))?.size).toBe(5);
    expect(await d.stat("r.mp3")).toBeUndefined();
  });

  it("the next run aborts the uploads of a run that was killed mid-upload", async () => {
    const killed = await destination();
    const writer = await killed.openPartial("half.mp3", object("5"));
    await appendAll(writer, randomBytes(PART_SIZE + 5000)); // the first part is on its way
    // No commit, no abort: like SIGKILL. A new destination (another machine, say) takes the archive over.
    await eventually(async () => expect(await uploadsOf(killed)).toHaveLength(1));
    const next = await S3Destination.open(killed.location, server.env);
    const lock = await next.lock();
    expect(await uploadsOf(killed)).toEqual([]);
    expect(await next.stat("half.mp3")).toBeUndefined();
    await lock.release();
    await writer.abort(); // let the first writer's own pipe end
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
