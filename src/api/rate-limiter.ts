import type { Logger } from "../log/logger.js";
import { parseRetryAfter } from "../retry.js";
import { announceWait, boundedWaitMs, LOGGED_WAIT_MS, timerMs } from "../waits.js";
import { type Route, routeOf } from "./routes.js";
import type { ApiHeaders } from "./types.js";

/**
 * One request budget per rate-limit group, shared by every caller of the process (listing and downloads).
 *
 * Model: a sliding log of our own requests. A request occupies a slot from the moment it is sent until one
 * window after its response headers arrived. The server counted it at some moment between sending and the
 * headers, so "never more than Limit requests whose slots overlap" holds for the server's clock too, whether
 * the server uses a fixed window (anchored anywhere) or a sliding one. It spends the whole budget (a slot is
 * lost only for one round trip per window) without a safety margin of seconds.
 *
 * The server's `X-Rate-Limit-Remaining` is the safety net for consumption we cannot see (another process of
 * the same user and app): when the newest response allows fewer requests than our log does, the difference
 * is booked as "foreign" slots for one window; a later response showing more room gives them back.
 *
 * Before the first response of a group teaches its budget, and again after a 429 penalty, only one request
 * of the group is in flight. During a penalty nothing is sent: every request would restart it.
 */

/** Time, injectable for tests. */
export interface Clock {
  now(): number;
  /** Run `fn` after `ms`; returns a cancel function. */
  schedule(fn: () => void, ms: number): () => void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  schedule: (fn, ms) => {
    const timer = setTimeout(fn, timerMs(ms));
    return () => clearTimeout(timer);
  },
};

export type WaitReason = "budget" | "penalty";

/** A request of `group` is held back for `waitMs` (the reporter shows "waiting Ns for the rate limit"). */
export interface RateLimitWait {
  group: string;
  waitMs: number;
  reason: WaitReason;
}

export interface GroupCounters {
  group: string;
  /** Requests sent in this group. */
  sent: number;
  /** 429 responses received (the target is zero). */
  rateLimited: number;
  /** Learned from the newest response; undefined until one arrives. */
  limit: number | undefined;
  windowSec: number | undefined;
  inFlight: number;
}

export interface RateLimitPermit {
  /** The group the request was charged to (may change when the response names another). */
  readonly group: string;
  /**
   * The response headers arrived (any status, 429 included): frees the slot and teaches the budget. For a 429
   * the body's `errorCode` says which limit was hit (see `RateLimiter`), when the caller read it.
   */
  settle(status: number, headers: ApiHeaders, errorCode?: string): void;
  /** No response (network error, abort): the server may have counted it, so the slot stays booked. */
  abandon(): void;
  /** The request was never sent (e.g. no access token): give the slot back. */
  release(): void;
}

export interface RateLimiterOptions {
  clock?: Clock;
  onWait?: (wait: RateLimitWait) => void;
  /** Every wait over 30 s becomes one line here, with its length and reason (see waits.ts). */
  log?: Logger;
  /** Waits shorter than this are not reported (pacing inside a window is routine). Default 1000 ms. */
  reportWaitsFromMs?: number;
  /** Penalty when a 429 has no usable Retry-After (spec: "in most cases" present; else wait). Default 60 s. */
  defaultPenaltyMs?: number;
  /**
   * Added to every slot's expiry, so a request never lands exactly on the server's window boundary (whether
   * the boundary is inclusive is not documented). A few ms; not a safety margin for latency (none needed).
   */
  boundaryMs?: number;
}

interface Ticket {
  /** Send order across the limiter (several requests may share a millisecond). */
  readonly seq: number;
  budget: GroupBudget;
  routeKey: string;
  done: boolean;
}

/** A booked slot after its response: frees at `at + window`. */
interface Slot {
  readonly seq: number;
  readonly at: number;
}

interface Waiter {
  readonly route: Route;
  readonly resolve: (permit: RateLimitPermit) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

type Delay = { kind: "now" } | { kind: "settle" } | { kind: "timer"; ms: number; reason: WaitReason };

/**
 * 429 codes (spec §9) are handled on purpose:
 *  - CMN-301/302 (user-level), CMN-303 and any other or missing code: the GROUP of the route pauses for
 *    Retry-After, else 60 s — also when the response carries no X-Rate-Limit-* headers (account-level and
 *    global limits send none: it still means "wait", never "unlimited");
 *  - CMN-310 (global limit): EVERY group pauses, the limit is not the group's;
 *  - CMN-304 (duplicate concurrent request): nothing pauses; the budget is not spent, the same request was
 *    merely in flight twice. The caller retries that request after a short wait (ApiClient).
 * A penalty is capped at 15 min (then the next request may be told to wait again).
 */
export class RateLimiter {
  private readonly clock: Clock;
  /** CMN-310: no group may send before this. */
  private globalPenaltyUntil = 0;
  private readonly budgets = new Map<string, GroupBudget>();
  /** Groups the server named for a route key, overriding the table in routes.ts. */
  private readonly learnedGroups = new Map<string, string>();
  private seq = 0;

