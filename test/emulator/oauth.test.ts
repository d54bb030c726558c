import { afterEach, describe, expect, it } from "vitest";
import {
  basicAuth,
  EXTENSION_INFO,
  errorOf,
  get,
  JWT_GRANT,
  login,
  oauthPost,
  refresh,
  sleep,
} from "./harness.js";
import { type Emulator, type EmulatorOptions, start } from "./index.js";

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function boot(options: EmulatorOptions = {}): Promise<Emulator> {
  emu = await start({ rateLimits: false, ...options });
  return emu;
}

describe("token endpoint", () => {
  it("JWT grant returns a full TokenInfo", async () => {
    const e = await boot();
    const token = await login(e);
    expect(token).toMatchObject({
      token_type: "bearer",
      expires_in: 3600,
      refresh_token_expires_in: 604800,
      owner_id: expect.any(String),
      endpoint_id: expect.any(String),
      session_id: expect.any(String),
    });
    expect(token.scope.split(" ")).toEqual(expect.arrayContaining(["ReadCallLog", "ReadCallRecording"]));
    expect(token.access_token).not.toBe(token.refresh_token);
    expect((await get(e, EXTENSION_INFO, token.access_token)).status).toBe(200);
    expect(e.stats.jwtLogins).toBe(1);
    expect(e.stats.liveSessions).toBe(1);
  });

  it("accepts only form bodies (415 otherwise)", async () => {
    const e = await boot();
    const res = await fetch(`${e.server}/restapi/oauth/token`, {
      method: "POST",
      headers: {
        authorization: basicAuth(e.credentials.clientId, e.credentials.clientSecret),
        "content-type": "application/json",
      },
      body: JSON.stringify({ grant_type: JWT_GRANT, assertion: e.credentials.jwt }),
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).errors[0]?.errorCode).toBeTruthy();
  });

  it("rejects missing client auth (401 OAU-123) and a wrong secret (400 OAU-153), both invalid_client", async () => {
    const e = await boot();
    const form = { grant_type: JWT_GRANT, assertion: e.credentials.jwt };
    const missing = await fetch(`${e.server}/restapi/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    expect(missing.status).toBe(401);
    const missingBody = await errorOf(missing);
    expect(missingBody).toMatchObject({ error: "invalid_client", errorCode: "OAU-123" });
    expect(missingBody.errors[0]?.errorCode).toBe("OAU-123");
    const wrong = await oauthPost(e, "token", form, {
      authorization: basicAuth(e.credentials.clientId, "nope"),
    });
    expect(wrong.status).toBe(400);
    expect(await errorOf(wrong)).toMatchObject({
      error: "invalid_client",
      errors: [{ errorCode: "OAU-153" }],
    });
    expect(e.stats.jwtLogins).toBe(0);
  });

  it("rejects a wrong JWT with invalid_grant", async () => {
    const e = await boot();
    const res = await oauthPost(e, "token", { grant_type: JWT_GRANT, assertion: "eyJ.not.registered" });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ error: "invalid_grant", errors: [{ errorCode: "OAU-140" }] });
  });

  it("rejects unknown grant types", async () => {
    const e = await boot();
    const res = await oauthPost(e, "token", { grant_type: "password", username: "x" });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error).toBe("unsupported_grant_type");
  });

  it("records and clamps requested access_token_ttl", async () => {
    const e = await boot({ minAccessTokenTtl: 600 });
    expect((await login(e, { access_token_ttl: "-1" })).expires_in).toBe(600);
    expect((await login(e, { access_token_ttl: "99999" })).expires_in).toBe(3600);
    expect((await login(e, { access_token_ttl: "1200" })).expires_in).toBe(1200);
    expect(e.stats.accessTokenTtlRequested).toEqual([-1, 99999, 1200]);
  });

  it("uses a short default TTL when configured, and expired tokens answer 401 OAU-128", async () => {
    const e = await boot({ accessTokenTtl: 1 });
    const token = await login(e);
    expect(token.expires_in).toBe(1);
    await sleep(1100);
    const res = await get(e, EXTENSION_INFO, token.access_token);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({
      errorCode: "TokenExpired",
      errors: [{ errorCode: "OAU-128" }],
    });
    expect(e.stats.unauthorized["OAU-128"]).toBe(1);
  });
});

describe("refresh rotation", () => {
  it("rotates both tokens; the old access token answers OAU-129, then OAU-213", async () => {
    const e = await boot({ corruptedPhaseMs: 300 });
    const first = await login(e);
    const res = await refresh(e, first.refresh_token);
    expect(res.status).toBe(200);
    const second = (await res.json()) as typeof first;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.session_id).toBe(first.session_id);
    const corrupted = await get(e, EXTENSION_INFO, first.access_token);
    expect(corrupted.status).toBe(401);
    expect((await errorOf(corrupted)).errors[0]?.errorCode).toBe("OAU-129");
    await sleep(350);
    const gone = await get(e, EXTENSION_INFO, first.access_token);
    expect(await errorOf(gone)).toMatchObject({
      errorCode: "TokenInvalid",
      errors: [{ errorCode: "OAU-213" }],
    });
    expect((await get(e, EXTENSION_INFO, second.access_token)).status).toBe(200);
    expect(e.stats.refreshes).toBe(1);
  });

  it("honours the old refresh token (same new pair) until grace ends after the new token's first use", async () => {
    const e = await boot({ refreshGraceAfterUseMs: 300 });
    const first = await login(e);
    const second = (await (await refresh(e, first.refresh_token)).json()) as typeof first;
    // New token unused: replaying the old refresh token returns the SAME pair.
    const replay = (await (await refresh(e, first.refresh_token)).json()) as typeof first;
    expect(replay.access_token).toBe(second.access_token);
    expect(replay.refresh_token).toBe(second.refresh_token);
    expect(e.stats.graceRefreshes).toBe(1);
    // First use of the new access token starts the short grace.
    expect((await get(e, EXTENSION_INFO, second.access_token)).status).toBe(200);
    expect((await refresh(e, first.refresh_token)).status).toBe(200);
    await sleep(350);
    const late = await refresh(e, first.refresh_token);
    expect(late.status).toBe(400);
    expect(await errorOf(late)).toMatchObject({ error: "invalid_grant", errors: [{ errorCode: "OAU-211" }] });
    // The current refresh token is unaffected.
    expect((await refresh(e, second.refresh_token)).status).toBe(200);
  });

  it("ends the unused grace after refreshGraceUnusedMs", async () => {
    const e = await boot({ refreshGraceUnusedMs: 200 });
    const first = await login(e);
    expect((await refresh(e, first.refresh_token)).status).toBe(200);
    await sleep(250);
    expect((await refresh(e, first.refresh_token)).status).toBe(400);
    expect(e.stats.failedRefreshes).toBe(1);
  });

  it("expired refresh tokens answer invalid_grant OAU-210", async () => {
    const e = await boot();
    const first = await login(e);
    e.control.expireRefreshTokens();
    const res = await refresh(e, first.refresh_token);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ error: "invalid_grant", errors: [{ errorCode: "OAU-210" }] });
  });

  it("refresh tokens of another app are rejected", async () => {
    const e = await boot({ apps: [{ clientId: "other", clientSecret: "other-secret" }] });
    const first = await login(e);
    const res = await refresh(e, first.refresh_token, {});
    expect(res.status).toBe(200);
    const stolen = await oauthPost(
      e,
      "token",
      { grant_type: "refresh_token", refresh_token: ((await res.json()) as typeof first).refresh_token },
      { authorization: basicAuth("other", "other-secret") },
    );
    expect(stolen.status).toBe(400);
  });
});

describe("sessions", () => {
  it("caps live sessions per user+app at 5: the 6th login evicts the oldest", async () => {
    const e = await boot();
    const tokens = [];
    for (let i = 0; i < 6; i++) tokens.push(await login(e));
    expect(e.stats.liveSessions).toBe(5);
    const [oldest, second] = tokens;
    if (!oldest || !second) throw new Error("logins missing");
    const res = await get(e, EXTENSION_INFO, oldest.access_token);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).errors[0]?.errorCode).toBe("OAU-213");
    const refreshRes = await refresh(e, oldest.refresh_token);
    expect(await errorOf(refreshRes)).toMatchObject({
      error: "invalid_grant",
      errors: [{ errorCode: "OAU-211" }],
    });
    expect((await get(e, EXTENSION_INFO, second.access_token)).status).toBe(200);
  });

  it("revoke (form or query) kills the whole session", async () => {
    const e = await boot();
    const a = await login(e);
    const b = await login(e);
    const res = await oauthPost(e, "revoke", { token: a.refresh_token });
    expect(res.status).toBe(200);
    expect((await get(e, EXTENSION_INFO, a.access_token)).status).toBe(401);
    expect((await refresh(e, a.refresh_token)).status).toBe(400);
    const byQuery = await fetch(
      `${e.server}/restapi/oauth/revoke?token=${encodeURIComponent(b.access_token)}`,
      {
        method: "POST",
        headers: {
          authorization: basicAuth(e.credentials.clientId, e.credentials.clientSecret),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "",
      },
    );
    expect(byQuery.status).toBe(200);
    expect(e.control.sessionAlive(b.access_token)).toBe(false);
    expect(e.stats.revokes).toBe(2);
    expect(e.stats.liveSessions).toBe(0);
  });

  it("killAccessTokens keeps the session: access → OAU-213, refresh still works", async () => {
    const e = await boot();
    const t = await login(e);
    e.control.killAccessTokens();
    expect(e.control.tokenStatus(t.access_token)).toBe("OAU-213");
    expect((await refresh(e, t.refresh_token)).status).toBe(200);
  });

  it("killSessions kills everything; expireAccessTokens gives OAU-128 but refresh works", async () => {
    const e = await boot();
    const t = await login(e);
    e.control.expireAccessTokens();
    expect(e.control.tokenStatus(t.access_token)).toBe("OAU-128");
    const renewed = (await (await refresh(e, t.refresh_token)).json()) as typeof t;
    e.control.killSessions();
    expect(e.control.tokenStatus(renewed.access_token)).toBe("OAU-213");
    expect(await errorOf(await refresh(e, renewed.refresh_token))).toMatchObject({
      errors: [{ errorCode: "OAU-211" }],
    });
  });
});

describe("API authentication", () => {
  it("missing Authorization → 401 AGW-401; bogus token → OAU-213; bearer scheme is case-insensitive", async () => {
    const e = await boot();
    const missing = await get(e, EXTENSION_INFO);
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toMatchObject({
      errorCode: "AGW-401",
      errors: [{ errorCode: "AGW-401" }],
    });
    const bogus = await get(e, EXTENSION_INFO, "garbage");
    expect((await errorOf(bogus)).errors[0]?.errorCode).toBe("OAU-213");
    const t = await login(e);
    const lower = await fetch(`${e.server}${EXTENSION_INFO}`, {
      headers: { authorization: `bearer ${t.access_token}` },
    });
    expect(lower.status).toBe(200);
    expect(await lower.json()).toMatchObject({ id: Number(t.owner_id), status: "Enabled" });
  });
});
