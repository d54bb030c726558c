import { describe, expect, it } from "vitest";
import { type OpenSlice, SliceLedger } from "../../../src/run/slice-ledger.js";

const range = (h: number) => ({
  from: new Date(Date.UTC(2026, 0, 1, h)),
  to: new Date(Date.UTC(2026, 0, 1, h + 1)),
});

describe("SliceLedger", () => {
  it("closes slices in order, only once listed and settled, and never past a blocked one", async () => {
    const closed: number[] = [];
    const ledger = new SliceLedger(
      async (slice: OpenSlice) => {
        closed.push(slice.from.getUTCHours());
      },
      () => undefined,
    );
    const [a, b, c] = [ledger.start(range(0)), ledger.start(range(1)), ledger.start(range(2))];
    ledger.add(a);
    ledger.add(b);
    ledger.listed(b);
    ledger.settle(b, true); // b is done, but a is still open: nothing closes yet
    await ledger.idle();
    expect(closed).toEqual([]);
    ledger.listed(a);
    ledger.settle(a, true);
    await ledger.idle();
    expect(closed).toEqual([0, 1]);
    ledger.add(c);
    ledger.listed(c);
    ledger.settle(c, false); // stopped unfinished: c stays open
    await ledger.idle();
    expect(closed).toEqual([0, 1]);
  });

  it("reports a close that fails and still closes the next ones", async () => {
    const errors: unknown[] = [];
    const closed: number[] = [];
    const ledger = new SliceLedger(
      async (slice) => {
        if (slice.from.getUTCHours() === 0) throw new Error("ENOSPC");
        closed.push(slice.from.getUTCHours());
      },
      (error) => errors.push(error),
    );
    for (const h of [0, 1]) ledger.listed(ledger.start(range(h)));
    await ledger.idle();
    expect(errors).toHaveLength(1);
    expect(closed).toEqual([1]);
  });
});
