/**
 * When `watch` looks at the call log. Events decide WHEN to look, the call log decides WHAT is there: an event
 * only names recordings to wait for; every sweep lists the call log from the mark and fetches what is new.
 *
 * - An ended call with recordings → a look `firstLookMs` later (its call-log record appears a little after the
 *   call). Event-driven sweeps start at most once every `minGapMs`: events that arrive while a sweep is due or
 *   running join the next one, so a burst of calls costs one sweep, and a steady stream one sweep per gap.
 * - A recording an event named that a sweep did not list yet → looked for again after a backoff of its own
 *   (doubling from `retryMs` up to `retryMaxMs`), until it is listed or `giveUpMs` has passed (then the periodic
 *   sweep is its safety net).
 * - Every `periodMs` without a sweep → a full sweep (what no event announced: legs outside the account, events
 *   lost while the channel was down).
 * - A catch-up request (the push channel could not recover its subscription) → a sweep at once.
 * - A failed sweep → another after `failureBackoffMs` (doubling up to `periodMs`).
 *
 * Only one sweep runs at a time. What is remembered is bounded: the recordings still awaited (at most
 * `maxAwaited`, the oldest forgotten first), never a history of events.
 */

export type SweepReason = "start" | "event" | "retry" | "periodic" | "catch-up" | "after-failure";

/** How a sweep went, as far as scheduling cares. */
export type SweepVerdict = { ok: true } | { ok: false; error: unknown };

export interface SchedulerTimings {
  /** A full sweep at least this often. */
  periodMs: number;
  /** From an ended call's event to the first look at the call log. */
  firstLookMs: number;
  /** Event-driven sweeps start at least this far apart (each costs a call-log page: a Heavy request). */
  minGapMs: number;
  /** A recording still not listed: the next look after this, doubling up to `retryMaxMs`. */
  retryMs: number;
  retryMaxMs: number;
  /** A recording not listed this long after its event is left to the periodic sweep. */
  giveUpMs: number;
  /** After a failed sweep: the next one after this, doubling up to `periodMs`. */
  failureBackoffMs: number;
  /** Recordings awaited at most (a flood of events never grows memory beyond this). */
  maxAwaited: number;
}

/** The default full sweep (`--sweep`): a recording no event announced is saved within the quarter hour. */
export const DEFAULT_PERIOD_MS = 15 * 60_000;

export const DEFAULT_SCHEDULER_TIMINGS: Omit<SchedulerTimings, "periodMs"> = {
  firstLookMs: 5_000,
  minGapMs: 15_000,
  retryMs: 5_000,
  retryMaxMs: 60_000,
  giveUpMs: 10 * 60_000,
  failureBackoffMs: 30_000,
  maxAwaited: 10_000,
};

export interface SchedulerOptions {
  timings: SchedulerTimings;
  /** Run one sweep; the scheduler is told about listed recordings through `listed` meanwhile. */
  sweep(reason: SweepReason): Promise<SweepVerdict>;
  /** A recording an event named was not listed within `giveUpMs` (a log line: the periodic sweep takes over). */
  gaveUp?(recordingIds: string[]): void;
  now?: () => number;
}

/** A recording an event named: when it was named, how often a sweep missed it, when to look again. */
interface Awaited {
  since: number;
  misses: number;
  lookAt: number;
}

