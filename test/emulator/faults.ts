/**
 * Which requests a fault hits. All given conditions must hold; an empty selector hits every request in scope.
 * Counters restart whenever faults are set (at start or by `control.setFaults`).
 */
export interface FaultSelector {
  /** Only the first N requests in scope since the faults were set. */
  firstRequests?: number | undefined;
  /** Only the first N content requests of each recording (1 = "first attempt of each recording"). */
  firstAttemptsPerRecording?: number | undefined;
  /** Only these recordings. */
  recordingIds?: string[];
  /** Hit with this probability, drawn from a PRNG seeded with `Faults.seed` (deterministic for a given order). */
  probability?: number | undefined;
}

export interface CutFault extends FaultSelector {
  /** Body bytes sent before the cut (default: half of the body; always fewer than declared). */
  afterBytes?: number;
}

export interface UnavailableFault extends FaultSelector {
  /** Retry-After seconds (default 1). */
  retryAfterSec?: number;
  /** Which requests may get the 503: recording content (default), API-origin requests, or both. */
  scope?: "content" | "api" | "all";
}

export interface Faults {
  /** Added to every request on both origins, before it is handled (ms). */
  latencyMs?: number;
  /** Pace every content body to this many bytes per second. */
  bandwidth?: number;
  /** Connection reset (TCP RST) in the middle of a content body. */
  reset?: CutFault;
  /** Full Content-Length declared, fewer bytes sent, then a clean close (FIN). */
  truncate?: CutFault;
  /** 503 with Retry-After instead of the response. */
  unavailable?: UnavailableFault;
  seed?: number;
}

export type FaultKind = "reset" | "truncate" | "unavailable";

export type ContentFault =
  | { kind: "reset" | "truncate"; afterBytes: number | undefined }
  | { kind: "unavailable"; retryAfterSec: number }
  | undefined;

/** Decides, per request, which fault (if any) applies. Priority: unavailable > reset > truncate. */
export class FaultPlan {
  private faults: Faults = {};
  private contentCount = 0;
  private apiCount = 0;
  private readonly attempts = new Map<string, number>();
  private rngState = 1;

  constructor(faults: Faults = {}) {
    this.set(faults);
  }

  get current(): Faults {
    return this.faults;
  }

  set(faults: Faults): void {
    this.faults = { ...faults };
    this.contentCount = 0;
    this.apiCount = 0;
    this.attempts.clear();
    this.rngState = (faults.seed ?? 1) >>> 0 || 1;
  }

  /** Called once per recording-content request. */
  forContent(recordingId: string): ContentFault {
    const request = this.contentCount++;
    const attempt = this.attempts.get(recordingId) ?? 0;
    this.attempts.set(recordingId, attempt + 1);
    const { unavailable, reset, truncate } = this.faults;
    if (
      unavailable &&
      (unavailable.scope ?? "content") !== "api" &&
      this.hits(unavailable, request, attempt, recordingId)
    ) {
      return { kind: "unavailable", retryAfterSec: unavailable.retryAfterSec ?? 1 };
    }
    if (reset && this.hits(reset, request, attempt, recordingId))
      return { kind: "reset", afterBytes: reset.afterBytes };
    if (truncate && this.hits(truncate, request, attempt, recordingId)) {
      return { kind: "truncate", afterBytes: truncate.afterBytes };
    }
    return undefined;
  }

  /** Called once per API-origin request (not the emulator's own endpoints); returns Retry-After or undefined. */
  forApi(): number | undefined {
    const request = this.apiCount++;
    const unavailable = this.faults.unavailable;
    if (!unavailable || (unavailable.scope ?? "content") === "content") return undefined;
    return this.hits(unavailable, request, 0, undefined) ? (unavailable.retryAfterSec ?? 1) : undefined;
  }

  private hits(
    selector: FaultSelector,
    request: number,
    attempt: number,
    recordingId: string | undefined,
  ): boolean {
    if (selector.firstRequests !== undefined && request >= selector.firstRequests) return false;
    if (selector.firstAttemptsPerRecording !== undefined && attempt >= selector.firstAttemptsPerRecording)
      return false;
    if (
      selector.recordingIds &&
      (recordingId === undefined || !selector.recordingIds.includes(recordingId))
    ) {
      return false;
    }
    if (selector.probability !== undefined && this.random() >= selector.probability) return false;
    return true;
  }

  private random(): number {
    // xorshift32
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4_294_967_296;
  }
}
