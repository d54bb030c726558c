import type { Clock } from "../../../src/api/rate-limiter.js";

/** A clock that only moves when the test says so; timers fire in time order. */
export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(resolve, ms));
  }

  /** Fire the earliest timer (moving time to it); false when none is pending. */
  fireNext(): boolean {
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift();
    if (!next) return false;
    this.time = Math.max(this.time, next.at);
    next.fn();
    return true;
  }

  /** Move time forward by `ms`, firing every timer due on the way (with microtasks settled between). */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.fireNext();
    }
    this.time = until;
    await settle();
  }

  /** Run timers until `done` resolves; throws if nothing is left to fire (a deadlock). */
  async runUntil<T>(done: Promise<T>): Promise<T> {
    let finished = false;
    const result = done.finally(() => {
      finished = true;
    });
    for (;;) {
      await settle();
      if (finished) return result;
      if (!this.fireNext()) throw new Error(`deadlock at t=${this.time}`);
    }
  }
}

/** Let every pending promise continuation run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
