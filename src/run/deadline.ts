import { InterruptedError } from "../errors.js";
import { MAX_TIMER_MS, timerMs } from "../waits.js";

/**
 * Why work stops at `--max-duration`: a clean stop like Ctrl-C (partials are kept, nothing counts as failed),
 * which the run reports as "stopped" with exit 6 instead of 130.
 */
export class StoppedAtDeadline extends InterruptedError {
  constructor() {
    super("stopped at --max-duration");
  }
}

/**
 * After the hard stop, how long the run may take to record what it did (manifest lines, the mark, the index, the
 * lock's release) before whatever still waits on a peer is cut off: seconds on a store that answers.
 */
export const WIND_DOWN_MS = 30_000;

/** How long transfers already on the wire may still run after the deadline before they stop as partials. */
export function graceMs(maxDurationMs: number): number {
  return Math.min(5 * 60_000, Math.max(15_000, Math.round(maxDurationMs / 20)));
}

/**
 * The time box of a run (`--max-duration D`). At D, `signal` aborts: no new page or transfer starts, and
 * requests still waiting for the rate limiter are withdrawn. Transfers already sending carry on until
 * `hardSignal` aborts a grace period later (then they stop as resumable partials). `endNow()` brings D
 * forward, e.g. when every profile's rate-limit wait would outlast it.
 */
export class Deadline {
  readonly at: number;
  private readonly soft = new AbortController();
  private readonly hard = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];

  private readonly graceMs: number;

  constructor(
    readonly maxDurationMs: number,
    options: { now?: number; graceMs?: number } = {},
  ) {
    this.at = (options.now ?? Date.now()) + maxDurationMs;
    this.graceMs = options.graceMs ?? graceMs(maxDurationMs);
    this.later(() => this.endNow(), maxDurationMs);
  }

  get signal(): AbortSignal {
    return this.soft.signal;
  }

  get hardSignal(): AbortSignal {
    return this.hard.signal;
  }

  get reached(): boolean {
    return this.soft.signal.aborted;
  }

  /** Stop starting work now; transfers already sending get the grace period from now. */
  endNow(): void {
    if (this.reached) return;
    this.soft.abort(new StoppedAtDeadline());
    this.later(() => this.hard.abort(new StoppedAtDeadline()), this.graceMs);
  }

  /** Would a wait of `ms` from now end after the deadline? */
  outlasts(ms: number, now = Date.now()): boolean {
    return now + ms > this.at;
  }

  /**
   * `fn` WIND_DOWN_MS after the hard stop: the run's last moment. What it stops (the destination's requests) then
   * cannot outlast the time box, however long a peer that stopped answering would keep them waiting.
   */
  windDown(fn: () => void): void {
    const arm = () => this.later(fn, WIND_DOWN_MS);
    if (this.hard.signal.aborted) arm();
    else this.hard.signal.addEventListener("abort", arm, { once: true });
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** `fn` after `ms`, also past setTimeout's range (~24.8 days, which it would fire at once): re-armed. */
  private later(fn: () => void, ms: number): void {
    const at = Date.now() + ms;
    const arm = () => {
      const left = at - Date.now();
      const timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, timerMs(left));
      timer.unref();
      this.timers.push(timer);
    };
    arm();
  }
}
