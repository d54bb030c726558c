import { describe, expect, it } from "vitest";
import { RateLimiter, type RateLimitPermit, type RateLimitWait } from "../../../src/api/rate-limiter.js";
import { Logger } from "../../../src/log/logger.js";
import { RateLimiter as EmulatorBuckets } from "../../emulator/rate-limit.js";
import { ManualClock, settle } from "./fake-clock.js";

const CALL_LOG = new URL("https://platform.ringcentral.com/restapi/v1.0/account/~/call-log");
const CONTENT = new URL("https://media.ringcentral.com/restapi/v1.0/account/1/recording/2/content");
const EXTENSION = new URL("https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~");

function rateHeaders(group: string, limit: number, remaining: number, windowSec: number): Headers {
  return new Headers({
    "X-Rate-Limit-Group": group,
    "X-Rate-Limit-Limit": String(limit),
    "X-Rate-Limit-Remaining": String(remaining),
    "X-Rate-Limit-Window": String(windowSec),
  });
}

/** Start `n` acquisitions and report which have been granted so far. */
function acquireMany(limiter: RateLimiter, url: URL, n: number) {
  const granted: RateLimitPermit[] = [];
  const all = Array.from({ length: n }, () => limiter.acquire(url).then((p) => granted.push(p) && p));
  return { granted, all };
}

/** A server's decision for a request arriving at `now`. */
type ServerModel = (now: number) => { status: number; headers: Headers };

/** The emulator's own bucket logic: a fixed window opened by the first request, restarting penalty. */
function fixedWindowServer(limit: number, windowSec: number): ServerModel {
  const buckets = new EmulatorBuckets({
    windowSec,
    penaltySec: 60,
    limits: { auth: 5, light: 50, medium: 40, heavy: limit },
  });
  return (now) => {
    const decision = buckets.take("user", "heavy", now);
    const headers = new Headers(decision.headers as Record<string, string>);
    return { status: decision.allowed ? 200 : 429, headers };
  };
}

/** A sliding-window server: at most `limit` requests in any `windowSec`. */
function slidingWindowServer(limit: number, windowSec: number): ServerModel {
  const seen: number[] = [];
  return (now) => {
    while (seen.length > 0 && (seen[0] as number) <= now - windowSec * 1000) seen.shift();
    if (seen.length >= limit) {
      return {
        status: 429,
        headers: new Headers({ "Retry-After": "60", ...headerObj(limit, 0, windowSec) }),
      };
    }
    seen.push(now);
    return { status: 200, headers: new Headers(headerObj(limit, limit - seen.length, windowSec)) };
  };
}

function headerObj(limit: number, remaining: number, windowSec: number): Record<string, string> {
  return {
    "X-Rate-Limit-Group": "heavy",
    "X-Rate-Limit-Limit": String(limit),
    "X-Rate-Limit-Remaining": String(remaining),
    "X-Rate-Limit-Window": String(windowSec),
  };
}

/** `workers` loops share `requests` requests; each takes `latencyMs` (server sees it half-way). */
async function simulate(opts: {
  server: ServerModel;
  requests: number;
  workers: number;
  latencyMs: number;
  bodyMs?: number;
  /** Random one-way delays in [0, latencyMs): requests overtake each other on the way. */
  jitter?: boolean;
}) {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const oneWay = () => (opts.jitter ? random() * opts.latencyMs : opts.latencyMs / 2);
  const clock = new ManualClock();
  const limiter = new RateLimiter({ clock });
  let left = opts.requests;
  let rejected = 0;
  let lastDone = 0;
  const worker = async () => {
    while (left > 0) {
      left--;
      const permit = await limiter.acquire(CONTENT);
      await clock.sleep(oneWay());
      const answer = opts.server(clock.now());
      await clock.sleep(oneWay());
      permit.settle(answer.status, answer.headers);
      if (answer.status === 429) {
        rejected++;
        left++;
      }
      await clock.sleep(opts.bodyMs ?? 0);
      lastDone = clock.now();
    }
  };
  await clock.runUntil(Promise.all(Array.from({ length: opts.workers }, worker)));
  return { rejected, elapsedMs: lastDone, counters: limiter.counters() };
}

