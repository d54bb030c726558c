import { afterEach, describe, expect, it } from "vitest";
import { CALL_LOG, EXTENSION_INFO, errorOf, get, JWT_GRANT, login, oauthPost, sleep } from "./harness.js";
import { type Emulator, start } from "./index.js";
import { RateLimiter } from "./rate-limit.js";

const CONFIG = { windowSec: 10, penaltySec: 5, limits: { auth: 2, light: 3, medium: 3, heavy: 3 } };

describe("RateLimiter (fixed window opened by the first request, restarting penalty)", () => {
  it("allows `limit` requests per window and reports Remaining", () => {
    const limiter = new RateLimiter(CONFIG);
    const remaining = [0, 1, 2].map((t) => limiter.take("u", "heavy", t).headers["X-Rate-Limit-Remaining"]);
    expect(remaining).toEqual(["2", "1", "0"]);
    const over = limiter.take("u", "heavy", 3);
    expect(over).toMatchObject({ allowed: false, retryAfterSec: 5 });
    expect(over.headers).toMatchObject({
      "Retry-After": "5",
      "X-Rate-Limit-Remaining": "0",
      "X-Rate-Limit-Group": "heavy",
    });
  });

  it("opens the next window at the first request after the previous one closed", () => {
    const fresh = new RateLimiter(CONFIG);
    fresh.take("u", "heavy", 1000); // opens [1000, 11000)
    expect(fresh.take("u", "heavy", 10_999).headers["X-Rate-Limit-Remaining"]).toBe("1");
    expect(fresh.take("u", "heavy", 11_000).headers["X-Rate-Limit-Remaining"]).toBe("2"); // new window at 11000
    expect(fresh.take("u", "heavy", 20_999).headers["X-Rate-Limit-Remaining"]).toBe("1");
  });

  it("restarts the penalty on every request during it, then starts a fresh window", () => {
    const limiter = new RateLimiter(CONFIG);
    for (let i = 0; i < 3; i++) limiter.take("u", "heavy", 0);
    expect(limiter.take("u", "heavy", 100).allowed).toBe(false); // penalty until 5100
    expect(limiter.take("u", "heavy", 5000).allowed).toBe(false); // restarts: until 10000
    expect(limiter.take("u", "heavy", 9999).allowed).toBe(false); // until 14999
    const after = limiter.take("u", "heavy", 15_000);
    expect(after).toMatchObject({ allowed: true });
    expect(after.headers["X-Rate-Limit-Remaining"]).toBe("2");
  });

  it("keeps buckets apart per key and group; false disables limits and headers", () => {
    const limiter = new RateLimiter(CONFIG);
    for (let i = 0; i < 3; i++) limiter.take("u", "heavy", 0);
    expect(limiter.take("u", "light", 0).allowed).toBe(true);
    expect(limiter.take("v", "heavy", 0).allowed).toBe(true);
    limiter.configure(false);
    expect(limiter.take("u", "heavy", 0)).toEqual({ allowed: true, headers: {} });
  });
});

describe("rate limits over HTTP", () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it("sends X-Rate-Limit-* headers, 429 CMN-301 with Retry-After, and restarts the penalty", async () => {
    emu = await start({ rateLimits: { windowSec: 5, penaltySec: 1, limits: { heavy: 2, light: 50 } } });
    const token = (await login(emu)).access_token;
    const first = await get(emu, CALL_LOG, token);
    expect(first.headers.get("x-rate-limit-group")).toBe("heavy");
    expect(first.headers.get("x-rate-limit-limit")).toBe("2");
    expect(first.headers.get("x-rate-limit-remaining")).toBe("1");
    expect(first.headers.get("x-rate-limit-window")).toBe("5");
    const light = await get(emu, EXTENSION_INFO, token);
    expect(light.headers.get("x-rate-limit-group")).toBe("light");
    expect((await get(emu, CALL_LOG, token)).status).toBe(200);
    const limited = await get(emu, CALL_LOG, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(await errorOf(limited)).toMatchObject({
      errorCode: "CMN-301",
      errors: [{ errorCode: "CMN-301" }],
    });
    // A request 600 ms into the 1 s penalty restarts it: at 1.2 s after the first 429 we are still limited.
    await sleep(600);
    expect((await get(emu, CALL_LOG, token)).status).toBe(429);
    await sleep(600);
    expect((await get(emu, CALL_LOG, token)).status).toBe(429);
    await sleep(1050);
    expect((await get(emu, CALL_LOG, token)).status).toBe(200);
    expect(emu.stats.rateLimited).toBe(3);
    expect(emu.stats.rateLimitedByGroup.heavy).toBe(3);
    // The light bucket was never touched by heavy requests.
    expect((await get(emu, EXTENSION_INFO, token)).status).toBe(200);
  });

  it("shares the Heavy bucket between the call log (API) and content (media)", async () => {
    emu = await start({ rateLimits: { limits: { heavy: 2 } } });
    const token = (await login(emu)).access_token;
    const recording = emu.control.recordings()[0];
    if (!recording) throw new Error("no recording");
    expect((await get(emu, CALL_LOG, token)).status).toBe(200);
    const content = await get(emu, recording.contentUri, token);
    expect(content.headers.get("x-rate-limit-group")).toBe("heavy");
    expect(content.headers.get("x-rate-limit-remaining")).toBe("0");
    await content.arrayBuffer();
    expect((await get(emu, CALL_LOG, token)).status).toBe(429);
  });

  it("keeps one Heavy bucket per user: another user's requests do not spend it", async () => {
    const jwt = "eyJ.second.user";
    emu = await start({ rateLimits: { limits: { heavy: 1 } }, users: [{ jwt, ownerId: "777" }] });
    const first = (await login(emu)).access_token;
    const second = await login(emu, { assertion: jwt });
    expect(second.owner_id).toBe("777");
    expect((await get(emu, CALL_LOG, first)).status).toBe(200);
    expect((await get(emu, CALL_LOG, second.access_token)).status).toBe(200);
    expect((await get(emu, CALL_LOG, first)).status).toBe(429);
  });

  it("limits the token endpoint per app (Auth group)", async () => {
    emu = await start({ rateLimits: { limits: { auth: 2 } } });
    await login(emu);
    await login(emu);
    const res = await oauthPost(emu, "token", { grant_type: JWT_GRANT, assertion: emu.credentials.jwt });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-rate-limit-group")).toBe("auth");
    expect(emu.stats.jwtLogins).toBe(2);
  });

  it("setRateLimits(false) removes limits and headers at runtime", async () => {
    emu = await start({ rateLimits: { limits: { heavy: 1 } } });
    const token = (await login(emu)).access_token;
    emu.control.setRateLimits(false);
    for (let i = 0; i < 3; i++) {
      const res = await get(emu, CALL_LOG, token);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-rate-limit-limit")).toBeNull();
      await res.arrayBuffer();
    }
  });
});