  constructor(private readonly options: RateLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Wait until a request to `url` may be sent now; the caller must settle or abandon the permit. */
  acquire(url: URL, signal?: AbortSignal): Promise<RateLimitPermit> {
    const route = routeOf(url);
    const group = this.learnedGroups.get(route.key) ?? route.group;
    return this.budget(group).enqueue(route, signal);
  }

  counters(): GroupCounters[] {
    return [...this.budgets.values()].map((b) => b.counters());
  }

  /**
   * How long until a request of `group` could be sent, ignoring requests already waiting: 0 when a slot is
   * free (or the budget is still being learned), else until the next slot frees or the penalty ends. For
   * deciding whether a wait would outlast a deadline, not for pacing.
   */
  freeInMs(group: string): number {
    return this.budgets.get(group.toLowerCase())?.freeInMs() ?? 0;
  }

  /** @internal */
  budget(group: string): GroupBudget {
    const name = group.toLowerCase();
    let budget = this.budgets.get(name);
    if (!budget) {
      budget = new GroupBudget(name, this, this.clock, this.options);
      this.budgets.set(name, budget);
    }
    return budget;
  }

  /** @internal */
  globalPenalty(): number {
    return this.globalPenaltyUntil;
  }

  /** @internal CMN-310: pause every group (each pumps again when its timer fires). */
  startGlobalPenalty(until: number): void {
    this.globalPenaltyUntil = Math.max(this.globalPenaltyUntil, until);
    for (const budget of this.budgets.values()) budget.wake();
  }

  /** @internal */
  nextSeq(): number {
    return this.seq++;
  }

  /** @internal */
  learnGroup(routeKey: string, group: string): void {
    this.learnedGroups.set(routeKey, group.toLowerCase());
  }
}

class GroupBudget {
  private limit: number | undefined;
  private windowMs: number | undefined;
  private readonly inFlight = new Set<Ticket>();
  /** Our requests with a response (or abandoned), in the order they settled. */
  private slots: Slot[] = [];
  /** Requests of someone else that the server's Remaining revealed, booked for one window. */
  private foreign: number[] = [];
  private penaltyUntil = 0;
  /** Why the current penalty runs (for the log line of a long wait), and what the server asked for. */
  private penaltyReason = "";
  private penaltyRequestedMs: number | undefined;
  /**
   * learning: until a response teaches the budget, and again after a penalty: one request at a time.
   * metered: the budget is known. unmetered: the group's responses carry no X-Rate-Limit-* headers (a server
   * without user-level limits): nothing to pace until headers or a 429 appear.
   */
  private mode: "learning" | "metered" | "unmetered" = "learning";
  /** seq of the request whose Remaining we trusted last: older responses carry older news. */
  private newestHintSeq = -1;
  private readonly waiters: Waiter[] = [];
  private cancelTimer: (() => void) | undefined;
  private reportedUntil = 0;
  private sent = 0;
  private rateLimited = 0;

  constructor(
    readonly name: string,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly options: RateLimiterOptions,
  ) {}

  enqueue(route: Route, signal: AbortSignal | undefined): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        route,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason);
          this.pump();
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  counters(): GroupCounters {
    return {
      group: this.name,
      sent: this.sent,
      rateLimited: this.rateLimited,
      limit: this.limit,
      windowSec: this.windowMs === undefined ? undefined : this.windowMs / 1000,
      inFlight: this.inFlight.size,
    };
  }

  /** Re-plan now (a global penalty started). */
  wake(): void {
    if (this.waiters.length > 0) this.pump();
  }

  freeInMs(): number {
    const delay = this.nextSlot();
    return delay.kind === "timer" ? delay.ms : 0;
  }

