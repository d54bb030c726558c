import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FIRST_RUN_WINDOW_MS,
  INCREMENTAL_OVERLAP_MS,
  IncrementalMark,
  nextLastTo,
} from "../../../src/archive/mark.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-mark-");
});
afterEach(() => dir.cleanup());

const folder = () => new LocalFolder(dir.path);

describe("IncrementalMark", () => {
  it("starts incremental runs at the last run's end minus the overlap, first runs 24 h back", async () => {
    const mark = new IncrementalMark(folder().state);
    const to = new Date("2026-01-02T00:00:00Z");
    expect((await mark.incrementalFrom(to)).getTime()).toBe(to.getTime() - FIRST_RUN_WINDOW_MS);
    await mark.write({ lastTo: "2026-01-01T12:00:00.000Z", finishedAt: "x" });
    expect((await mark.incrementalFrom(to)).getTime()).toBe(
      Date.parse("2026-01-01T12:00:00Z") - INCREMENTAL_OVERLAP_MS,
    );
  });

  it("re-reads enough before the last run's end to find a 10-hour call that ended just after it", async () => {
    const mark = new IncrementalMark(folder().state);
    const lastTo = Date.parse("2026-01-01T12:00:00Z");
    await mark.write({ lastTo: new Date(lastTo).toISOString(), finishedAt: "x" });
    // Logged only once it ended (after lastTo), but filtered by its start, 10 h before lastTo.
    const callStart = lastTo - 10 * 60 * 60 * 1000;
    const next = await mark.incrementalFrom(new Date("2026-01-02T00:00:00Z"));
    expect(next.getTime()).toBeLessThanOrEqual(callStart);
  });

  it("moves the incremental mark only for a range that joins the previous one, never backwards", async () => {
    const mark = new IncrementalMark(folder().state);
    const at = (iso: string) => new Date(`2026-01-${iso}Z`);
    const lastTo = async () => (await mark.read())?.lastTo;
    const run = (from: string, to: string, oldestRetryable?: string) =>
      mark.record({
        from: at(from),
        to: at(to),
        oldestRetryable: oldestRetryable === undefined ? undefined : at(oldestRetryable).getTime(),
      });

    await run("01T00:00", "02T00:00"); // first run: its end
    expect(await lastTo()).toBe(at("02T00:00").toISOString());
    await run("05T23:00", "06T00:00"); // `--from 1h` after nights that failed: the days between stay unlisted
    expect(await lastTo()).toBe(at("02T00:00").toISOString());
    await run("01T12:00", "03T00:00"); // joins the mark: advances
    expect(await lastTo()).toBe(at("03T00:00").toISOString());
    await run("01T00:00", "02T12:00"); // an older range: the mark stays
    expect(await lastTo()).toBe(at("03T00:00").toISOString());
    await run("02T12:00", "04T00:00", "02T20:00"); // a retryable failure holds it at that recording
    expect(await lastTo()).toBe(at("02T20:00").toISOString());
  });

  it("lets a retryable failure hold the mark even below the previous one, so the next run lists it again", () => {
    const run = { from: new Date(0), to: new Date(100), oldestRetryable: 20 };
    expect(nextLastTo(50, run)).toBe(20);
    expect(nextLastTo(undefined, run)).toBe(20);
    expect(nextLastTo(undefined, { ...run, oldestRetryable: undefined })).toBe(100);
  });

  it("keeps a first run's start before any slice closed, and is joined by the run's own slices", async () => {
    const mark = new IncrementalMark(folder().state);
    const start = new Date("2025-10-05T00:00:00Z");
    const at = new Date("2026-01-03T00:00:00Z");
    expect(await mark.begin(start, at)).toBe(true);
    // Killed here: the next run without --from continues at the first run's start (minus the overlap).
    expect((await mark.incrementalFrom(at)).getTime()).toBe(start.getTime() - INCREMENTAL_OVERLAP_MS);
    expect(await mark.continuationOf(start)).toBeUndefined(); // nothing listed yet: a backfill starts over
    // The first slice closes: the mark moves from the start, the listed span begins there.
    await mark.record({ from: start, to: new Date("2025-10-06T00:00:00Z"), oldestRetryable: undefined }, at);
    expect(await mark.read()).toMatchObject({
      lastTo: "2025-10-06T00:00:00.000Z",
      listedFrom: start.toISOString(),
    });
    // A later run's start leaves an existing mark alone.
    expect(await mark.begin(new Date("2026-01-02T00:00:00Z"), at)).toBe(false);
    expect((await mark.read())?.lastTo).toBe("2025-10-06T00:00:00.000Z");
  });
});
