import { describe, expect, it } from "vitest";
import { mergeByStartTime } from "../../../src/listing/merge-listings.js";
import type { RecordingItem } from "../../../src/listing/types.js";

function item(id: string, minute: number): RecordingItem {
  const startTime = new Date(Date.UTC(2026, 10, 1, 0, minute)).toISOString();
  return { recordingId: id, contentUri: `https://media.ringcentral.com/${id}`, record: { id, startTime } };
}

async function* listing(items: RecordingItem[], pulled: string[]) {
  for (const i of items) {
    pulled.push(i.recordingId);
    yield i;
  }
}

async function collect(source: AsyncIterable<RecordingItem>): Promise<string[]> {
  const ids: string[] = [];
  for await (const i of source) ids.push(i.recordingId);
  return ids;
}

describe("mergeByStartTime", () => {
  it("merges listings that are newest first into one newest-first listing, reading one item ahead each", async () => {
    const pulled: string[] = [];
    const a = listing([item("a9", 9), item("a5", 5), item("a1", 1)], pulled);
    const b = listing([item("b7", 7), item("b6", 6), item("b2", 2)], pulled);
    const merged = mergeByStartTime([a, b]);
    expect((await merged.next()).value?.recordingId).toBe("a9");
    expect(pulled).toEqual(["a9", "b7"]); // the next of a is read only when asked for
    expect(await collect(merged)).toEqual(["b7", "b6", "a5", "b2", "a1"]);
  });

  it("merges oldest-first listings the other way round, and handles empty ones", async () => {
    const a = listing([item("a1", 1), item("a5", 5)], []);
    const b = listing([], []);
    const c = listing([item("c3", 3)], []);
    expect(await collect(mergeByStartTime([a, b, c], "oldest-first"))).toEqual(["a1", "c3", "a5"]);
    expect(await collect(mergeByStartTime([]))).toEqual([]);
  });

  it("closes every listing when the consumer stops early", async () => {
    const closed: string[] = [];
    async function* tracked(name: string) {
      try {
        yield item(`${name}1`, 9);
        yield item(`${name}2`, 1);
      } finally {
        closed.push(name);
      }
    }
    for await (const _ of mergeByStartTime([tracked("a"), tracked("b")])) break;
    expect(closed.sort()).toEqual(["a", "b"]);
  });
});
