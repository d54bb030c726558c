/**
 * The emulator makes every 14th record (offset 3) and the next one two legs sharing ONE recording. With
 * `withRecordingRatio: 1`, this is the number of calls that yields exactly `recordings` distinct recordings.
 */
export function callsForRecordings(recordings: number): number {
  const PAIR_PERIOD = 14;
  const PAIR_OFFSET = 3;
  let calls = recordings;
  const distinct = (c: number) => {
    let pairs = 0;
    for (let i = PAIR_OFFSET; i + 1 < c; i += PAIR_PERIOD) pairs++;
    return c - pairs;
  };
  while (distinct(calls) < recordings) calls++;
  return calls;
}
