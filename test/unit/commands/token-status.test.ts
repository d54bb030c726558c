import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/errors.js";
import { login } from "../../emulator/harness.js";
import { type Emulator, start } from "../../emulator/index.js";
import { APP, activeRecord, FakeEndpoint, MemoryStore, pair } from "../auth/fakes.js";
import { run } from "./harness.js";

let emu: Emulator;
beforeAll(async () => {
  emu = await start({ rateLimits: false });
});
afterAll(() => emu.stop());

const JSON_FIELDS = [
  "accessTokenExpiresAt",
  "cause",
  "hint",
  "loggedIn",
  "ownerId",
  "profile",
  "refreshTokenExpiresAt",
  "scope",
  "server",
  "store",
  "verified",
];

describe("token status", () => {
  it("reports a stored login as the documented JSON fields without any network request", async () => {
    const now = Date.now();
    const tokens = pair(now);
    const r = await run(["--json", "token", "status"], { store: new MemoryStore(activeRecord(tokens)) });
    expect(r.code).toBe(ExitCode.ok);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(JSON_FIELDS);
    expect(json).toMatchObject({
      profile: "default",
      server: APP.server,
      store: "file",
      loggedIn: true,
      ownerId: "101",
      verified: null,
      cause: null,
      hint: null,
      accessTokenExpiresAt: new Date(tokens.accessTokenExpiresAt).toISOString(),
    });
    expect(r.asked).toEqual(["auth:default"]);
  });

  it("prints human lines without --json and never a token", async () => {
    const tokens = pair(Date.now());
    const r = await run(["token", "status"], { store: new MemoryStore(activeRecord(tokens)) });
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout).toMatch(/^profile: +default$/m);
    expect(r.stdout).toMatch(/^logged in: +yes$/m);
    const printed = r.stdout + r.stderr.join("\n");
    for (const secret of [tokens.accessToken, tokens.refreshToken, APP.clientSecret, APP.jwt])
      expect(printed).not.toContain(secret);
  });

  /** A stored login for the emulator's app; the pair is the emulator's own unless given. */
  const storedFor = (tokens: Partial<ReturnType<typeof pair>>) =>
    new MemoryStore(activeRecord({ ...pair(Date.now()), ...tokens }, { ...APP, server: emu.server }));

  it("--verify makes one API call through the profile's session and reports verified", async () => {
    const { access_token, refresh_token } = await login(emu);
    const before = emu.stats.snapshot();
    const r = await run(["--json", "token", "status", "--verify"], {
      store: storedFor({ accessToken: access_token, refreshToken: refresh_token }),
    });
    expect(r.code).toBe(ExitCode.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true, loggedIn: true });
    expect(r.asked).toEqual(["auth:default", "api"]);
    expect(emu.stats.snapshot().requestsByGroup.light - before.requestsByGroup.light).toBe(1);
  });

  it("--verify when the server keeps rejecting renewed tokens: exit 4, verified false", async () => {
    const endpoint = new FakeEndpoint(Date.now); // renews into pairs the emulator has never issued
    const r = await run(["--json", "token", "status", "--verify"], {
      store: storedFor({ accessToken: "not-a-token-the-server-knows" }),
      endpoint,
    });
    expect(r.code).toBe(ExitCode.loginRequired);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, loggedIn: false });
    expect(endpoint.refreshGrants).toBeGreaterThan(0);
    expect(r.stderr.at(-1)).toMatch(/keeps rejecting fresh tokens.*run: rc-recordings login$/);
  });
});
