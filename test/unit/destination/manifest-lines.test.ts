import { describe, expect, it } from "vitest";
import { type LinesEnd, manifestLines } from "../../../src/destination/manifest-lines.js";

async function collect(chunks: Iterable<Buffer>, maxBytes?: number) {
  const lines: string[] = [];
  const reader = manifestLines(
    (async function* () {
      yield* chunks;
    })(),
    maxBytes,
  );
  for (;;) {
    const next = await reader.next();
    if (next.done) return { lines, end: next.value as LinesEnd };
    lines.push(next.value);
  }
}

/** `text`'s bytes cut every `size` bytes (inside characters too). */
function cut(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

describe("manifestLines", () => {
  it("keeps a line that spans chunks whole when the source reuses one buffer for every chunk", async () => {
    const text = '{"recordingId":"1","path":"a/long-name.mp3"}\n{"recordingId":"2"}\n';
    for (const size of [3, 7, 16]) {
      const shared = Buffer.alloc(size);
      const reused = (async function* () {
        for (const piece of cut(text, size)) {
          piece.copy(shared);
          yield shared.subarray(0, piece.length); // as LocalFolder.read: valid until the next chunk is asked for
        }
      })();
      const lines: string[] = [];
      for await (const line of manifestLines(reused)) lines.push(line);
      expect(lines).toEqual(['{"recordingId":"1","path":"a/long-name.mp3"}', '{"recordingId":"2"}']);
    }
  });

  it("decodes each line whole: a chunk that ends inside a character never splits it", async () => {
    const text = '{"fromName":"Zoë Ångström 山田太郎 🎧"}\n{"toName":"Ñandú"}\n';
    for (const size of [1, 2, 3, 5, 7]) {
      const { lines, end } = await collect(cut(text, size));
      expect(lines).toEqual(['{"fromName":"Zoë Ångström 山田太郎 🎧"}', '{"toName":"Ñandú"}']);
      expect(end).toEqual({
        skipped: 0,
        complete: Buffer.byteLength(text),
        total: Buffer.byteLength(text),
        unterminated: undefined,
      });
    }
  });

  it("leaves out a line over the cap, in any chunking, and says how many", async () => {
    const text = `a\n${"x".repeat(50)}\nb\n${"y".repeat(11)}\nc`;
    for (const size of [1, 4, 100]) {
      const { lines, end } = await collect(cut(text, size), 10);
      expect(lines).toEqual(["a", "b"]);
      expect(end).toMatchObject({ skipped: 2, unterminated: "c", total: Buffer.byteLength(text) });
      expect(end.complete).toBe(Buffer.byteLength(text) - 1);
    }
  });

  it("an unterminated last line over the cap is skipped, not returned", async () => {
    const { lines, end } = await collect(cut(`a\n${"x".repeat(30)}`, 7), 10);
    expect(lines).toEqual(["a"]);
    expect(end).toMatchObject({ skipped: 1, unterminated: undefined, complete: 2 });
  });
});
