import { afterEach, describe, expect, it } from "vitest";
import {
  type SchedulerTimings,
  type SweepReason,
  SweepScheduler,
  type SweepVerdict,
} from "../../../src/watch/scheduler.js";

const TIMINGS: SchedulerTimings = {
  periodMs: 60_000,
  firstLookMs: 100,
  minGapMs: 100,
  retryMs: 100,
  retryMaxMs: 400,
  giveUpMs: 5_000,
  failureBackoffMs: 100,
  maxAwaited: 50,
};

/** A scheduler whose sweeps "list" what the test says the call log holds, and record why they ran. */
function harness(timings: Partial<SchedulerTimings> = {}) {
  const reasons: SweepReason[] = [];
  const callLog = new Set<string>();
  let verdict: SweepVerdict = { ok: true };
  let sweepMs = 20;
  const gaveUp: string[][] = [];
  const scheduler: SweepScheduler = new SweepScheduler({
    timings: { ...TIMINGS, ...timings },
    sweep: async (reason) => {
      reasons.push(reason);
      await new Promise((resolve) => setTimeout(resolve, sweepMs));
      if (verdict.ok) for (const id of callLog) scheduler.listed(id);
      return verdict;
    },
    gaveUp: (ids) => gaveUp.push(ids),
  });
  const stop = new AbortController();
  const running = scheduler.run(stop.signal);
  return {
    scheduler,
    reasons,
    callLog,
    gaveUp,
    fail: (error: unknown) => {
      verdict = { ok: false, error };
    },
    heal: () => {
      verdict = { ok: true };
    },
    slowSweeps: (ms: number) => {
      sweepMs = ms;
    },
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
}

describe("SweepScheduler", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });
  function started(timings: Partial<SchedulerTimings> = {}) {
    const h = harness(timings);
    stops.push(h.stop);
    return h;
  }

  it("sweeps once at start, then only when told or when the period has passed", async () => {
    const h = started({ periodMs: 300 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    expect(h.reasons).toEqual(["start"]);
    await until(() => h.reasons.length === 2);
    expect(h.reasons[1]).toBe("periodic");
  });

  it("a burst of events costs one sweep when their records are there by the first look", async () => {
    const h = started();
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    for (let i = 0; i < 30; i++) {
      h.callLog.add(`r${i}`);
      h.scheduler.announce([`r${i}`]);
    }
    await until(() => h.reasons.length === 2);
    await sleep(500);
    expect(h.reasons).toEqual(["start", "event"]);
    expect(h.scheduler.awaiting).toBe(0);
  });

  it("events that arrive during a sweep join one more sweep, not one each", async () => {
    const h = started();
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.slowSweeps(300);
    h.scheduler.announce(["a"]);
    await until(() => h.reasons.length === 2); // the event sweep is running
    for (const id of ["b", "c", "d", "e"]) {
      h.callLog.add(id);
      h.scheduler.announce([id]);
      await sleep(20);
    }
    h.callLog.add("a");
    await until(() => h.scheduler.awaiting === 0, 5_000);
    await sleep(600);
    expect(h.reasons.length).toBeLessThanOrEqual(4);
    expect(h.reasons.slice(1).every((r) => r === "event" || r === "retry")).toBe(true);
  });

  it("a steady stream of calls costs one sweep per gap, and a late record does not slow the others", async () => {
    const h = started({ minGapMs: 300, retryMs: 1_000, retryMaxMs: 5_000 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.scheduler.announce(["late"]); // its record never comes during this test
    const started_ = Date.now();
    for (let i = 0; i < 60; i++) {
      h.callLog.add(`s${i}`);
      h.scheduler.announce([`s${i}`]);
      await sleep(20);
    }
    await until(() => h.scheduler.awaiting === 1, 5_000);
    const elapsed = Date.now() - started_;
    expect(h.reasons.length - 1).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 1);
  });

  it("looks again with a growing pause until the announced recording is listed", async () => {
    const h = started({ retryMs: 50, retryMaxMs: 200 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.scheduler.announce(["late"]);
    await until(() => h.reasons.length >= 4); // event, retry, retry (not listed yet)
    h.callLog.add("late");
    await until(() => h.scheduler.awaiting === 0);
    const count = h.reasons.length;
    await sleep(500);
    expect(h.reasons.length).toBe(count); // nothing more to wait for
    expect(h.reasons.slice(2)).toContain("retry");
  });

  it("gives up on a recording the call log never lists (the periodic sweep takes over), bounded", async () => {
    const h = started({ retryMs: 50, retryMaxMs: 50, giveUpMs: 400 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.scheduler.announce(["never"]);
    await until(() => h.gaveUp.length === 1, 5_000);
    expect(h.gaveUp[0]).toEqual(["never"]);
    const count = h.reasons.length;
    await sleep(300);
    expect(h.reasons.length).toBe(count);
  });

  it("a catch-up request sweeps at once", async () => {
    const h = started();
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.scheduler.catchUp();
    await until(() => h.reasons.length === 2);
    expect(h.reasons[1]).toBe("catch-up");
  });

  it("after a failed sweep it tries again with backoff, keeping what it was asked for", async () => {
    const h = started({ failureBackoffMs: 100 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    h.fail(new Error("call log down"));
    h.scheduler.announce(["x"]);
    await until(() => h.reasons.length === 3);
    expect(h.reasons.slice(1)).toEqual(["event", "after-failure"]);
    h.heal();
    h.callLog.add("x");
    await until(() => h.scheduler.awaiting === 0, 5_000);
  });

  it("remembers a bounded number of awaited recordings however many events arrive", async () => {
    const h = started({ maxAwaited: 50, firstLookMs: 60_000 });
    await until(() => h.reasons.length === 1 && !h.scheduler.busy);
    for (let i = 0; i < 5_000; i++) h.scheduler.announce([`id${i}`]);
    expect(h.scheduler.awaiting).toBe(50);
  });
});