  /** Grant as many waiters as the budget allows now; otherwise sleep until the next slot frees. */
  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    while (this.waiters.length > 0) {
      const delay = this.nextSlot();
      if (delay.kind === "now") {
        this.grant(this.waiters.shift() as Waiter);
        continue;
      }
      if (delay.kind === "timer") {
        this.cancelTimer = this.clock.schedule(() => this.pump(), delay.ms);
        this.report(delay.ms, delay.reason);
      }
      return; // "settle": a response in flight will pump again
    }
  }

  private nextSlot(): Delay {
    const now = this.clock.now();
    const penaltyUntil = Math.max(this.penaltyUntil, this.limiter.globalPenalty());
    if (now < penaltyUntil) return { kind: "timer", ms: penaltyUntil - now, reason: "penalty" };
    if (this.mode === "unmetered") return { kind: "now" };
    if (this.mode === "learning" || this.limit === undefined || this.windowMs === undefined) {
      return this.inFlight.size === 0 ? { kind: "now" } : { kind: "settle" };
    }
    this.prune(now);
    const life = this.slotLife();
    const booked = [...this.slots.map((s) => s.at), ...this.foreign].sort((a, b) => a - b);
    const excess = this.inFlight.size + booked.length - this.limit;
    if (excess < 0) return { kind: "now" };
    const freesAt = booked[excess];
    if (freesAt === undefined) return { kind: "settle" }; // every slot is held by a request in flight
    return { kind: "timer", ms: Math.max(1, freesAt + life - now), reason: "budget" };
  }

  private grant(waiter: Waiter): void {
    waiter.signal?.removeEventListener("abort", waiter.onAbort);
    const ticket: Ticket = {
      seq: this.limiter.nextSeq(),
      budget: this,
      routeKey: waiter.route.key,
      done: false,
    };
    this.inFlight.add(ticket);
    this.sent++;
    waiter.resolve({
      get group() {
        return ticket.budget.name;
      },
      settle: (status, headers, errorCode) => this.settle(ticket, status, headers, errorCode),
      abandon: () => this.abandon(ticket),
      release: () => this.release(ticket),
    });
  }

  private settle(ticket: Ticket, status: number, headers: ApiHeaders, errorCode?: string): void {
    if (ticket.done) return;
    const named = headers.get("x-rate-limit-group")?.trim().toLowerCase();
    if (named && named !== this.name) {
      // The server charges this route elsewhere: free our slot, book it there, remember for next time.
      this.limiter.learnGroup(ticket.routeKey, named);
      this.inFlight.delete(ticket);
      const target = this.limiter.budget(named);
      ticket.budget = target;
      target.inFlight.add(ticket);
      target.settle(ticket, status, headers, errorCode);
      this.pump();
      return;
    }
    ticket.done = true;
    this.inFlight.delete(ticket);
    const now = this.clock.now();
    this.slots.push({ seq: ticket.seq, at: now });
    const taught = this.learnBudget(headers);
    if (status === 429 && errorCode === "CMN-304") {
      // Not a spent budget: the caller retries this one request; the group keeps its pace.
    } else if (status === 429) this.startPenalty(now, headers, errorCode);
    else if (this.limit !== undefined && this.windowMs !== undefined) {
      this.mode = "metered";
      this.trustRemaining(ticket, headers, now);
    } else if (!taught && this.mode === "learning" && status >= 200 && status < 300) {
      // Only a success proves the absence of limits: gateways' 5xx and unknown routes carry no headers.
      this.mode = "unmetered";
    }
    this.prune(now);
    this.pump();
  }

  private abandon(ticket: Ticket): void {
    if (ticket.done) return;
    ticket.done = true;
    this.inFlight.delete(ticket);
    this.slots.push({ seq: ticket.seq, at: this.clock.now() });
    this.pump();
  }

  private release(ticket: Ticket): void {
    if (ticket.done) return;
    ticket.done = true;
    ticket.budget.inFlight.delete(ticket);
    this.pump();
  }

  /** Returns whether the response carried any budget header. */
  private learnBudget(headers: ApiHeaders): boolean {
    const limit = positiveNumber(headers.get("x-rate-limit-limit"));
    const windowSec = positiveNumber(headers.get("x-rate-limit-window"));
    if (limit !== undefined) this.limit = Math.max(1, Math.floor(limit));
    if (windowSec !== undefined) this.windowMs = windowSec * 1000;
    return limit !== undefined || windowSec !== undefined;
  }

  private slotLife(): number {
    return (this.windowMs ?? 0) + (this.options.boundaryMs ?? 5);
  }

