import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageFullError } from "../../src/destination/errors.js";
import { type RelPath, relPath } from "../../src/destination/rel-path.js";
import type { Destination, PartialMeta } from "../../src/destination/types.js";
import { BusyError, stopsNewWork } from "../../src/errors.js";

/**
 * The Destination contract, once, for every kind of destination (after restic's internal/backend/test): a new
 * backend gets the whole suite by describing how to make one. Each test works on a fresh, empty destination and
 * checks what a later read finds, never what was sent.
 */
export interface ContractSubject {
  /** A fresh, empty destination. */
  fresh(): Promise<Destination>;
  /** A second handle on the same storage as the last `fresh()`: another run of the tool, as far as it can tell. */
  again(): Promise<Destination>;
  /** A destination whose storage takes no more bytes (a full disk, a store over quota). */
  full(): Promise<Destination>;
  stop(): Promise<void>;
}

const meta = (recordingId: string, contentType = "audio/mpeg"): PartialMeta => ({
  recordingId,
  contentType,
  metadata: { "recording-id": recordingId },
});

async function bytesOf(d: Destination, key: RelPath): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of d.read(key)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Append in uneven chunks, as a response body arrives. */
async function appendAll(partial: { append(b: Uint8Array): Promise<void> }, bytes: Buffer, chunk = 65_537) {
  for (let at = 0; at < bytes.length; at += chunk) await partial.append(bytes.subarray(at, at + chunk));
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The rejection of `op`, or a failure when it resolves. */
async function rejectionOf(op: () => Promise<unknown>): Promise<unknown> {
  try {
    await op();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

export function destinationContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`Destination contract: ${name}`, () => {
    let subject: ContractSubject;
    beforeAll(async () => {
      subject = await makeSubject();
    });
    afterAll(async () => {
      await subject?.stop();
    });

    it("a fresh destination holds nothing", async () => {
      const d = await subject.fresh();
      await d.preflight();
      expect(await d.stat(relPath("2026-11-25/none.mp3"))).toBeUndefined();
      expect(await d.list("")).toEqual([]);
      expect(await d.list("2026-11-25")).toEqual([]);
      expect(await all(d.objects())).toEqual([]);
      expect(await d.partials.find("1")).toBeUndefined();
      expect(await d.state.readMark()).toBeUndefined();
      expect(await d.state.readRecord("extensions.json")).toBeUndefined();
    });

    it("commit: nothing shows under the key before it, the exact bytes after it", async () => {
      const d = await subject.fresh();
      const key = relPath("2026-11-25/a.mp3");
      const bytes = randomBytes(300_000);
      const partial = await d.partials.open(key, meta("1"), { resume: false });
      expect(partial.offset).toBe(0);
      await appendAll(partial, bytes);
      expect(await d.stat(key)).toBeUndefined();
      expect(await all(d.objects())).toEqual([]);
      await partial.commit();
      expect(await d.stat(key)).toEqual({ size: bytes.length });
      expect(sha256(await bytesOf(d, key))).toBe(sha256(bytes));
      expect(await d.list("2026-11-25")).toContainEqual({ name: "a.mp3", kind: "object" });
      expect(await d.list("")).not.toContainEqual(expect.objectContaining({ name: "a.mp3" }));
      // The tool's own state is never among the objects.
      expect(await all(d.objects())).toEqual([key]);
    });

    it("partials: journalled by recording id, held bytes counted, dropped with their bytes", async () => {
      const d = await subject.fresh();
      const key = relPath("x/b.wav");
      const partial = await d.partials.open(
        key,
        { ...meta("2", "audio/wav"), total: 1000 },
        { resume: false },
      );
      await partial.append(randomBytes(400));
      await partial.close();
      expect(await d.partials.find("2")).toMatchObject({ key, contentType: "audio/wav", total: 1000 });
      const held = await d.partials.held(key);
      expect(held === undefined || held === 400).toBe(true);
      await d.partials.drop("2", key);
      expect(await d.partials.find("2")).toBeUndefined();
      expect(await d.partials.held(key)).toBeUndefined();
      expect(await d.stat(key)).toBeUndefined();
    });

    it("resume: held bytes continue at their offset and commit to the whole object", async () => {
      const d = await subject.fresh();
      const key = relPath("r/c.mp3");
      const bytes = randomBytes(200_000);
      const first = await d.partials.open(key, meta("3"), { resume: false });
      await appendAll(first, bytes.subarray(0, 120_000));
      await first.close();
      const held = (await d.partials.held(key)) ?? 0;
      const second = await d.partials.open(key, meta("3"), { resume: held > 0 });
      expect(second.offset).toBe(held);
      // The destination's own hash of what it holds, or the bytes read back: the transfer uses one of them.
      if (second.heldHash) {
        expect(second.heldHash().digest("hex")).toBe(sha256(bytes.subarray(0, held)));
      } else {
        expect(sha256(Buffer.concat(await all(second.readHeld())))).toBe(sha256(bytes.subarray(0, held)));
      }
      await appendAll(second, bytes.subarray(held));
      await second.commit();
      expect(sha256(await bytesOf(d, key))).toBe(sha256(bytes));
    });

    it("abort: neither the bytes nor the journal stay", async () => {
      const d = await subject.fresh();
      const key = relPath("a/d.mp3");
      const partial = await d.partials.open(key, meta("4"), { resume: false });
      await partial.append(randomBytes(1000));
      await partial.abort();
      expect(await d.partials.find("4")).toBeUndefined();
      expect(await d.stat(key)).toBeUndefined();
      expect(await all(d.objects())).toEqual([]);
    });

    it("quarantine: a byte-for-byte copy below the state folder, unseen by objects(), kept when the key is replaced", async () => {
      const d = await subject.fresh();
      await d.lock().then((lock) => lock.release()); // the state folder exists, as in a run
      const key = relPath("2026-11-25/+1650 c.mp3");
      const bytes = randomBytes(200_000);
      const first = await d.partials.open(key, meta("5"), { resume: false });
      await appendAll(first, bytes);
      await first.commit();
      const copy = await d.quarantine(key, "2026-12-04T10-00-00Z");
      expect(copy.key).toBe(".rc-recordings/quarantine/2026-12-04T10-00-00Z/2026-11-25/+1650 c.mp3");
      expect(copy.where).toContain("quarantine/2026-12-04T10-00-00Z/2026-11-25/+1650 c.mp3");
      expect(sha256(await bytesOf(d, relPath(copy.key)))).toBe(sha256(bytes));
      expect(await all(d.objects())).toEqual([key]);
      // The repair then writes the recording's key anew: the copy stays as it was.
      const second = await d.partials.open(key, meta("5"), { resume: false });
      await appendAll(second, Buffer.from("replaced"));
      await second.commit();
      expect((await bytesOf(d, key)).toString()).toBe("replaced");
      expect(sha256(await bytesOf(d, relPath(copy.key)))).toBe(sha256(bytes));
      await expect(d.quarantine(key, "../escape")).rejects.toThrow(/refusing a quarantine folder/);
    });

    it("probeWrite: proves a write and leaves nothing behind", async () => {
      const d = await subject.fresh();
      await d.probeWrite();
      await d.probeWrite();
      expect(await all(d.objects())).toEqual([]);
      expect(await d.state.readMark()).toBeUndefined();
      expect(await d.partials.find("1")).toBeUndefined();
    });

    it("small objects are written whole and removed", async () => {
      const d = await subject.fresh();
      const key = relPath("s/e.json");
      await d.writeSmall(key, '{"a":1}', "application/json", "evidence");
      await d.writeSmall(key, '{"a":2}', "application/json", "evidence");
      expect((await bytesOf(d, key)).toString()).toBe('{"a":2}');
      await d.remove(key);
      expect(await d.stat(key)).toBeUndefined();
    });

    it("state: manifest lines (multi-byte characters across read chunks), the mark and records, seen by the next run", async () => {
      const d = await subject.fresh();
      const lock = await d.lock();
      const log = await d.state.openManifest({ writable: true });
      // Three-byte characters in long lines: a reader that decodes chunk by chunk splits one of them.
      const lines = Array.from({ length: 120 }, (_, i) => JSON.stringify({ i, name: "€".repeat(600 + i) }));
      for (const line of lines) await log.append(`${line}\n`);
      await log.close();
      await d.state.writeMark('{"to":"2026-11-25T00:00:00.000Z"}');
      await d.state.writeRecord("extensions.json", "[]");
      await lock.release();
      const next = await subject.again();
      const nextLock = await next.lock();
      const read = await next.state.openManifest({ writable: false });
      const got = await all(read.lines());
      expect(got.length).toBe(lines.length);
      // Counted, not diffed: a diff of 300 long lines says nothing more.
      expect(got.filter((line, i) => line !== lines[i]).length).toBe(0);
      await read.close();
      expect(await next.state.readMark()).toBe('{"to":"2026-11-25T00:00:00.000Z"}');
      expect(await next.state.readRecord("extensions.json")).toBe("[]");
      await nextLock.release();
    });

    it("lock: one run at a time; a reader sees it busy; free again after release", async () => {
      const d = await subject.fresh();
      const lock = await d.lock();
      const other = await subject.again();
      expect(await rejectionOf(() => other.lock())).toBeInstanceOf(BusyError);
      expect(await rejectionOf(() => other.assertIdle())).toBeInstanceOf(BusyError);
      await lock.release();
      await other.assertIdle();
      const second = await other.lock();
      await second.release();
    });

    it("full storage: StorageFullError, which stops new work, and nothing under the key", async () => {
      const d = await subject.full();
      const key = relPath("f/full.mp3");
      const error = await rejectionOf(async () => {
        const partial = await d.partials.open(key, meta("5"), { resume: false });
        await appendAll(partial, randomBytes(600_000));
        await partial.commit();
      });
      expect(error).toBeInstanceOf(StorageFullError);
      expect(stopsNewWork(error)).toBe(true);
      expect(await d.stat(key)).toBeUndefined();
      const mark = await rejectionOf(() => d.state.writeMark(`{"to":"${"x".repeat(100_000)}"}`));
      expect(mark).toBeInstanceOf(StorageFullError);
    });
  });
}
