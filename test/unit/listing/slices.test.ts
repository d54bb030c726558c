import { describe, expect, it } from "vitest";
import { oldestFirst } from "../../../src/listing/slices.js";
import type { RecordingItem, TimeRange } from "../../../src/listing/types.js";

const T0 = Date.parse("2026-09-01T00:00:00Z");
const MIN = 60_000;

/** A fake call log: one recording every `everyMs` in [T0, T0 + spanMs), listed newest first per range. */
function fakeLog(count: number, everyMs: number) {
  const starts = Array.from({ length: count }, (_, i) => T0 + i * everyMs);
  const requests: TimeRange[] = [];
  const list = async function* (range: TimeRange): AsyncGenerator<RecordingItem> {
    requests.push(range);
    for (let i = starts.length - 1; i >= 0; i--) {
      const start = starts[i] as number;
      if (start < range.from.getTime() || start >= range.to.getTime()) continue;
      yield {
        recordingId: String(i),
        contentUri: `https://media.example/${i}`,
        record: { id: `r${i}`, startTime: new Date(start).toISOString() },
      };
    }
  };
  return { list, requests };
}

async function collect(range: TimeRange, log: ReturnType<typeof fakeLog>, options = {}) {
  const slices = [];
  for await (const slice of oldestFirst(range, log.list, options))
    slices.push({ ...slice, items: [...slice.items] });
  return slices;
}

describe("oldestFirst", () => {
  const range = { from: new Date(T0), to: new Date(T0 + 1000 * MIN) };

  it("hands over every recording exactly once, oldest first across the whole range", async () => {
    const log = fakeLog(1000, MIN);
    const slices = await collect(range, log, { target: 50, maxItems: 200, initialSpanMs: 30 * MIN });
    const ids = slices.flatMap((s) => s.items.map((i) => Number(i.recordingId)));
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Consecutive, covering the range.
    expect(slices[0]?.from).toEqual(range.from);
    expect(slices.at(-1)?.to).toEqual(range.to);
    for (let i = 1; i < slices.length; i++) expect(slices[i]?.from).toEqual(slices[i - 1]?.to);
  });

  it("sizes slices from the density: none holds more than maxItems, most near the target", async () => {
    const log = fakeLog(1000, MIN);
    const slices = await collect(range, log, { target: 50, maxItems: 200, initialSpanMs: 24 * 60 * MIN });
    expect(Math.max(...slices.map((s) => s.items.length))).toBeLessThanOrEqual(200);
    const sizes = slices.slice(1, -1).map((s) => s.items.length);
    expect(sizes.every((n) => n >= 25 && n <= 100)).toBe(true);
    // The first (too long) slice was abandoned once after maxItems + 1 recordings, then listed shorter.
    expect(log.requests.length).toBe(slices.length + 1);
  });

  it("grows slices across empty stretches instead of listing them minute by minute", async () => {
    const log = fakeLog(0, MIN);
    const year = { from: new Date(T0), to: new Date(T0 + 365 * 24 * 60 * MIN) };
    const slices = await collect(year, log);
    expect(slices.length).toBeLessThan(10);
    expect(slices.every((s) => s.items.length === 0)).toBe(true);
  });

  it("keeps a burst denser than maxItems in the shortest slice whole", async () => {
    const log = fakeLog(500, 1); // 500 recordings within half a second
    const burst = { from: new Date(T0), to: new Date(T0 + 10_000) };
    const slices = await collect(burst, log, {
      target: 10,
      maxItems: 20,
      initialSpanMs: 10_000,
      minSpanMs: 1000,
    });
    expect(slices.flatMap((s) => s.items).length).toBe(500);
  });

  it("hands over a recording that two neighbouring slices list once", async () => {
    const item = (id: string, start: number): RecordingItem => ({
      recordingId: id,
      contentUri: "x",
      record: { id, startTime: new Date(start).toISOString() },
    });
    // Both legs of one call carry recording "shared"; they fall on both sides of the first boundary.
    const list = async function* (r: TimeRange): AsyncGenerator<RecordingItem> {
      if (r.from.getTime() === T0) yield item("shared", T0 + 59_000);
      else yield item("shared", T0 + 60_000);
    };
    const slices = [];
    for await (const s of oldestFirst({ from: new Date(T0), to: new Date(T0 + 2 * MIN) }, list, {
      initialSpanMs: MIN,
    }))
      slices.push([...s.items]);
    expect(slices.flat().map((i) => i.recordingId)).toEqual(["shared"]);
  });
});
