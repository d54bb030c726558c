import { describe, expect, it } from "vitest";
import { TokenEndpointRateLimitedError, TokenEndpointUnavailableError } from "../../../src/auth/errors.js";
import type { ActiveRecord } from "../../../src/auth/session.js";
import { AuthSession, RENEWAL_OUTAGE_PAUSE_MS } from "../../../src/auth/session.js";
import { TokenRequestRejected } from "../../../src/auth/token-failure.js";
import { LoginRequiredError, OperationError } from "../../../src/errors.js";
import { activeRecord, FakeEndpoint, MemoryLock, MemoryStore, memoryLogger, pair } from "./fakes.js";

const T0 = 1_800_000_000_000;

function setup(tokens = pair(T0)) {
  let now = T0;
  const clock = { advance: (ms: number) => (now += ms), now: () => now };
  const record = activeRecord(tokens) as ActiveRecord;
  const store = new MemoryStore(structuredClone(record));
  const lock = new MemoryLock();
  const endpoint = new FakeEndpoint(clock.now);
  const { log, lines } = memoryLogger();
  const session = new AuthSession({ profile: "default", store, lock, endpoint, log, now: clock.now }, record);
  return { session, store, lock, endpoint, clock, tokens, lines };
}

const invalidGrant = () => new TokenRequestRejected(400, "invalid_grant", "OAU-211", "Token revoked");