describe("RateLimiter pacing", () => {
  it("sends one request at a time until a response teaches the budget", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const { granted } = acquireMany(limiter, CALL_LOG, 4);
    await settle();
    expect(granted).toHaveLength(1);
    await clock.advance(10_000);
    expect(granted).toHaveLength(1); // time alone teaches nothing
    granted[0]?.settle(200, rateHeaders("heavy", 3, 2, 60));
    await settle();
    expect(granted).toHaveLength(3); // limit 3: the learned budget allows two more
  });

  it("counts requests in flight: workers never share the last slot", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const first = await limiter.acquire(CALL_LOG);
    first.settle(200, rateHeaders("heavy", 3, 2, 60));
    const { granted } = acquireMany(limiter, CALL_LOG, 5);
    await settle();
    expect(granted).toHaveLength(2);
    await clock.advance(59_000);
    expect(granted).toHaveLength(2);
    // The server says 1 left after the first of them; the second is still in flight and will take it.
    granted[0]?.settle(200, rateHeaders("heavy", 3, 1, 60));
    await settle();
    expect(granted).toHaveLength(2);
    await clock.advance(1_100); // the first request's slot frees one window after its response
    expect(granted).toHaveLength(3);
  });

  it.each([
    ["fixed window opened by traffic (the emulator)", fixedWindowServer],
    ["sliding window", slidingWindowServer],
  ])("uses the whole budget without a 429 against a %s server", async (_name, model) => {
    // 10 per 6 s, 4 workers, 50 requests: ideally 5 windows → the last batch starts at 4 × 6 s.
    const result = await simulate({ server: model(10, 6), requests: 50, workers: 4, latencyMs: 20 });
    expect(result.rejected).toBe(0);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(24_000);
    expect(result.elapsedMs).toBeLessThan(24_000 * 1.05);
  });

  it.each([
    ["fixed window opened by traffic (the emulator)", fixedWindowServer],
    ["sliding window", slidingWindowServer],
  ])(
    "stays near the full rate without a 429 when requests overtake each other (%s)",
    async (_name, model) => {
      const result = await simulate({
        server: model(10, 6),
        requests: 50,
        workers: 4,
        latencyMs: 200,
        jitter: true,
      });
      expect(result.rejected).toBe(0);
      // Each window may cost up to one round trip (≤ 400 ms here): the price of never guessing when the server
      // counted a request. Against a 60 s window and a real round trip that is well under 1 %.
      expect(result.elapsedMs).toBeLessThan(24_000 + 5 * 400);
    },
  );

  it("stays at the full rate when transfers take longer than a slot", async () => {
    const result = await simulate({
      server: fixedWindowServer(5, 2),
      requests: 40,
      workers: 4,
      latencyMs: 30,
      bodyMs: 700,
    });
    expect(result.rejected).toBe(0);
    expect(result.elapsedMs).toBeLessThan(7 * 2_000 * 1.1 + 700);
  });

  it("learns a changed limit from the newest responses", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const first = await limiter.acquire(CALL_LOG);
    first.settle(200, rateHeaders("heavy", 5, 4, 10));
    const a = acquireMany(limiter, CALL_LOG, 4);
    await settle();
    expect(a.granted).toHaveLength(4);
    // Meanwhile the server lowered the limit to 2.
    for (const p of a.granted) p.settle(200, rateHeaders("heavy", 2, 0, 10));
    await clock.advance(10_100); // every slot freed
    const b = acquireMany(limiter, CALL_LOG, 4);
    await settle();
    expect(b.granted).toHaveLength(2); // not 4 as the old limit would allow
  });

  it("books consumption it did not send (another process) when Remaining is lower than its own count", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const first = await limiter.acquire(CALL_LOG);
    // Our first request, yet only 1 left of 10: someone else spent 8 in this window.
    first.settle(200, rateHeaders("heavy", 10, 1, 10));
    const { granted } = acquireMany(limiter, CALL_LOG, 3);
    await settle();
    expect(granted).toHaveLength(1);
    granted[0]?.settle(200, rateHeaders("heavy", 10, 0, 10));
    await clock.advance(9_000);
    expect(granted).toHaveLength(1);
    await clock.advance(1_100);
    expect(granted).toHaveLength(3);
  });
});

