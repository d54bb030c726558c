import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// `logout` and `token list` through the built CLI (npm run build first), file store (no keychain needed).

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const secretsOf = (env: EmulatorEnv) => [env.emu.credentials.clientSecret, env.emu.credentials.jwt];

describe("logout", () => {
  it("revokes the session and forgets the login and the app credentials; a second logout finds nothing (exit 0)", async () => {
    e = await startEmulatorEnv();
    await e.login(["--profile", "work"]);
    const file = join(e.profilesDir, "work.json");
    expect(existsSync(file)).toBe(true);

    const out = await e.run(["--profile", "work", "logout"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(
      /^profile "work": revoked its session; forgot its token pair and app credentials \(file store: .+work\.json\)$/m,
    );
    expect(e.emu.stats.revokes).toBe(1);
    expect(existsSync(file)).toBe(false);
    // Forgotten for good: nothing may log in again from the stored app credentials, the runs need a login.
    const run = await e.run(["--profile", "work", "download", "--out", join(e.dir, "calls")], {
      env: { RC_APP_CLIENT_SECRET: "", RC_USER_JWT: "" },
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("rc-recordings --profile work login");

    const again = await e.run(["--profile", "work", "--json", "logout"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      profile: "work",
      forgotten: false,
      store: null,
      revoked: false,
      reason: "nothing stored",
    });
    expect(e.emu.stats.revokes).toBe(1);
  });

  it("after token revoke it forgets the app credentials without another revoke; --json says what it did", async () => {
    e = await startEmulatorEnv();
    await e.login();
    expect((await e.run(["token", "revoke"])).code).toBe(0);
    const out = await e.run(["--json", "logout"]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      profile: "default",
      forgotten: true,
      store: "file",
      revoked: false,
    });
    expect(e.emu.stats.revokes).toBe(1);
    expect(readdirSync(e.profilesDir).filter((name) => name.endsWith(".json"))).toEqual([]);
  });

  it("a revoke that fails on the server forgets nothing (exit 1), so it can be tried again", async () => {
    e = await startEmulatorEnv();
    await e.login();
    e.emu.control.setFaults({ tokenEndpointError: { status: 503 } });
    const out = await e.run(["logout"], { timeoutMs: 120_000 });
    expect(out.code).toBe(1);
    expect(existsSync(join(e.profilesDir, "default.json"))).toBe(true);
    e.emu.control.setFaults({});
    expect((await e.run(["logout"])).code).toBe(0);
    expect(existsSync(join(e.profilesDir, "default.json"))).toBe(false);
  }, 180_000);

  it("a damaged record is removed without a revoke (no run could use it)", async () => {
    e = await startEmulatorEnv();
    await e.login();
    writeFileSync(join(e.profilesDir, "default.json"), "{ not json");
    const out = await e.run(["logout"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(
      /^warning: the token store .* is corrupt or unreadable \(not valid JSON\); removing it/m,
    );
    expect(existsSync(join(e.profilesDir, "default.json"))).toBe(false);
    expect(e.emu.stats.revokes).toBe(0);
  });
});

describe("token list", () => {
  it("lists every profile with store, server, login and refresh-token expiry, never a secret", async () => {
    e = await startEmulatorEnv();
    await e.login();
    await e.login(["--profile", "work"]);
    expect((await e.run(["--profile", "work", "token", "revoke"])).code).toBe(0);
    // A profile the config file names but that never logged in is listed too.
    const config = join(e.dir, "config.toml");
    writeFileSync(config, '[profiles.night]\nout = "/srv/calls"\n');
    const env = { RC_RECORDINGS_CONFIG: config };

    const json = await e.run(["--json", "token", "list"], { env });
    expect(json.code, json.stderr).toBe(0);
    const { profiles } = JSON.parse(json.stdout);
    expect(profiles).toEqual([
      {
        profile: "default",
        store: "file",
        server: e.emu.server,
        loggedIn: true,
        refreshTokenExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        problem: null,
      },
      {
        profile: "night",
        store: null,
        server: null,
        loggedIn: false,
        refreshTokenExpiresAt: null,
        problem: 'profile "night" is not logged in',
      },
      {
        profile: "work",
        store: "file",
        server: e.emu.server,
        loggedIn: false,
        refreshTokenExpiresAt: null,
        problem: `the login of profile "work" was ended with 'token revoke'`,
      },
    ]);
    const text = await e.run(["token", "list"], { env });
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PROFILE +STORE +SERVER +LOGGED IN +REFRESH TOKEN$/);
    expect(lines[1]).toMatch(/^default +file +http\S+ +yes +expires .* \(in 7 d\)$/);
    expect(lines[3]).toMatch(/^work +file +http\S+ +no +the login of profile "work" was ended/);
    for (const secret of secretsOf(e)) expect(json.stdout + text.stdout + text.stderr).not.toContain(secret);
    expect(e.emu.stats.requestsByGroup.light).toBe(0);
  });

  it("with nothing stored it says how to log in (exit 0)", async () => {
    e = await startEmulatorEnv();
    const text = await e.run(["token", "list"]);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain("no profile is stored yet; log in with: rc-recordings login");
    expect(JSON.parse((await e.run(["--json", "token", "list"])).stdout)).toEqual({ profiles: [] });
  });
});
