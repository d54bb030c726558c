import { existsSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { spawnCli } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";
import {
  type Answer,
  json,
  parseJson,
  startTamperProxy,
  type TamperProxy,
} from "../../helpers/tamper-proxy.js";
import { waitFor } from "../download/helpers.js";

let e: EmulatorEnv | undefined;
let proxy: TamperProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  await e?.stop();
  e = proxy = undefined;
});

const isTokenRequest = (path: string) => path === "/restapi/oauth/token";

function storedProfiles(env: EmulatorEnv): string[] {
  return existsSync(env.profilesDir) ? readdirSync(env.profilesDir).filter((f) => f.endsWith(".json")) : [];
}

describe("login opens exactly the sessions it keeps", () => {
  it("5 concurrent first logins on an empty profile open ONE server session and all succeed", async () => {
    e = await startEmulatorEnv();
    const env = e;
    const results = await Promise.all(Array.from({ length: 5 }, () => env.run(["login", "--json"])));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(env.emu.stats.jwtLogins).toBe(1);
    expect(env.emu.stats.liveSessions).toBe(1);
    expect(results.filter((r) => JSON.parse(r.stdout).reused === true)).toHaveLength(4);
    expect((await env.run(["token", "status", "--verify"])).code).toBe(0);
  });

  const unusable: Array<[string, (granted: Record<string, unknown>) => Answer, number]> = [
    ["no refresh_token", ({ refresh_token: _, ...rest }) => json(rest), 0],
    ["{}", () => json({}), 1],
    ["null", () => json(null), 1],
    [
      "HTML",
      () => ({ status: 200, headers: { "content-type": "text/html" }, body: Buffer.from("<html>hi</html>") }),
      1,
    ],
  ];
  for (const [name, answer, sessionsLeft] of unusable) {
    it(`a 200 answer with ${name}: one grant, nothing stored, the session revoked when it can be`, async () => {
      e = await startEmulatorEnv();
      proxy = await startTamperProxy(e.emu, async (req, ctx) => {
        if (!isTokenRequest(req.url.pathname)) return undefined;
        const granted = await ctx.forward();
        return granted.status === 200 ? answer(parseJson(granted)) : granted;
      });
      const result = await e.run(["login"], { env: { RC_SERVER_URL: proxy.origin } });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/answered 200 without a usable token pair/);
      expect(e.emu.stats.jwtLogins).toBe(1); // never retried: each try would open one more session
      expect(e.emu.stats.liveSessions).toBe(sessionsLeft);
      expect(storedProfiles(e)).toEqual([]);
    });
  }

  it("Ctrl-C while the grant is under way: exit 130, nothing stored, the new session revoked", async () => {
    e = await startEmulatorEnv();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let tokenRequests = 0;
    proxy = await startTamperProxy(e.emu, async (req, ctx) => {
      if (!isTokenRequest(req.url.pathname) || !req.body.toString().includes("jwt-bearer")) return undefined;
      tokenRequests++;
      const granted = await ctx.forward();
      await held; // the answer arrives only after the user pressed Ctrl-C
      return granted;
    });
    const { child, result } = spawnCli(["login"], { env: { ...e.env, RC_SERVER_URL: proxy.origin } });
    await waitFor(() => tokenRequests === 1 && e?.emu.stats.jwtLogins === 1, 10_000, "the grant");
    child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const done = await result;
    expect(done.code, done.stderr).toBe(130);
    expect(storedProfiles(e)).toEqual([]);
    expect(e.emu.stats.liveSessions).toBe(0);
  });

  it("an absurd lifetime (expires_in 1e13) is clamped on receipt: token status keeps working", async () => {
    e = await startEmulatorEnv();
    proxy = await startTamperProxy(e.emu, async (req, ctx) => {
      if (!isTokenRequest(req.url.pathname)) return undefined;
      const granted = await ctx.forward();
      if (granted.status !== 200) return granted;
      return json({
        ...parseJson<Record<string, unknown>>(granted),
        expires_in: 1e13,
        refresh_token_expires_in: 1e13,
      });
    });
    const env = { RC_SERVER_URL: proxy.origin };
    expect((await e.run(["login"], { env })).code).toBe(0);
    const status = await e.run(["token", "status", "--json"], { env });
    expect(status.code, status.stderr).toBe(0);
    const reported = JSON.parse(status.stdout) as Record<string, string>;
    const year = (iso: string | undefined) => new Date(iso ?? "").getUTCFullYear();
    expect(year(reported.accessTokenExpiresAt)).toBeLessThanOrEqual(new Date().getUTCFullYear() + 1);
    expect(year(reported.refreshTokenExpiresAt)).toBeLessThanOrEqual(new Date().getUTCFullYear() + 2);
  });
});
