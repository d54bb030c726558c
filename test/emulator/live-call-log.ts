import type { Direction } from "./dataset.js";

/**
 * A call made while the emulator runs (`control.startCalls`). Its times are fixed when it is planned, so what
 * the platform shows at any moment follows from the clock alone: the telephony events are timers, the call-log
 * record and the recording simply "appear" once `appearsAtMs` has passed.
 */
export interface LiveCall {
  /** Dataset index: -1 for the first live call, -2 for the next… (newer calls further below zero). */
  index: number;
  /** Setup (the call-log `startTime`). */
  startMs: number;
  answeredMs: number;
  /** Disconnected. */
  endMs: number;
  /** The call-log record and the recording exist from here on: a few seconds after the call ended. */
  appearsAtMs: number;
  withRecording: boolean;
  direction: Direction;
  /** Index of the company extension the call belongs to (as `CallTraits.extension`). */
  extension: number;
  /** A leg that produces no telephony events (a party outside the account, some transfers): call log only. */
  silent: boolean;
  /** Deliver Disconnected before Answered (events may arrive out of order; `sequence` tells). */
  outOfOrder: boolean;
  /** Recording size, when the plan fixed one (else the dataset's `recordingBytes`). */
  recordingBytes: number | undefined;
}

/**
 * The live calls in the order they were planned. Start times never decrease, so the dataset's rule "start
 * times never increase with the index" holds across the negative indices too (a date range is still a binary
 * search).
 */
export class LiveCallLog {
  private readonly calls: LiveCall[] = [];

  get length(): number {
    return this.calls.length;
  }

  /** The live call with dataset index `index` (< 0). */
  at(index: number): LiveCall | undefined {
    return index < 0 ? this.calls[-index - 1] : undefined;
  }

  /** Plan a call; `startMs` is raised so that start times never go backwards. */
  add(call: Omit<LiveCall, "index">): LiveCall {
    const previous = this.calls[this.calls.length - 1];
    const shift = previous && call.startMs < previous.startMs ? previous.startMs - call.startMs : 0;
    const planned: LiveCall = {
      ...call,
      index: -(this.calls.length + 1),
      startMs: call.startMs + shift,
      answeredMs: call.answeredMs + shift,
      endMs: call.endMs + shift,
      appearsAtMs: call.appearsAtMs + shift,
    };
    this.calls.push(planned);
    return planned;
  }

  /** How many live records exist at `now` (only grows: a cache key for "which live records are listed"). */
  appearedCount(now: number): number {
    let count = 0;
    for (const call of this.calls) if (call.appearsAtMs <= now) count++;
    return count;
  }

  all(): readonly LiveCall[] {
    return this.calls;
  }
}