export class SweepScheduler {
  private readonly timings: SchedulerTimings;
  private readonly now: () => number;
  /** Recording id → what is known of it; insertion order is age order. */
  private readonly awaited = new Map<string, Awaited>();
  private catchUpDue = false;
  private failures = 0;
  private failedRetryAt: number | undefined;
  private nextPeriodicAt: number;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** When the loop means to wake next (an announcement due earlier wakes it). */
  private plannedAt = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;
  private sweeping = false;
  /** Sweeps started so far. */
  sweeps = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.timings = options.timings;
    this.now = options.now ?? Date.now;
    this.nextPeriodicAt = this.now();
  }

  /** An ended call named these recordings: look for them soon (joining a look already due). */
  announce(recordingIds: readonly string[]): void {
    if (recordingIds.length === 0) return;
    const now = this.now();
    const lookAt = now + this.timings.firstLookMs;
    for (const id of recordingIds) {
      if (this.awaited.has(id)) continue;
      this.awaited.set(id, { since: now, misses: 0, lookAt });
      if (this.awaited.size > this.timings.maxAwaited) {
        this.awaited.delete(this.awaited.keys().next().value as string);
      }
    }
    if (lookAt < this.plannedAt) this.poke();
  }

  /** A sweep listed this recording (saved, skipped or failed: the call log has it). */
  listed(recordingId: string): void {
    this.awaited.delete(recordingId);
  }

  /** Events may have been missed: sweep at once (after the sweep under way, if any). */
  catchUp(): void {
    this.catchUpDue = true;
    this.poke();
  }

  /** Recordings an event named that no sweep has listed yet. */
  get awaiting(): number {
    return this.awaited.size;
  }

  get busy(): boolean {
    return this.sweeping;
  }

  /** Sweep as the rules say until `signal` aborts (the sweep under way then ends as it is told by the same signal). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const { at, reason } = this.next();
      const wait = at - this.now();
      if (wait > 0) {
        this.plannedAt = at;
        await this.sleep(wait, signal);
        this.plannedAt = Number.POSITIVE_INFINITY;
        continue; // something may have changed: decide again
      }
      const startedAt = this.now();
      this.lastStartAt = startedAt;
      if (reason !== "after-failure") this.catchUpDue = false;
      this.failedRetryAt = undefined;
      this.sweeping = true;
      this.sweeps += 1;
      let verdict: SweepVerdict;
      try {
        verdict = await this.options.sweep(reason);
      } finally {
        this.sweeping = false;
      }
      if (signal.aborted) return;
      this.settle(verdict, startedAt);
    }
  }

  /** The next sweep: when, and why (the earliest of what is due). */
  private next(): { at: number; reason: SweepReason } {
    const now = this.now();
    if (this.sweeps === 0) return { at: now, reason: "start" };
    const candidates: { at: number; reason: SweepReason }[] = [
      { at: this.nextPeriodicAt, reason: "periodic" },
    ];
    if (this.failedRetryAt !== undefined)
      candidates.push({ at: this.failedRetryAt, reason: "after-failure" });
    else {
      if (this.catchUpDue) candidates.push({ at: now, reason: "catch-up" });
      const due = this.earliestLook();
      if (due) {
        const at = Math.max(due.lookAt, this.lastStartAt + this.timings.minGapMs);
        candidates.push({ at, reason: due.misses > 0 ? "retry" : "event" });
      }
    }
    return candidates.reduce((a, b) => (b.at < a.at ? b : a));
  }

  private earliestLook(): Awaited | undefined {
    let earliest: Awaited | undefined;
    for (const awaited of this.awaited.values()) {
      if (!earliest || awaited.lookAt < earliest.lookAt) earliest = awaited;
    }
    return earliest;
  }

  private settle(verdict: SweepVerdict, startedAt: number): void {
    const now = this.now();
    this.nextPeriodicAt = now + this.timings.periodMs;
    if (!verdict.ok) {
      // Nothing it was asked for is answered: the catch-up and the awaited recordings wait for the retry.
      const backoff = this.timings.failureBackoffMs * 2 ** Math.min(this.failures, 20);
      this.failures += 1;
      this.failedRetryAt = now + Math.min(this.timings.periodMs, backoff);
      return;
    }
    this.failures = 0;
    this.forgetStale(now);
    // Named before this sweep started but not listed by it: the record is late. Look again after a pause that
    // grows with each miss. Recordings named during the sweep keep their first look.
    for (const awaited of this.awaited.values()) {
      if (awaited.since >= startedAt) continue;
      const backoff = this.timings.retryMs * 2 ** Math.min(awaited.misses, 20);
      awaited.misses += 1;
      awaited.lookAt = now + Math.min(this.timings.retryMaxMs, backoff);
    }
  }
  private forgetStale(now: number): void {
    const stale: string[] = [];
    for (const [id, { since }] of this.awaited) {
      if (now - since < this.timings.giveUpMs) break; // age order: the rest are younger
      stale.push(id);
    }
    for (const id of stale) this.awaited.delete(id);
    if (stale.length > 0) this.options.gaveUp?.(stale);
  }

  private poke(): void {
    this.wake?.();
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }
}