describe("RateLimiter penalties and groups", () => {
  it("on 429 stops the whole group for Retry-After and reports the wait", async () => {
    const clock = new ManualClock();
    const waits: RateLimitWait[] = [];
    const limiter = new RateLimiter({ clock, onWait: (w) => waits.push(w) });
    const first = await limiter.acquire(CALL_LOG);
    first.settle(200, rateHeaders("heavy", 10, 9, 60));
    const second = await limiter.acquire(CONTENT);
    const limited = rateHeaders("heavy", 10, 0, 60);
    limited.set("Retry-After", "30");
    second.settle(429, limited);
    // Both routes are Heavy: neither a call-log page nor a recording may go during the penalty.
    const pages = acquireMany(limiter, CALL_LOG, 2);
    const media = acquireMany(limiter, CONTENT, 2);
    await clock.advance(29_900);
    expect(pages.granted.length + media.granted.length).toBe(0);
    expect(waits).toEqual([{ group: "heavy", waitMs: 30_000, reason: "penalty" }]);
    await clock.advance(200);
    // After the penalty: one request re-learns the budget.
    expect(pages.granted.length + media.granted.length).toBe(1);
    expect(limiter.counters()).toEqual([
      expect.objectContaining({ group: "heavy", rateLimited: 1, sent: 3 }),
    ]);
  });

  it("waits 60 s when a 429 has no Retry-After", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CALL_LOG)).settle(429, new Headers());
    const { granted } = acquireMany(limiter, CALL_LOG, 1);
    await clock.advance(59_000);
    expect(granted).toHaveLength(0);
    await clock.advance(1_000);
    expect(granted).toHaveLength(1);
  });

  it("a 429 in a group without X-Rate-Limit-* headers (account or global limit) still pauses it", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CONTENT)).settle(200, new Headers()); // unmetered: nothing to pace
    (await limiter.acquire(CONTENT)).settle(429, new Headers(), "CMN-301");
    const { granted } = acquireMany(limiter, CONTENT, 2);
    await clock.advance(59_000);
    expect(granted).toHaveLength(0);
    await clock.advance(1_000);
    expect(granted).toHaveLength(1); // and learns again, one at a time
  });

  it("CMN-304 (duplicate concurrent request) pauses nothing; CMN-310 (global) pauses every group", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CONTENT)).settle(200, new Headers());
    (await limiter.acquire(CONTENT)).settle(429, new Headers({ "Retry-After": "30" }), "CMN-304");
    const free = acquireMany(limiter, CONTENT, 2);
    await settle();
    expect(free.granted).toHaveLength(2);

    (await limiter.acquire(EXTENSION)).settle(429, new Headers({ "Retry-After": "20" }), "CMN-310");
    const heavy = acquireMany(limiter, CONTENT, 1);
    const light = acquireMany(limiter, EXTENSION, 1);
    await clock.advance(19_000);
    expect(heavy.granted.length + light.granted.length).toBe(0);
    await clock.advance(1_100);
    expect(heavy.granted).toHaveLength(1);
    expect(light.granted).toHaveLength(1);
  });

  it("caps a huge Retry-After at 15 min and logs the wait once with its length and reason", async () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const log = new Logger("normal", { write: (text: string) => lines.push(text) }, "json");
    const limiter = new RateLimiter({ clock, log });
    (await limiter.acquire(CALL_LOG)).settle(429, new Headers({ "Retry-After": "100000" }), "CMN-301");
    const { granted } = acquireMany(limiter, CALL_LOG, 1);
    await clock.advance(15 * 60_000 - 1);
    expect(granted).toHaveLength(0);
    await clock.advance(1);
    expect(granted).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "info",
      event: "wait",
      waitMs: 900_000,
      requestedWaitMs: 100_000_000,
      group: "heavy",
      msg: expect.stringContaining("capped at 15 min"),
    });
  });

  it("keeps groups apart and compares their names case-insensitively", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CALL_LOG)).settle(200, rateHeaders("Heavy", 1, 0, 60));
    // Heavy is spent; Light is another budget.
    const light = await limiter.acquire(EXTENSION);
    light.settle(200, rateHeaders("LIGHT", 50, 49, 60));
    const heavy = acquireMany(limiter, CONTENT, 1);
    await clock.advance(30_000);
    expect(heavy.granted).toHaveLength(0);
    expect(limiter.counters().map((c) => c.group)).toEqual(["heavy", "light"]);
  });

  it("learns the group of a route from X-Rate-Limit-Group", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CALL_LOG)).settle(200, rateHeaders("heavy", 2, 1, 60));
    const unknown = new URL("https://platform.ringcentral.com/restapi/v1.0/glip/whatever");
    const guess = await limiter.acquire(unknown);
    expect(guess.group).toBe("medium");
    guess.settle(200, rateHeaders("heavy", 2, 0, 60));
    expect(guess.group).toBe("heavy");
    // Heavy is now full (two requests), and the route is known to be Heavy: the next one waits.
    const next = acquireMany(limiter, unknown, 1);
    await clock.advance(59_000);
    expect(next.granted).toHaveLength(0);
    await clock.advance(1_100);
    expect(next.granted.map((p) => p.group)).toEqual(["heavy"]);
  });

  it("stops pacing a group whose responses carry no rate-limit headers", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CONTENT)).settle(200, new Headers());
    const { granted } = acquireMany(limiter, CONTENT, 6);
    await settle();
    expect(granted).toHaveLength(6);
  });

  it("keeps learning after a header-less error (a gateway's 503 proves nothing about limits)", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CONTENT)).settle(503, new Headers({ "Retry-After": "1" }));
    const { granted } = acquireMany(limiter, CONTENT, 3);
    await settle();
    expect(granted).toHaveLength(1);
  });

  it("gives a slot back when the request was never sent", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(CALL_LOG)).settle(200, rateHeaders("heavy", 1, 0, 60));
    await clock.advance(60_100);
    const unsent = await limiter.acquire(CALL_LOG);
    const next = acquireMany(limiter, CALL_LOG, 1);
    await settle();
    expect(next.granted).toHaveLength(0);
    unsent.release();
    await settle();
    expect(next.granted).toHaveLength(1);
  });

  it("gives up waiting when the caller aborts", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    await limiter.acquire(CALL_LOG); // in flight, unsettled: the next one waits
    const controller = new AbortController();
    const waiting = limiter.acquire(CALL_LOG, controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });
});
