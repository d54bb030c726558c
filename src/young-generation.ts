import { setFlagsFromString } from "node:v8";

/**
 * Imported first by `bin/rc-recordings.js`, before any other module of ours: keeps V8's young generation at the
 * size it starts with (two 1 MiB semi-spaces) instead of letting it grow to 2 × 16 MiB (Node 20 and 22) or
 * 2 × 64 MiB (Node 24). A long run — a 100 000-record dry run, a verify of 150 000 files, a big download —
 * allocates steadily, so V8 grew it to the maximum within seconds, and every MiB of it is resident: it was the
 * measured cause of bench row 3b's 135-141 MiB (docs/performance.md). Smaller semi-spaces mean more young-
 * generation collections, each of a smaller space; the bench's throughput rows did not move.
 *
 * The maximum itself (`--max-semi-space-size`) is fixed when the heap is set up, so setting it here does
 * nothing; the growth factor is read at every young-generation collection, so it does take effect (checked with
 * `v8.getHeapSpaceStatistics()` on Node 20, 22 and 24). Node warns that flags changed after start-up may behave
 * unpredictably; this one only decides by how much a space grows. A user's own young-generation flags
 * (`node --max-semi-space-size=…`, NODE_OPTIONS) are left alone.
 */
const USER_FLAGS = /--(max[-_]|min[-_])?semi[-_]space[-_](size|growth[-_]factor)|--optimize[-_]for[-_]size/;

if (!USER_FLAGS.test([...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" "))) {
  setFlagsFromString("--semi-space-growth-factor=1");
}
