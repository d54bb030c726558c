import pLimit, { type LimitFunction } from "p-limit";

/**
 * At most `concurrency` tasks run and at most `2 × concurrency` wait: `add` resolves once there is room, so a
 * producer that awaits it (the listing) is held back instead of filling memory with a 100 000-record listing.
 */
export class BoundedQueue {
  private readonly limit: LimitFunction;
  private readonly queued = new Set<Promise<void>>();
  private readonly maxQueued: number;

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
    this.maxQueued = concurrency * 2;
  }

  /** Queue a task (its errors are its own to handle); resolves when the queue has room for the next. */
  async add(task: () => Promise<void>): Promise<void> {
    const queued: Promise<void> = this.limit(task).finally(() => this.queued.delete(queued));
    this.queued.add(queued);
    while (this.queued.size >= this.maxQueued) await Promise.race(this.queued);
  }

  /** Wait for every queued and running task. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.queued);
  }
}
