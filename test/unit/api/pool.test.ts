import { describe, expect, it } from "vitest";
import type { Lane } from "../../../src/api/lanes.js";
import { LanePool, type PoolMemberIdentity, poolProblem } from "../../../src/api/pool.js";
import { RateLimiter } from "../../../src/api/rate-limiter.js";
import type { ApiHeaders } from "../../../src/api/types.js";
import { LoginRequiredError } from "../../../src/errors.js";
import { ManualClock } from "./fake-clock.js";

const CONTENT = new URL("https://media.example/restapi/v1.0/account/1/recording/7/content");

function headers(values: Record<string, string>): ApiHeaders {
  return { get: (name) => values[name.toLowerCase()] ?? null };
}

/** A budget of `limit` Heavy requests per 60 s, taught by one response (which used one of them). */
const budget = (limit: number, remaining: number) =>
  headers({
    "x-rate-limit-group": "heavy",
    "x-rate-limit-limit": String(limit),
    "x-rate-limit-remaining": String(remaining),
    "x-rate-limit-window": "60",
  });

function lane(name: string, clock: ManualClock): Lane {
  return {
    name,
    tokens: { server: "https://platform.example", getAccessToken: async () => name, recover: async () => {} },
    limiter: new RateLimiter({ clock }),
  };
}

describe("LanePool", () => {
  it("sends each download through whichever profile has a Heavy slot free first", async () => {
    const clock = new ManualClock();
    const [a, b] = [lane("a", clock), lane("b", clock)];
    const pool = new LanePool([a, b]);
    const downloads = pool.downloader();
    // a spends its only slot of the window; b is still free.
    const first = await downloads.acquire(CONTENT, undefined);
    expect(first.lane.name).toBe("a");
    first.permit.settle(200, budget(1, 0));
    const second = await downloads.acquire(CONTENT, undefined);
    expect(second.lane.name).toBe("b");
    second.permit.settle(200, budget(1, 0));
    expect(pool.earliestFreeInMs("heavy")).toBeGreaterThan(50_000);
    expect(pool.budgetPerSecond("heavy")).toBeCloseTo(2 / 60);
    // Both used up: the next request waits for whichever frees first, and nothing is sent twice.
    const third = downloads.acquire(CONTENT, undefined);
    await clock.advance(61_000);
    const granted = await third;
    expect(["a", "b"]).toContain(granted.lane.name);
    // A slot the other profile granted in the same instant was handed back: one request in flight, not two.
    const inFlight = () => [a, b].reduce((n, l) => n + (l.limiter.counters()[0]?.inFlight ?? 0), 0);
    expect(inFlight()).toBe(1);
    granted.permit.release();
    expect(inFlight()).toBe(0);
  });

  it("drops a profile whose login died and lets the others carry on; the last one's error ends it", () => {
    const clock = new ManualClock();
    const [a, b] = [lane("a", clock), lane("b", clock)];
    const dropped: string[] = [];
    const pool = new LanePool([a, b], (l) => dropped.push(l.name));
    const chooser = pool.lister();
    expect(chooser.lost(a, new Error("a network error"))).toBe(false);
    expect(chooser.lost(a, new LoginRequiredError("the session of a ended"))).toBe(true);
    expect(dropped).toEqual(["a"]);
    expect(pool.alive().map((l) => l.name)).toEqual(["b"]);
    expect(chooser.lost(b, new LoginRequiredError("b is gone too"))).toBe(false);
    expect(pool.report()).toEqual([
      { name: "a", downloaded: 0, error: expect.stringContaining("session of a") },
      { name: "b", downloaded: 0, error: expect.stringContaining("b is gone") },
    ]);
    expect(() => chooser.acquire(CONTENT, undefined)).toThrow(LoginRequiredError);
  });

  it("counts the content responses each profile brought in", async () => {
    const clock = new ManualClock();
    const a = lane("a", clock);
    const pool = new LanePool([a]);
    const chooser = pool.downloader();
    chooser.responded?.(a, CONTENT, 200);
    chooser.responded?.(a, CONTENT, 404);
    chooser.responded?.(a, new URL("https://platform.example/restapi/v1.0/account/~/call-log"), 200);
    expect(pool.report()).toEqual([{ name: "a", downloaded: 1, error: null }]);
  });
});

describe("poolProblem", () => {
  const member = (name: string, more: Partial<PoolMemberIdentity> = {}): PoolMemberIdentity => ({
    name,
    server: "https://platform.ringcentral.com",
    accountId: "1",
    extensionId: "101",
    admin: true,
    ...more,
  });

  it("accepts logins of one account on one server", () => {
    expect(poolProblem([member("a"), member("b")], "account")).toBeUndefined();
  });

  it("names the profile of another account, another server, or without account-wide permission", () => {
    expect(poolProblem([member("a"), member("b", { accountId: "2" })], undefined)).toMatch(
      /profile "b" belongs to account 2/,
    );
    expect(
      poolProblem([member("a"), member("b", { server: "https://platform.ringcentral.biz" })], undefined),
    ).toMatch(/profile "b" logs in to https:\/\/platform.ringcentral.biz/);
    expect(poolProblem([member("a"), member("b", { admin: false })], "account")).toMatch(
      /profile "b" .*account-wide permission/,
    );
    expect(poolProblem([member("a"), member("b", { admin: false })], undefined)).toBeUndefined();
  });
});
