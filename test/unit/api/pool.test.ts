import { describe, expect, it } from "vitest";
import { createApiClient } from "../../../src/api/client.js";
import { UnsettledRefusalError } from "../../../src/api/errors.js";
import type { Lane } from "../../../src/api/lanes.js";
import { LanePool, type PoolMemberIdentity, poolProblem } from "../../../src/api/pool.js";
import { RateLimiter } from "../../../src/api/rate-limiter.js";
import { createResponse } from "../../../src/api/response.js";
import type { Transport } from "../../../src/api/transport.js";
import type { ApiHeaders } from "../../../src/api/types.js";
import { LoginRequiredError } from "../../../src/errors.js";
import { Logger } from "../../../src/log/logger.js";
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

function lane(name: string, clock: ManualClock, server = "https://platform.example"): Lane {
  return {
    name,
    tokens: { server, getAccessToken: async () => name, recover: async () => {} },
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
    const pool = new LanePool([a, b], (l, line) => {
      dropped.push(l.name);
      expect(line).toContain(`run: rc-recordings login --profile ${l.name}`);
    });
    const chooser = pool.lister(false);
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

/**
 * A pool of `names` behind one ApiClient; `answer(profile, url)` is the status each profile gets (the token is
 * the profile's name). Content answers 200 with audio, anything else an empty body.
 */
function pooled(names: string[], answer: (profile: string, url: URL) => number, listing = false) {
  const clock = new ManualClock();
  const lanes = names.map((name) => lane(name, clock, "https://platform.ringcentral.com"));
  const drops: string[] = [];
  const pool = new LanePool(lanes, (_l, line) => drops.push(line));
  const asked: string[] = [];
  const transport: Transport = async (url, { headers }) => {
    const profile = (headers.Authorization ?? "").replace("Bearer ", "") || "cdn";
    asked.push(profile);
    if (url.hostname === "cdn.example") return createResponse({ status: 200, url: url.href, body: "cdn" });
    const status = answer(profile, url);
    if (status === 307) {
      return createResponse({ status, url: url.href, headers: { location: "https://cdn.example/r?sig=1" } });
    }
    const body = status === 200 ? (url.pathname.endsWith("/call-log") ? "{}" : "audio") : "{}";
    return createResponse({ status, url: url.href, body });
  };
  const api = createApiClient({
    lanes: listing ? pool.lister(true) : pool.downloader(),
    transport,
    log: new Logger("quiet", { write: () => true }),
  });
  return { pool, api, asked, drops };
}

const content = (id: string) =>
  `https://media.ringcentral.com/restapi/v1.0/account/1/recording/${id}/content`;

describe("a pool's refusals", () => {
  it("asks again through another profile when one answers 403, and drops the one that may not read", async () => {
    // Both free: the first listed (b) gets the request.
    const { pool, api, asked, drops } = pooled(["b", "a"], (profile) => (profile === "b" ? 403 : 200));
    expect((await api.get(content("1"))).status).toBe(200);
    const both = await Promise.all([api.get(content("2")), api.get(content("3"))]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(asked).toEqual(["b", "a", "a", "a"]); // b once, then never again
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatch(
      /profile "b" is dropped from the pool \(HTTP 403 for recordings profile "a" could read\)/,
    );
    expect(pool.report()).toEqual([
      { name: "b", downloaded: 0, error: expect.stringContaining("HTTP 403") },
      { name: "a", downloaded: 3, error: null },
    ]);
  });

  it("takes a refusal by every profile as the recording's, and drops nobody for a 404 another read", async () => {
    const gone = pooled(["a", "b"], () => 404);
    expect((await gone.api.get(content("9"))).status).toBe(404);
    expect(gone.asked.sort()).toEqual(["a", "b"]);
    const late = pooled(["a", "b"], (profile) => (profile === "a" ? 404 : 200));
    const answers = await Promise.all([late.api.get(content("1")), late.api.get(content("2"))]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(late.drops).toEqual([]);
  });

  it("gives no verdict when a profile that might read it could not be asked (its login died)", async () => {
    const { pool, api } = pooled(["a", "b"], () => 403);
    const [, b] = pool.alive();
    pool.downloader().lost(b as Lane, new LoginRequiredError("b is gone"));
    await expect(api.get(content("1"))).rejects.toBeInstanceOf(UnsettledRefusalError);
  });

  it("counts a recording a CDN served after the profile's redirect as that profile's", async () => {
    const { pool, api } = pooled(["a"], () => 307);
    expect(await (await api.get(content("1"))).text()).toBe("cdn");
    expect(pool.report()).toEqual([{ name: "a", downloaded: 1, error: null }]);
  });
});

describe("a pool's listing", () => {
  const callLog = "https://platform.ringcentral.com/restapi/v1.0/account/~/call-log";
  const ownLog = "https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~/call-log";

  it("lists the account's log through another profile while the first sits out a 429", async () => {
    const { api, asked } = pooled(["a", "b"], (profile) => (profile === "a" ? 429 : 200), true);
    await expect(api.getJson(callLog)).resolves.toEqual({});
    expect(asked).toEqual(["a", "b"]);
  });

  it("asks for the login's own log through the first profile only", async () => {
    const { api, asked } = pooled(["a", "b"], () => 200, true);
    await Promise.all([api.getJson(ownLog), api.getJson(ownLog), api.getJson(ownLog)]);
    expect(asked).toEqual(["a", "a", "a"]);
  });

  it("never lists another profile's own log in place of the first's: its login gone, that listing ends", async () => {
    const { pool, api, asked } = pooled(["a", "b"], () => 200, true);
    const [a] = pool.alive();
    // Dropped for the recordings it may not read, it still lists its own extension.
    pool.dropBeforehand(a as Lane, "its app lacks ReadCallRecording", "give the app ReadCallRecording");
    await expect(api.getJson(ownLog)).resolves.toEqual({});
    expect(asked).toEqual(["a"]);
    // Its login dies: b's `~` is another extension, so nothing is listed in a's place.
    pool.lister(false).lost(a as Lane, new LoginRequiredError("a is gone"));
    await expect(api.getJson(ownLog)).rejects.toThrow(/profile "a" lists its own extension's calls/);
    expect(asked).toEqual(["a"]);
    // The account's log (which every profile may list) goes on through b.
    await expect(api.getJson(callLog)).resolves.toEqual({});
    expect(asked).toEqual(["a", "b"]);
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
    expect(poolProblem([member("a"), member("b", { extensionId: "102" })], "account")).toBeUndefined();
  });

  it("names the profile of another account, another server, or without account-wide permission", () => {
    expect(
      poolProblem([member("a"), member("b", { accountId: "2", extensionId: "102" })], undefined),
    ).toMatch(/profile "b" belongs to account 2/);
    expect(
      poolProblem(
        [member("a"), member("b", { server: "https://platform.ringcentral.biz", extensionId: "102" })],
        undefined,
      ),
    ).toMatch(/profile "b" logs in to https:\/\/platform.ringcentral.biz/);
    expect(poolProblem([member("a"), member("b", { admin: false, extensionId: "102" })], "account")).toMatch(
      /profile "b" .*account-wide permission/,
    );
    // A transfer goes to whichever profile is free: every one but the first (who lists) must read them all.
    expect(poolProblem([member("a"), member("b", { admin: false, extensionId: "102" })], undefined)).toMatch(
      /profile "b" .*no account-wide permission, which every profile but the first needs/,
    );
    expect(
      poolProblem([member("a", { admin: false }), member("b", { extensionId: "102" })], undefined),
    ).toBeUndefined();
  });

  it("refuses two logins of the same user: they share one budget", () => {
    expect(poolProblem([member("a"), member("b")], undefined)).toMatch(
      /profiles "a" and "b" are logins of the same user \(extension 101\)/,
    );
  });
});
