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

/** A 429 WITHOUT X-Rate-Limit-* headers, as account-level and global limits send it (spec §9). */
export interface RateLimitedFault extends FaultSelector {
  /** Retry-After: seconds (a number) or any raw header value (e.g. an HTTP date); omitted = no header. */
  retryAfter?: number | string;
  /** The body's code: CMN-301 (default), CMN-304 duplicate concurrent request, CMN-310 global limit, ... */
  errorCode?: string;
  /** Which requests: recording content (default), API-origin requests (not OAuth), or both. */
  scope?: "content" | "api" | "all";
}

export interface Faults {
  /**
   * The token and revoke endpoints answer this redirect (307 unless `status` says otherwise) to every
   * request, before reading it: a client must not follow it.
   */
  tokenRedirect?: { location: string; status?: 301 | 302 | 303 | 307 | 308 };
  /** The token and revoke endpoints accept the connection and never answer. */
  silentTokenEndpoint?: boolean;
  /** The token and revoke endpoints answer this server error (500 unless `status` says otherwise) to every request. */
  tokenEndpointError?: { status?: number };
  /** The media origin answers 401 OAU-213 to every token (after rate limiting): no renewal can help. */
  rejectContentTokens?: boolean;
  /** Content requests answer 307 to the CDN origin (presigned URL, no token needed there). */
  redirectContent?: FaultSelector;
  rateLimited?: RateLimitedFault;
  /** Added to every request on both origins, before it is handled (ms). */
  latencyMs?: number;
  /**
   * The platform's clock runs this far ahead (negative: behind) of the machine's: every response's `Date`
   * header on both origins says so (for a client that checks its clock against the server's).
   */
  clockSkewMs?: number;
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

export type FaultKind = "reset" | "truncate" | "unavailable" | "rateLimited" | "redirect";

export type ContentFault =
  | { kind: "reset" | "truncate"; afterBytes: number | undefined }
  | { kind: "unavailable"; retryAfterSec: number }
  | undefined;

/** Decides, per request, which fault (if any) applies. Priority: unavailable > reset > truncate. */
export class FaultPlan {
  private faults: Faults = {};
  private contentCount = 0;
  private apiCount = 0;
  private limitedCount = 0;
  private redirectCount = 0;
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
    this.limitedCount = 0;
    this.redirectCount = 0;
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

  /** A header-less 429 for this request (content: with its recording id), or undefined. */
  rateLimitFor(scope: "content" | "api", recordingId?: string): RateLimitedFault | undefined {
    const fault = this.faults.rateLimited;
    if (!fault || ((fault.scope ?? "content") !== scope && fault.scope !== "all")) return undefined;
    return this.hits(fault, this.limitedCount++, 0, recordingId) ? fault : undefined;
  }

  /** Whether this content request is redirected to the CDN origin. */
  redirectsContent(recordingId: string): boolean {
    const fault = this.faults.redirectContent;
    return fault !== undefined && this.hits(fault, this.redirectCount++, 0, recordingId);
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
