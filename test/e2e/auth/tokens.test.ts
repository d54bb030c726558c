import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JWT_GRANT } from "../../emulator/harness.js";
import { spawnCli } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// The built CLI against the in-process emulator; every test has its own XDG_CONFIG_HOME and uses `--store file`
// (through RC_RECORDINGS_STORE), so nothing here needs a keychain. Run `npm run build` first.

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const storePath = (env: EmulatorEnv) => join(env.profilesDir, "default.json");
const stored = (env: EmulatorEnv) => JSON.parse(readFileSync(storePath(env), "utf8"));
const verify = (env: EmulatorEnv, args: string[] = []) =>
  env.run(["token", "status", "--verify", "--json", ...args]);

/** Make the stored access token look expired to rc-recordings (the server would still accept it). */
function expireLocally(env: EmulatorEnv) {
  const record = stored(env);
  record.login.tokens.accessTokenExpiresAt = Date.now() - 1_000;
  writeFileSync(storePath(env), JSON.stringify(record));
}

describe("token lifecycle through the built CLI", () => {
  it("logs in once: later logins and runs reuse the stored pair without a token request", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const again = await e.run(["login"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already logged in .* with this app and JWT; no token request made/);
    for (let i = 0; i < 4; i++) {
      const result = await verify(e);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ loggedIn: true, verified: true, store: "file" });
    }
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.refreshes).toBe(0);
  });

  it("reports the documented status fields, without a network call unless --verify", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const requestsBefore = e.emu.stats.requestsByGroup.light;
    const result = await e.run(["token", "status", "--json"]);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(Object.keys(status)).toEqual([
      "profile",
      "server",
      "store",
      "loggedIn",
      "ownerId",
      "scope",
      "accessTokenExpiresAt",
      "refreshTokenExpiresAt",
      "verified",
      "cause",
      "hint",
    ]);
    expect(status).toMatchObject({
      profile: "default",
      server: e.emu.server,
      store: "file",
      loggedIn: true,
      verified: null,
      cause: null,
      hint: null,
    });
    expect(e.emu.stats.requestsByGroup.light).toBe(requestsBefore);
    const human = await e.run(["token", "status"]);
    expect(human.stdout).toContain(storePath(e));
    expect(human.stdout).toMatch(/access token: +expires .* \(in \d+ min\)/);
    expect(human.stdout).toMatch(/last refresh: +never/);
  });

  it("refreshes an expired access token exactly once", async () => {
    e = await startEmulatorEnv();
    await e.login();
    expireLocally(e);
    expect((await verify(e)).code).toBe(0);
    expect((await verify(e)).code).toBe(0);
    expect(e.emu.stats.refreshes).toBe(1);
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.accessTokenTtlRequested).not.toContain(-1);
    expect(stored(e).login.lastRefreshAt).toEqual(expect.any(Number));
  });

  it("recovers from a server-side expired token (401 OAU-128) with one refresh", async () => {
    e = await startEmulatorEnv();
    await e.login();
    e.emu.control.expireAccessTokens();
    expect((await verify(e)).code).toBe(0);
    expect(e.emu.stats.unauthorized["OAU-128"]).toBe(1);
    expect(e.emu.stats.refreshes).toBe(1);
  });

  it("recovers from a killed access token (401 OAU-213) with a refresh", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const before = stored(e).login.tokens.accessToken;
    e.emu.control.killAccessTokens();
    const result = await verify(e);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).verified).toBe(true);
    expect(e.emu.stats.unauthorized["OAU-213"]).toBe(1);
    expect(e.emu.stats.refreshes).toBe(1);
    expect(e.emu.stats.jwtLogins).toBe(1);
    const after = stored(e).login.tokens.accessToken;
    expect(after).not.toBe(before);
    expect(e.emu.control.sessionAlive(after)).toBe(true);
  });

  it.each([
    ["expired by the clock", expireLocally],
    ["rejected by the server", (env: EmulatorEnv) => env.emu.control.expireAccessTokens()],
  ])("six concurrent processes on a token %s: exactly one refresh, all succeed", async (_name, expire) => {
    e = await startEmulatorEnv({ emulator: { rateLimits: {} } }); // RingCentral's default limits: Auth 5/min
    await e.login();
    expire(e);
    const env = e.env;
    const runs = Array.from(
      { length: 6 },
      () => spawnCli(["token", "status", "--verify", "--json"], { env }).result,
    );
    const results = await Promise.all(runs);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).verified).toBe(true);
    }
    expect(e.emu.stats.refreshes).toBe(1);
    expect(e.emu.stats.failedRefreshes).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.liveSessions).toBe(1);
    expect(e.emu.stats.rateLimited).toBe(0);
  });

  it("logs in again once with the stored JWT when the refresh token is dead", async () => {
    e = await startEmulatorEnv();
    await e.login();
    e.emu.control.expireRefreshTokens();
    e.emu.control.expireAccessTokens();
    const result = await verify(e);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.failedRefreshes).toBe(1);
    expect(e.emu.stats.jwtLogins).toBe(2);
    expect((await verify(e)).code).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(2);
  });

  it("exits 4 without further token requests when the refresh token and the JWT are both dead", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const record = stored(e);
    record.credentials.jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJub2JvZHkifQ.revoked-jwt";
    writeFileSync(storePath(e), JSON.stringify(record));
    e.emu.control.killSessions();
    const first = await verify(e);
    expect(first.code).toBe(4);
    expect(first.stderr).toMatch(/run: rc-recordings login/);
    const tokenRequests = e.emu.stats.requestsByGroup.auth;
    const second = await verify(e);
    expect(second.code).toBe(4);
    expect(e.emu.stats.requestsByGroup.auth).toBe(tokenRequests);
  });

  it("five-session cap: 20 runs leave another client's session alive", async () => {
    // Two sessions allowed: a single extra login by rc-recordings would evict the other client's session.
    e = await startEmulatorEnv({ emulator: { maxSessions: 2, rateLimits: {} } });
    // Another client of the same user and app logs in on its own.
    const other = await fetch(`${e.emu.server}/restapi/oauth/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${e.emu.credentials.clientId}:${e.emu.credentials.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ grant_type: JWT_GRANT, assertion: e.emu.credentials.jwt }).toString(),
    });
    const otherToken = ((await other.json()) as { access_token: string }).access_token;
    await e.login();
    const env = e.env;
    for (let batch = 0; batch < 5; batch++) {
      const results = await Promise.all(
        Array.from(
          { length: 4 },
          (_, i) => spawnCli(i % 2 ? ["login"] : ["token", "status", "--verify"], { env }).result,
        ),
      );
      for (const result of results) expect(result.code, result.stderr).toBe(0);
    }
    expect(e.emu.control.sessionAlive(otherToken)).toBe(true);
    expect(e.emu.stats.jwtLogins).toBe(2); // the other client's and ours
    expect(e.emu.stats.liveSessions).toBe(2);
    expect(e.emu.stats.rateLimited).toBe(0);
  });

  it("revoke ends the session server-side; afterwards nothing logs in silently (exit 4)", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const token = stored(e).login.tokens.accessToken;
    const result = await e.run(["token", "revoke", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ profile: "default", revoked: true });
    expect(e.emu.stats.revokes).toBe(1);
    expect(e.emu.control.sessionAlive(token)).toBe(false);
    const record = stored(e);
    expect(record.login).toMatchObject({ state: "ended", reason: "revoked" });
    expect(JSON.stringify(record)).not.toContain(token);
    expect(record.credentials.clientId).toBe(e.emu.credentials.clientId); // kept for the next login

    const status = await verify(e);
    expect(status.code).toBe(4);
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: false });
    expect(status.stderr).toMatch(/token revoke.*run: rc-recordings login/);
    expect(e.emu.stats.jwtLogins).toBe(1);

    const nothing = await e.run(["token", "revoke"]);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toMatch(/already ended/);

    const relogin = await e.run(["login"]);
    expect(relogin.code).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(2);
  });

  it("revoke with nothing stored says so and exits 0", async () => {
    e = await startEmulatorEnv();
    const result = await e.run(["token", "revoke"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/nothing stored/);
    expect(e.emu.stats.requestsByGroup.auth).toBe(0);
  });

  it("revoke that fails on the network exits 1 and keeps the pair for a retry", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const kept = readFileSync(storePath(e), "utf8");
    await e.emu.stop(); // the server is gone
    const failed = await e.run(["token", "revoke"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/could not revoke the session: network error/);
    expect(readFileSync(storePath(e), "utf8")).toBe(kept);
  });

  it("login --force revokes the old session first, then logs in", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const old = stored(e).login.tokens.accessToken;
    const result = await e.run(["login", "--force"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.revokes).toBe(1);
    expect(e.emu.stats.jwtLogins).toBe(2);
    expect(e.emu.control.sessionAlive(old)).toBe(false);
    expect(e.emu.stats.liveSessions).toBe(1);
  });
});
