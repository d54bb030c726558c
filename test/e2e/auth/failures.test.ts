import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CliResult } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const storePath = (env: EmulatorEnv) => join(env.profilesDir, "default.json");
const NOT_SET = { RC_APP_CLIENT_SECRET: "", RC_USER_JWT: "" };

describe("auth failures through the built CLI", () => {
  it.each([
    ["truncated", (text: string) => text.slice(0, text.length / 3)],
    ["empty", () => ""],
    ["garbage", () => "\u0000\u0001not json at all"],
  ])("a %s store file: one clear line naming the file, exit 4, no crash", async (_name, damage) => {
    e = await startEmulatorEnv();
    await e.login();
    writeFileSync(storePath(e), damage(readFileSync(storePath(e), "utf8")));
    for (const args of [
      ["token", "status"],
      ["token", "status", "--verify"],
      ["token", "revoke"],
    ]) {
      const result = await e.run(args);
      expect(result.code, args.join(" ")).toBe(4);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(storePath(e));
      expect(lines[0]).toMatch(/corrupt or unreadable.*run: rc-recordings login/);
      expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    }
    // `login` replaces the broken store (with a warning) and everything works again.
    const relogin = await e.run(["login"]);
    expect(relogin.code, relogin.stderr).toBe(0);
    expect(relogin.stderr.match(/cannot be read; this login replaces it/g)).toHaveLength(1);
    expect((await e.run(["token", "status", "--verify"])).code).toBe(0);
  });

  it.each([
    [
      "a wrong JWT",
      { RC_USER_JWT: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3cm9uZyJ9.not-a-known-jwt" },
      /Invalid JWT token/,
    ],
    ["a wrong client secret", { RC_APP_CLIENT_SECRET: "wrong-client-secret-000" }, /Invalid client/],
  ])("login with %s: one clear line, exit 4, nothing stored", async (_name, env, message) => {
    e = await startEmulatorEnv();
    const result = await e.run(["login"], { env });
    expect(result.code).toBe(4);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/login rejected/);
    expect(lines[0]).toMatch(message);
    expect(
      existsSync(e.profilesDir) ? readdirSync(e.profilesDir).filter((f) => !f.endsWith(".lock")) : [],
    ).toEqual([]);
    expect(e.emu.stats.liveSessions).toBe(0);
  });

  it("missing secrets and no terminal: exit 2 naming what is missing, no token request", async () => {
    e = await startEmulatorEnv();
    const result = await e.run(["login"], { env: NOT_SET });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing client secret \(--client-secret-file or RC_APP_CLIENT_SECRET\)/);
    expect(result.stderr).toMatch(/JWT credential \(--jwt-file or RC_USER_JWT\)/);
    expect(e.emu.stats.requestsByGroup.auth).toBe(0);
  });

  it("reads secrets from files and stdin instead of the environment", async () => {
    e = await startEmulatorEnv({ credentialsInEnv: false });
    const secretFile = join(e.dir, "secret.txt");
    writeFileSync(secretFile, `${e.emu.credentials.clientSecret}\n`, { mode: 0o600 });
    const result = await e.run(
      [
        "login",
        "--server",
        e.emu.server,
        "--client-id",
        e.emu.credentials.clientId,
        "--client-secret-file",
        secretFile,
        "--jwt-file",
        "-",
      ],
      { input: `${e.emu.credentials.jwt}\n` },
    );
    expect(result.code, result.stderr).toBe(0);
    // Unattended runs need no credentials at all afterwards.
    expect((await e.run(["token", "status", "--verify"])).code).toBe(0);
  });

  it("never prints a token, the JWT or the client secret, even with --verbose", async () => {
    const env0 = await startEmulatorEnv();
    e = env0;
    const outputs: CliResult[] = [];
    const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const result = await env0.run(["--verbose", ...args], { env });
      outputs.push(result);
      return result;
    };
    await run(["login"]);
    const first = JSON.parse(readFileSync(storePath(e), "utf8")).login.tokens;
    e.emu.control.killAccessTokens();
    await run(["token", "status", "--verify", "--json"]);
    const second = JSON.parse(readFileSync(storePath(e), "utf8")).login.tokens;
    e.emu.control.expireRefreshTokens();
    e.emu.control.expireAccessTokens();
    await run(["token", "status", "--verify"]);
    const third = JSON.parse(readFileSync(storePath(e), "utf8")).login.tokens;
    await run(["login", "--force"]);
    await run(["token", "revoke", "--json"]);
    await run(["login"], { RC_APP_CLIENT_SECRET: "wrong-client-secret-000" });
    await run(["login"], { RC_USER_JWT: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3cm9uZyJ9.not-a-known-jwt" });

    const secrets = [
      e.emu.credentials.clientSecret,
      e.emu.credentials.jwt,
      "wrong-client-secret-000",
      "not-a-known-jwt",
      ...[first, second, third].flatMap((t) => [t.accessToken, t.refreshToken]),
      ...e.emu.control.issuedTokens(), // every pair the server handed out, the --force login's included
    ];
    const all = outputs.map((o) => o.stdout + o.stderr).join("\n");
    expect(all).toMatch(/debug:/); // verbose really was on
    for (const secret of [...secrets, "Bearer ", "eyJ"]) expect(all).not.toContain(secret);
  });
});
