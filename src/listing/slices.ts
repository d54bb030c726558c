import type { RecordingItem, TimeRange } from "./types.js";

/**
 * One consecutive piece of a run's range, listed completely, its recordings oldest first. `items` can be
 * iterated once, and only until the next slice is asked for (they are made one at a time from a reused buffer).
 */
export interface Slice extends TimeRange {
  items: Iterable<RecordingItem>;
}

export interface SliceOptions {
  /** Aim for this many recordings per slice (about one call-log page of 1000 records). */
  target?: number;
  /** A slice that turns out to hold more than this is listed again in smaller pieces (memory stays flat). */
  maxItems?: number;
  /** The first slice's length; later ones follow the density the listing has seen. */
  initialSpanMs?: number;
  /** Slices are never shorter than this (a burst denser than `maxItems` per span is kept whole). */
  minSpanMs?: number;
}

const DEFAULTS: Required<SliceOptions> = {
  target: 800,
  maxItems: 4000,
  initialSpanMs: 24 * 3_600_000,
  minSpanMs: 1000,
};

/**
 * The recordings of `range` in call start-time order, oldest first, as consecutive slices from the oldest end.
 * The call log answers newest first, so each slice is listed completely (by `listRange`, the ordinary
 * per-range listing with its paging) and handed over reversed. Only one slice is held at a time, and a slice is
 * sized from the density seen so far to hold about `target` recordings: memory stays flat however long the
 * range, and a slice costs about one Heavy page. A recording listed by two neighbouring slices (the legs of a
 * call on both sides of a boundary) is handed over once.
 *
 * The next slice is listed only when the consumer asks for it, so a time-boxed run that stops asking stops
 * listing.
 */
export async function* oldestFirst(
  range: TimeRange,
  listRange: (range: TimeRange) => AsyncIterable<RecordingItem>,
  options: SliceOptions = {},
): AsyncGenerator<Slice, void, undefined> {
  const { target, maxItems, initialSpanMs, minSpanMs } = { ...DEFAULTS, ...options };
  const end = range.to.getTime();
  let cursor = range.from.getTime();
  let span = initialSpanMs;
  let previousIds = new Set<string>();
  const store = new ItemStore();
  while (cursor < end) {
    const to = Math.min(end, cursor + span);
    // The shortest slice is kept whole, however dense.
    const limit = to - cursor > minSpanMs ? maxItems : Number.POSITIVE_INFINITY;
    const listed = await listSlice({ from: new Date(cursor), to: new Date(to) }, listRange, limit, store);
    if (listed.kind === "overflow") {
      // Too dense for one slice: the part listed so far (newest first) gives the density; try a shorter one.
      const covered = Math.max(1, to - listed.oldestMs);
      const dense = Math.floor((covered * target) / listed.count);
      span = Math.max(minSpanMs, Math.min(dense, Math.floor((to - cursor) / 2)));
      continue;
    }
    const ids = new Set<string>();
    const seenBefore = previousIds;
    const items = function* (): Generator<RecordingItem> {
      for (const item of listed.items.newestLast()) {
        ids.add(item.recordingId);
        if (!seenBefore.has(item.recordingId)) yield item;
      }
    };
    yield { from: new Date(cursor), to: new Date(to), items: items() };
    previousIds = ids;
    const count = listed.items.size;
    const grown = span * 4;
    span = count === 0 ? grown : Math.max(minSpanMs, Math.min(grown, Math.floor((span * target) / count)));
    cursor = to;
  }
}

type Listed = { kind: "complete"; items: ItemStore } | { kind: "overflow"; count: number; oldestMs: number };

async function listSlice(
  slice: TimeRange,
  listRange: (range: TimeRange) => AsyncIterable<RecordingItem>,
  maxItems: number,
  store: ItemStore,
): Promise<Listed> {
  store.clear();
  for await (const item of listRange(slice)) {
    store.push(item);
    if (store.size > maxItems) {
      const oldestMs = Date.parse(item.record.startTime);
      return {
        kind: "overflow",
        count: store.size,
        oldestMs: Number.isFinite(oldestMs) ? oldestMs : slice.from.getTime(),
      };
    }
  }
  return { kind: "complete", items: store };
}

/**
 * A slice's items while it is being listed, as JSON in one reused buffer outside the JS heap. Held as objects
 * they would survive every young-generation collection of the listing (whose parsing makes a lot of short-lived
 * garbage); V8 then grows the young generation to its maximum, ~30 MiB of peak memory for nothing. Objects made
 * again when the slice is handed over die young.
 */
class ItemStore {
  private bytes = Buffer.allocUnsafe(256 * 1024);
  private length = 0;
  private ends: number[] = [];

  get size(): number {
    return this.ends.length;
  }

  clear(): void {
    this.length = 0;
    this.ends = [];
  }

  push(item: RecordingItem): void {
    const text = JSON.stringify(item);
    const needed = this.length + Buffer.byteLength(text);
    if (needed > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    this.length += this.bytes.write(text, this.length);
    this.ends.push(this.length);
  }

  /** The items in reverse listing order: oldest first, since the call log lists newest first. */
  *newestLast(): Generator<RecordingItem> {
    for (let i = this.ends.length - 1; i >= 0; i--) {
      const start = i === 0 ? 0 : (this.ends[i - 1] as number);
      yield JSON.parse(this.bytes.toString("utf8", start, this.ends[i])) as RecordingItem;
    }
  }
}