describe("AuthSession", () => {
  it("hands out the stored access token without any token request while it is fresh", async () => {
    const { session, endpoint, lock, tokens } = setup();
    expect(await session.getAccessToken()).toBe(tokens.accessToken);
    expect(endpoint.refreshGrants + endpoint.jwtGrants).toBe(0);
    expect(lock.acquisitions).toBe(0);
  });

  it("refreshes once when the token expires within a minute, persisting the new pair before handing it out", async () => {
    const { session, endpoint, store, clock, tokens } = setup();
    clock.advance(3_600_000 - 59_000);
    const renewed = pair(clock.now());
    endpoint.onRefresh = () => renewed;
    // The write is slow and notes, when it completes, whether the new token had already reached a caller.
    let handedOut = false;
    let handedOutBeforeWriteCompleted: boolean | undefined;
    const originalWrite = store.write.bind(store);
    store.write = async (record) => {
      await new Promise((r) => setTimeout(r, 20));
      await originalWrite(record);
      handedOutBeforeWriteCompleted = handedOut;
    };
    const token = await session.getAccessToken().then((t) => {
      handedOut = true;
      return t;
    });
    expect(token).toBe(renewed.accessToken);
    expect(handedOutBeforeWriteCompleted).toBe(false);
    expect(endpoint.refreshGrants).toBe(1);
    expect(endpoint.refreshedWith).toEqual([tokens.refreshToken]);
    expect(store.record?.login.state === "active" && store.record.login.tokens.accessToken).toBe(
      renewed.accessToken,
    );
    expect(store.record?.login.state === "active" && store.record.login.lastRefreshAt).toBe(clock.now());
  });

  it("shares one recovery among many concurrent callers and 401 reports", async () => {
    const { session, endpoint, lock, tokens } = setup();
    const results = await Promise.all([
      session.recover(tokens.accessToken),
      session.recover(tokens.accessToken),
      session.getAccessToken(),
      session.getAccessToken(),
      session.recover(tokens.accessToken),
    ]);
    expect(endpoint.refreshGrants).toBe(1);
    expect(lock.acquisitions).toBe(1);
    const fresh = await session.getAccessToken();
    expect(fresh).not.toBe(tokens.accessToken);
    expect(results.filter((r) => typeof r === "string")).toEqual([fresh, fresh]);
  });

  it("does nothing for a 401 on a token that was already replaced", async () => {
    const { session, endpoint, tokens } = setup();
    await session.recover(tokens.accessToken);
    await session.recover(tokens.accessToken); // a late report about the old token
    expect(endpoint.refreshGrants).toBe(1);
  });

  it("adopts a pair another process already rotated into the store instead of refreshing", async () => {
    const { session, endpoint, store, clock, tokens } = setup();
    const rotated = pair(clock.now());
    store.record = activeRecord(rotated);
    await session.recover(tokens.accessToken);
    expect(await session.getAccessToken()).toBe(rotated.accessToken);
    expect(endpoint.refreshGrants).toBe(0);
    expect(store.writes).toHaveLength(0);
  });

  it("refreshes with the store's newest refresh token when the adopted pair is rejected too", async () => {
    const { session, endpoint, store, clock, tokens } = setup();
    const rotated = pair(clock.now());
    store.record = activeRecord(rotated);
    await session.recover(tokens.accessToken); // adopts the rotated pair
    await session.recover(rotated.accessToken); // which then gets a 401 as well
    expect(endpoint.refreshedWith).toEqual([rotated.refreshToken]);
  });

  it("logs in again once with the stored JWT when the refresh is rejected with invalid_grant", async () => {
    const { session, endpoint, store, tokens } = setup();
    endpoint.onRefresh = () => {
      throw invalidGrant();
    };
    await session.recover(tokens.accessToken);
    expect(endpoint.refreshGrants).toBe(1);
    expect(endpoint.jwtGrants).toBe(1);
    const token = await session.getAccessToken();
    expect(store.record?.login.state === "active" && store.record.login.tokens.accessToken).toBe(token);
  });

  it("goes straight to the JWT when the refresh token has expired by the clock", async () => {
    const { session, endpoint, clock } = setup();
    clock.advance(8 * 86_400_000);
    await session.getAccessToken();
    expect(endpoint.refreshGrants).toBe(0);
    expect(endpoint.jwtGrants).toBe(1);
  });

  it("re-reads the store after invalid_grant and adopts a pair another process rotated meanwhile", async () => {
    const { session, endpoint, store, clock, tokens } = setup();
    const rotated = pair(clock.now());
    endpoint.onRefresh = () => {
      store.record = activeRecord(rotated); // the other process won the race for the same refresh token
      throw invalidGrant();
    };
    await session.recover(tokens.accessToken);
    expect(endpoint.jwtGrants).toBe(0);
    expect(store.writes).toHaveLength(0);
    expect(await session.getAccessToken()).toBe(rotated.accessToken);
  });

  it("sends no refresh under a lost lock; takes the lock again and uses what the other process stored", async () => {
    const { session, endpoint, store, lock, clock, tokens } = setup();
    lock.loseNext = true;
    const rotated = pair(clock.now());
    const originalRead = store.read.bind(store);
    let reads = 0;
    store.read = async () => {
      reads += 1;
      if (reads === 2) store.record = activeRecord(rotated); // rotated while this process held a lost lock
      return originalRead();
    };
    await session.recover(tokens.accessToken);
    expect(endpoint.refreshGrants + endpoint.jwtGrants).toBe(0);
    expect(lock.acquisitions).toBe(2);
    expect(await session.getAccessToken()).toBe(rotated.accessToken);
  });

  it("marks the login ended and fails fast for every later caller when the JWT is rejected too", async () => {
    const { session, endpoint, store, tokens } = setup();
    endpoint.onRefresh = () => {
      throw invalidGrant();
    };
    endpoint.onJwt = () => {
      throw new TokenRequestRejected(400, "invalid_grant", "OAU-140", "Invalid JWT token");
    };
    await expect(session.recover(tokens.accessToken)).rejects.toBeInstanceOf(LoginRequiredError);
    expect(store.record?.login).toMatchObject({ state: "ended", reason: "rejected" });
    await expect(session.getAccessToken()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(endpoint.refreshGrants + endpoint.jwtGrants).toBe(2);
  });

  it("keeps the store untouched when the refresh fails on the network, and can try again later", async () => {
    const { session, endpoint, store, tokens } = setup();
    endpoint.onRefresh = () => {
      throw new OperationError("could not refresh the token: network error: ECONNRESET");
    };
    await expect(session.recover(tokens.accessToken)).rejects.toBeInstanceOf(OperationError);
    expect(store.writes).toHaveLength(0);
    expect(store.record?.login.state).toBe("active");
    expect(endpoint.jwtGrants).toBe(0);
    endpoint.onRefresh = () => pair(T0);
    await session.recover(tokens.accessToken);
    expect(endpoint.refreshGrants).toBe(2);
  });

  it("shares a renewal that failed on an unavailable endpoint with every caller until the pause is over", async () => {
    const { session, endpoint, store, tokens, clock } = setup();
    endpoint.onRefresh = () => {
      throw new TokenEndpointUnavailableError("could not refresh the token: HTTP 500");
    };
    await expect(session.recover(tokens.accessToken)).rejects.toThrow("HTTP 500");
    // Each caller retrying its own work gets the same failure at once: no second sequence, no request with the
    // rejected token.
    for (let i = 0; i < 5; i++) {
      await expect(session.recover(tokens.accessToken)).rejects.toThrow("HTTP 500");
      await expect(session.getAccessToken()).rejects.toThrow("HTTP 500");
    }
    expect(endpoint.refreshGrants).toBe(1);
    expect(store.record?.login.state).toBe("active");
    clock.advance(RENEWAL_OUTAGE_PAUSE_MS);
    endpoint.onRefresh = () => pair(clock.now());
    await session.recover(tokens.accessToken);
    expect(endpoint.refreshGrants).toBe(2);
    expect(await session.getAccessToken()).not.toBe(tokens.accessToken);
  });

  it("never hands out a renewed token it could not persist", async () => {
    const { session, store, tokens } = setup();
    store.failWrites = true;
    await expect(session.recover(tokens.accessToken)).rejects.toThrow("disk full");
    store.failWrites = false;
    expect(await session.getAccessToken()).toBe(tokens.accessToken);
  });

  it("does not log in again after `token revoke` ended the login in another process", async () => {
    const { session, endpoint, store, tokens } = setup();
    store.record = {
      ...(store.record as ActiveRecord),
      login: { state: "ended", reason: "revoked", endedAt: T0 },
    };
    await expect(session.recover(tokens.accessToken)).rejects.toThrow(/token revoke/);
    expect(endpoint.refreshGrants + endpoint.jwtGrants).toBe(0);
  });
});

describe("AuthSession with very short token lifetimes", () => {
  it("renews at most once per call and not again while the new token is fresh", async () => {
    const { session, endpoint, clock } = setup(
      pair(T0, { accessTokenTtl: 20, accessTokenExpiresAt: T0 + 20_000 }),
    );
    endpoint.onRefresh = () =>
      pair(clock.now(), { accessTokenTtl: 20, accessTokenExpiresAt: clock.now() + 20_000 });
    await session.getAccessToken(); // 20 s left, half the lifetime is 10 s: still fresh
    expect(endpoint.refreshGrants).toBe(0);
    clock.advance(11_000);
    await session.getAccessToken();
    await session.getAccessToken();
    expect(endpoint.refreshGrants).toBe(1);
  });

  it("renews at most twice because of 401s in a run; the third rejection ends it (exit 4), nothing stored as ended", async () => {
    const { session, endpoint, store } = setup();
    for (let i = 0; i < 2; i++) await session.recover(await session.getAccessToken(), "OAU-213");
    const error = await session.recover(await session.getAccessToken(), "OAU-213").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginRequiredError);
    expect((error as Error).message).toMatch(
      /^the server keeps rejecting fresh tokens .*; run: rc-recordings login$/,
    );
    expect(endpoint.refreshGrants).toBe(2);
    expect(store.record?.login.state).toBe("active");
    await expect(session.getAccessToken()).rejects.toBeInstanceOf(LoginRequiredError);
  });

  it("counts only 401s in a row: a pair renewed by its expiry in between starts the count again", async () => {
    const { session, endpoint, clock } = setup();
    for (let i = 0; i < 2; i++) await session.recover(await session.getAccessToken(), "OAU-213");
    clock.advance(3_600_000); // hours later the pair expires and is refreshed as usual
    await session.getAccessToken();
    expect(endpoint.refreshGrants).toBe(3);
    await session.recover(await session.getAccessToken(), "OAU-213"); // an unrelated OAU-213: recovered
    expect(endpoint.refreshGrants).toBe(4);
  });

  it("a JWT login that met a 429 is no login: it is made once the limit allows", async () => {
    const { session, endpoint } = setup();
    endpoint.onRefresh = () => {
      throw invalidGrant();
    };
    let limited = true;
    endpoint.onJwt = () => {
      if (!limited) return pair(T0);
      limited = false;
      throw new TokenEndpointRateLimitedError("log in", 10);
    };
    await session.recover(await session.getAccessToken(), "OAU-213");
    expect(endpoint.jwtGrants).toBe(2);
    expect(session.lastRecovery?.cause).toBe("session-ended");
  });

  it("logs in with the JWT at most once per run", async () => {
    const { session, endpoint } = setup();
    endpoint.onRefresh = () => {
      throw invalidGrant();
    };
    await session.recover(await session.getAccessToken(), "OAU-213");
    expect(session.lastRecovery?.cause).toBe("session-ended");
    await expect(session.recover(await session.getAccessToken(), "OAU-213")).rejects.toBeInstanceOf(
      LoginRequiredError,
    );
    expect(endpoint.jwtGrants).toBe(1);
    expect(session.lastRecovery?.cause).toBe("login-gone");
  });

  it("names the cause of a 401 in one info line: rotated elsewhere, or only the access token", async () => {
    const { session, store, clock, tokens, lines } = setup();
    store.record = activeRecord(pair(clock.now()));
    await session.recover(tokens.accessToken, "OAU-213");
    expect(session.lastRecovery).toMatchObject({ cause: "rotated-elsewhere", errorCode: "OAU-213" });
    await session.recover(await session.getAccessToken(), "OAU-129");
    expect(session.lastRecovery).toMatchObject({ cause: "access-token-rejected", errorCode: "OAU-129" });
    expect(lines.filter((line) => line.startsWith("access token rejected"))).toHaveLength(2);
  });
});