  /** Forget slots that freed; without a known window keep only a bounded tail (memory stays constant). */
  private prune(now: number): void {
    if (this.windowMs === undefined) {
      if (this.slots.length > 256) this.slots = this.slots.slice(-128);
      return;
    }
    const life = this.slotLife();
    if (this.slots.length > 0 && (this.slots[0] as Slot).at + life <= now) {
      this.slots = this.slots.filter((s) => s.at + life > now);
    }
    if (this.foreign.length > 0 && (this.foreign[0] as number) + life <= now) {
      this.foreign = this.foreign.filter((at) => at + life > now);
    }
  }

  private startPenalty(now: number, headers: ApiHeaders, errorCode: string | undefined): void {
    this.rateLimited++;
    const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
    const requestedMs = retryAfter ?? this.options.defaultPenaltyMs ?? 60_000;
    const penaltyMs = boundedWaitMs(requestedMs);
    const code = errorCode ?? "429";
    const why = retryAfter === undefined ? "no Retry-After" : `Retry-After ${headers.get("retry-after")}`;
    const capped = penaltyMs < requestedMs ? `, capped at ${Math.round(penaltyMs / 60_000)} min` : "";
    this.penaltyRequestedMs = penaltyMs < requestedMs ? requestedMs : undefined;
    if (errorCode === "CMN-310") {
      this.penaltyReason = `global rate limit (${code}, ${why}${capped}): every group pauses`;
      this.limiter.startGlobalPenalty(now + penaltyMs);
    } else {
      this.penaltyReason = `rate limited in group ${this.name} (${code}, ${why}${capped})`;
      this.penaltyUntil = Math.max(this.penaltyUntil, now + penaltyMs);
    }
    // After the penalty the server's count is unknown: learn it again with a single request.
    this.mode = "learning";
    this.foreign = [];
  }

  /**
   * Compare what the server allows (its Remaining minus our requests sent after this one, which it may not
   * have counted yet) with what our log allows; book the shortfall as foreign use, or give back foreign
   * slots when the server shows more room.
   */
  private trustRemaining(ticket: Ticket, headers: ApiHeaders, now: number): void {
    const remaining = nonNegativeNumber(headers.get("x-rate-limit-remaining"));
    if (remaining === undefined || ticket.seq < this.newestHintSeq) return;
    this.newestHintSeq = ticket.seq;
    const life = this.slotLife();
    const sentLater =
      [...this.inFlight].filter((t) => t.seq > ticket.seq).length +
      this.slots.filter((s) => s.seq > ticket.seq).length;
    const serverAllows = remaining - sentLater;
    const liveSlots = this.slots.filter((s) => s.at + life > now).length;
    const liveForeign = this.foreign.filter((at) => at + life > now).length;
    const logAllows = (this.limit ?? 0) - this.inFlight.size - liveSlots - liveForeign;
    if (serverAllows < logAllows) {
      for (let i = serverAllows; i < logAllows; i++) this.foreign.push(now);
    } else if (serverAllows > logAllows && this.foreign.length > 0) {
      this.foreign.splice(0, Math.min(this.foreign.length, serverAllows - logAllows));
    }
  }

  private report(waitMs: number, reason: WaitReason): void {
    const until = this.clock.now() + waitMs;
    if (waitMs < (this.options.reportWaitsFromMs ?? 1000) || Math.abs(until - this.reportedUntil) < 500)
      return;
    this.reportedUntil = until;
    this.options.onWait?.({ group: this.name, waitMs, reason });
    if (this.options.log && waitMs > LOGGED_WAIT_MS) {
      const global = this.limiter.globalPenalty() > this.clock.now();
      const why =
        reason === "penalty"
          ? global && this.penaltyUntil <= this.clock.now()
            ? "global rate limit (CMN-310): every group pauses"
            : this.penaltyReason || `rate-limit penalty of group ${this.name}`
          : `rate-limit budget of group ${this.name} is spent (${this.limit ?? "?"} requests per ${(this.windowMs ?? 0) / 1000} s)`;
      const requested = reason === "penalty" ? this.penaltyRequestedMs : undefined;
      announceWait(this.options.log, waitMs, why, {
        group: this.name,
        ...(requested === undefined ? {} : { requestedWaitMs: requested }),
      });
    }
  }
}

function positiveNumber(value: string | null): number | undefined {
  const n = value === null ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function nonNegativeNumber(value: string | null): number | undefined {
  const n = value === null || value.trim() === "" ? Number.NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
