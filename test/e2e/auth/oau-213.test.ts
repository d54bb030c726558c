import { afterEach, describe, expect, it } from "vitest";
import { login as directLogin } from "../../emulator/harness.js";
import { runCli } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// "The token has not expired, why OAU-213?" Each cause provoked through the emulator, named by the recovery
// (one info line; json: cause, hint) and by `token status --verify`.

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function loggedIn(): Promise<EmulatorEnv> {
  e = await startEmulatorEnv();
  await e.login();
  return e;
}

interface Verified {
  code: number | null;
  status: { verified: boolean | null; cause: string | null; hint: string | null };
  stderr: string;
}

async function verify(env: EmulatorEnv): Promise<Verified> {
  const result = await env.run(["token", "status", "--verify", "--json", "--log-format", "json"]);
  return {
    code: result.code,
    status: JSON.parse(result.stdout) as Verified["status"],
    stderr: result.stderr,
  };
}

/** The info line of the recovery, parsed. */
function causeLine(stderr: string): Record<string, unknown> | undefined {
  return stderr
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.cause !== undefined);
}

describe("the cause of an OAU-213 is named", () => {
  it("a killed access token: only the access token was rejected (the refresh worked)", async () => {
    const env = await loggedIn();
    env.emu.control.killAccessTokens();
    const result = await verify(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.status).toMatchObject({ verified: true, cause: "access-token-rejected" });
    expect(causeLine(result.stderr)).toMatchObject({
      level: "info",
      cause: "access-token-rejected",
      errorCode: "OAU-213",
      hint: expect.any(String),
    });
    expect(env.emu.stats.refreshes).toBe(1);
    // The human form says it too.
    env.emu.control.killAccessTokens();
    const human = await env.run(["token", "status", "--verify"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^last 401: +access token rejected \(OAU-213\): only the access token/m);
    expect(human.stdout).toMatch(/^hint: +\S/m);
    expect(human.stderr).toContain("only the access token was rejected (the refresh worked)");
  });

  it("eviction by a sixth login of the same user and app: the session had ended", async () => {
    const env = await loggedIn();
    for (let i = 0; i < 5; i++) await directLogin(env.emu); // five more sessions: ours is the oldest
    const result = await verify(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.status).toMatchObject({ verified: true, cause: "session-ended" });
    expect(String(causeLine(result.stderr)?.msg)).toContain("a sixth login of the same user and app");
    expect(env.emu.stats.failedRefreshes).toBe(1);
  });

  it("a revoke elsewhere (the session killed server-side): the session had ended", async () => {
    const env = await loggedIn();
    env.emu.control.killSessions();
    const result = await verify(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.status).toMatchObject({ verified: true, cause: "session-ended" });
  });

  it("rotation by another process sharing the login: the store changed", async () => {
    const env = await loggedIn();
    env.emu.control.killAccessTokens();
    // Both processes read the same (killed) pair before either response arrives; the lock serialises their
    // recoveries: one refreshes, the other finds the pair it stored.
    env.emu.control.setFaults({ latencyMs: 1500 });
    const args = ["token", "status", "--verify", "--json"];
    const [first, second] = await Promise.all([
      runCli(args, { env: env.env }),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => runCli(args, { env: env.env })),
    ]);
    const causes = [first, second].map((r) => (JSON.parse(r.stdout) as Verified["status"]).cause).sort();
    expect(causes).toEqual(["access-token-rejected", "rotated-elsewhere"]);
    expect(env.emu.stats.refreshes).toBe(1);
    const rotated = [first, second].find((r) => r.stdout.includes("rotated-elsewhere"));
    expect(rotated?.stderr).toContain("another process sharing this login already rotated the token pair");
  });
});
