import type { RecordingItem } from "./types.js";

/** The order the call log lists calls in (newest first); the backfill lists oldest first. */
export type ListingOrder = "newest-first" | "oldest-first";

/**
 * Several listings as one, each in `order` already (one listing per `--extension`): a k-way merge by the
 * record's start time that holds one item per listing, so the run still sees calls in one time order (the
 * incremental mark and a backfill rely on it) and no listing is read ahead of the others.
 */
export async function* mergeByStartTime(
  listings: readonly AsyncIterable<RecordingItem>[],
  order: ListingOrder = "newest-first",
): AsyncGenerator<RecordingItem, void, undefined> {
  const iterators = listings.map((listing) => listing[Symbol.asyncIterator]());
  const heads: ({ item: RecordingItem; at: number } | undefined)[] = [];
  const advance = async (i: number) => {
    const next = await (iterators[i] as AsyncIterator<RecordingItem>).next();
    heads[i] = next.done ? undefined : { item: next.value, at: startOf(next.value) };
  };
  const first = order === "newest-first" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  try {
    for (let i = 0; i < iterators.length; i++) await advance(i);
    for (;;) {
      let pick = -1;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        const best = heads[pick];
        if (head && (!best || first(head.at, best.at))) pick = i;
      }
      if (pick === -1) return;
      yield (heads[pick] as { item: RecordingItem }).item;
      await advance(pick);
    }
  } finally {
    await Promise.allSettled(iterators.map((iterator) => iterator.return?.()));
  }
}

/** A record without a usable start time sorts as the oldest (it is yielded last newest-first). */
function startOf(item: RecordingItem): number {
  const ms = Date.parse(item.record.startTime);
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}
