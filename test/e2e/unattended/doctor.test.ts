import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";

// `doctor` through the built CLI (npm run build first), as cron runs it: no terminal, no D-Bus address, the
// environment the test gives and nothing else. Each broken precondition turns its own check red with a fix.

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

interface CheckJson {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail: string;
  fix: string | null;
}

async function doctor(
  env: EmulatorEnv,
  where: { profile?: string; out?: string } = {},
  extra: NodeJS.ProcessEnv = {},
) {
  const args = [
    "--json",
    ...(where.profile ? ["--profile", where.profile] : []),
    "doctor",
    ...(where.out ? ["--out", where.out] : []),
  ];
  const r = await env.run(args, { env: extra, timeoutMs: 90_000 });
  const result = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; checks: CheckJson[] };
  const check = (name: string) => {
    const found = result.checks.find((c) => c.name === name);
    if (!found) throw new Error(`no ${name} check in ${r.stdout}`);
    return found;
  };
  return { ...r, result, check };
}

const names = (checks: CheckJson[]) => checks.map((c) => c.name);

describe("doctor", () => {
  it("all green: one line per check, exit 0, one Light call, no new login, no secret printed", async () => {
    e = await startEmulatorEnv();
    await e.login(["--profile", "night"]);
    e.emu.control.resetStats();
    const out = join(e.dir, "calls");
    const r = await e.run(["--profile", "night", "--json", "doctor", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      schema: 1,
      command: "doctor",
      exitCode: 0,
      profile: "night",
      out,
      ok: true,
    });
    expect(names(result.checks)).toEqual(["store", "server", "clock", "login", "permissions", "destination"]);
    for (const check of result.checks) {
      expect(check, check.name).toMatchObject({ ok: true, fix: null });
      expect(Object.keys(check)).toEqual(["name", "ok", "detail", "fix"]);
    }
    expect(result.checks[0].detail).toMatch(
      /^file store .*night\.json: a scheduled job of this user reads it$/,
    );
    expect(result.checks[5].detail).toBe(`${out}: writable (a probe written and removed)`);
    expect(e.emu.stats.jwtLogins).toBe(0);
    expect(e.emu.stats.requestsByGroup.light).toBe(1);

    const text = await e.run(["--profile", "night", "doctor"]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines.slice(0, 5).map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "ok store",
      "ok server",
      "ok clock",
      "ok login",
      "ok permissions",
    ]);
    expect(lines[5]).toMatch(/add --out DIR/);
    for (const secret of [
      e.emu.credentials.clientSecret,
      e.emu.credentials.jwt,
      ...e.emu.control.issuedTokens(),
    ])
      expect(r.stdout + r.stderr + text.stdout + text.stderr).not.toContain(secret);
  });

  it("not logged in: the store check names the login for this profile; login and permissions are skipped (exit 1)", async () => {
    e = await startEmulatorEnv();
    const r = await doctor(e, { profile: "work" });
    expect(r.code).toBe(1);
    expect(r.result).toMatchObject({ ok: false, exitCode: 1, error: "1 problem found: store" });
    expect(r.check("store")).toMatchObject({
      ok: false,
      detail: 'profile "work" is not logged in',
      fix: "rc-recordings --profile work login",
    });
    expect(r.check("server").ok).toBe(true);
    expect(r.check("login")).toMatchObject({ ok: false, skipped: true, fix: null });
    expect(r.check("permissions")).toMatchObject({ ok: false, skipped: true });
    expect(r.stderr.trim()).toBe("rc-recordings: 1 problem found: store");
    const text = await e.run(["--profile", "work", "doctor"]);
    expect(text.stdout).toMatch(
      /^PROBLEM +store +profile "work" is not logged in\n +fix: rc-recordings --profile work login$/m,
    );
    expect(text.stdout).toMatch(/^skipped +login +not checked: the store check failed$/m);
  });

  it("a revoked login is red with the login that fixes it; doctor never logs in by itself", async () => {
    e = await startEmulatorEnv();
    await e.login(["--profile", "work"]);
    expect((await e.run(["--profile", "work", "token", "revoke"])).code).toBe(0);
    e.emu.control.resetStats();
    const r = await doctor(e, { profile: "work" });
    expect(r.code).toBe(1);
    expect(r.check("login")).toMatchObject({
      ok: false,
      detail: `the login of profile "work" was ended with 'token revoke'`,
      fix: "rc-recordings --profile work login",
    });
    expect(e.emu.stats.jwtLogins).toBe(0);
  });

  it("the app's missing permissions are named, with how to grant them", async () => {
    const app = { clientId: "noAccountsApp01", clientSecret: "noAccountsSecret01" };
    e = await startEmulatorEnv({
      emulator: { apps: [{ ...app, permissions: ["ReadCallLog", "ReadCallRecording"] }] },
    });
    await e.run(["login"], {
      env: { RC_APP_CLIENT_ID: app.clientId, RC_APP_CLIENT_SECRET: app.clientSecret },
    });
    const r = await doctor(e);
    expect(r.code).toBe(1);
    expect(r.check("login")).toMatchObject({ ok: true });
    expect(r.check("permissions")).toMatchObject({
      ok: false,
      detail: "the app lacks ReadAccounts (the token's scope: ReadCallLog ReadCallRecording)",
    });
    expect(r.check("permissions").fix).toContain("rc-recordings token revoke && rc-recordings login");
  });

  it("a clock more than a minute off the server's Date is red", async () => {
    e = await startEmulatorEnv();
    await e.login();
    e.emu.control.setFaults({ clockSkewMs: 5 * 60_000 });
    const r = await doctor(e);
    expect(r.code).toBe(1);
    expect(r.check("clock").detail).toMatch(/^this machine's clock is 30\d s behind the server's$/);
    expect(r.check("clock").fix).toMatch(/NTP/);
    e.emu.control.setFaults({ clockSkewMs: 20_000 });
    expect((await doctor(e)).check("clock")).toMatchObject({ ok: true });
  });

  it("a server that does not answer, and one whose certificate is not trusted, are red with their fixes", async () => {
    e = await startEmulatorEnv({ segregated: true });
    await e.login();
    const { NODE_EXTRA_CA_CERTS: _ca, ...untrusting } = e.env;
    const r = await runCli(["--json", "doctor"], { env: untrusting, timeoutMs: 90_000 });
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout).checks as CheckJson[];
    const server = checks.find((c) => c.name === "server");
    expect(server?.detail).toMatch(/TLS certificate of platform\.ringcentral\.biz:\d+ is not trusted/);
    expect(server?.fix).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(checks.find((c) => c.name === "clock")).toMatchObject({ skipped: true });

    await e.emu.stop();
    const down = await doctor(e);
    expect(down.code).toBe(1);
    expect(down.check("server").detail).toMatch(/ECONNREFUSED/);
    expect(down.check("server").fix).toMatch(/^check the server URL/);
    expect(down.check("login").ok).toBe(false);
  });

  it("a token endpoint that never answers costs at most the check's bound, never a hang", async () => {
    e = await startEmulatorEnv();
    await e.login();
    e.emu.control.expireAccessTokens(); // the Light call needs a refresh...
    e.emu.control.setFaults({ silentTokenEndpoint: true }); // ...which never comes
    const started = Date.now();
    const r = await doctor(e);
    expect(r.code).toBe(1);
    expect(r.check("login").detail).toBe("no answer within 20 s");
    expect(r.check("permissions")).toMatchObject({ skipped: true });
    expect(Date.now() - started).toBeLessThan(80_000);
  }, 120_000);

  it("--out that the job cannot write, and a bucket that does not exist, are red", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const file = join(e.dir, "a-file");
    writeFileSync(file, "x");
    const folder = await doctor(e, { out: file });
    expect(folder.code).toBe(1);
    expect(folder.check("destination")).toMatchObject({
      ok: false,
      detail: `--out ${file} is a file, not a folder`,
      fix: "name a folder the job's user may write (--out), or fix the folder's permissions",
    });
    const s3 = await s3ServerForTest(["calls"]);
    const good = await doctor(e, { out: "s3://calls/archive" }, s3.env);
    expect(good.check("destination"), good.stderr).toMatchObject({ ok: true });
    expect(good.code).toBe(0);
    const missing = await doctor(e, { out: "s3://no-such-bucket/archive" }, s3.env);
    expect(missing.code).toBe(1);
    expect(missing.check("destination").detail).toMatch(/no-such-bucket/);
    expect(missing.check("destination").fix).toMatch(/S3 credentials/);
  });
});
