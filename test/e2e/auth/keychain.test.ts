import { execFile } from "node:child_process";
import { createDecipheriv, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, type TestContext } from "vitest";
import type { ProfileRecord } from "../../../src/auth/profile.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";
import {
  KEYCHAIN_REQUIRED,
  keychainAccounts,
  keychainAvailability,
  removeKeychainAccount,
} from "../../helpers/keychain.js";

// Against a REAL Secret Service. Locally: bash .ci/with-secret-service.sh npx vitest run test/e2e/auth
// Without one these tests skip with the reason, unless RC_RECORDINGS_REQUIRE_KEYCHAIN=1 (CI) makes that a failure.

const exec = promisify(execFile);

let e: EmulatorEnv | undefined;
let profile = "";
afterEach(async () => {
  for (const account of profile ? await keychainAccounts(profile) : []) await removeKeychainAccount(account);
  await e?.stop();
  e = undefined;
});

async function requireKeychain(ctx: TestContext): Promise<void> {
  const { available, reason } = await keychainAvailability();
  if (available) return;
  if (KEYCHAIN_REQUIRED)
    throw new Error(`RC_RECORDINGS_REQUIRE_KEYCHAIN=1 but the keychain is unavailable: ${reason}`);
  console.warn(`keychain test skipped: ${reason}`);
  ctx.skip(reason);
}

/** A test env using the DEFAULT store (no RC_RECORDINGS_STORE) and a profile name no other test uses. */
async function keychainEnv(): Promise<EmulatorEnv> {
  profile = `kc-${randomBytes(4).toString("hex")}`;
  const env = await startEmulatorEnv({ store: "default" });
  env.env.RC_RECORDINGS_PROFILE = profile;
  return env;
}

const withBus = () => ({ DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS ?? "" });

/** A runtime folder below `dir` whose `bus` is the test's session bus, as /run/user/<uid>/bus would be. */
function runtimeDirWithBus(dir: string): string {
  const bus = /unix:path=([^,]+)/.exec(process.env.DBUS_SESSION_BUS_ADDRESS ?? "")?.[1];
  if (!bus)
    throw new Error(`the test bus is not a unix:path address: ${process.env.DBUS_SESSION_BUS_ADDRESS}`);
  const runtime = join(dir, "runtime");
  mkdirSync(runtime);
  symlinkSync(bus, join(runtime, "bus"));
  return runtime;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Open the sealed record with the key from the Secret Service, as an independent check of the format. */
async function unsealWithKeychainKey(path: string, profileName: string): Promise<ProfileRecord> {
  const envelope = JSON.parse(readFileSync(path, "utf8"));
  const { stdout } = await exec("secret-tool", [
    "lookup",
    "service",
    "rc-recordings",
    "username",
    `${profileName}:${envelope.keyId}`,
  ]);
  const key = Buffer.from(stdout.trim(), "base64");
  expect(key).toHaveLength(32);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"));
  decipher.setAAD(Buffer.from(profileName));
  decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
  const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, "base64")), decipher.final()]);
  return JSON.parse(plain.toString("utf8"));
}

describe("keychain store against a real Secret Service", () => {
  it("keeps one key in the keychain and nothing readable in plain files", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    const login = await e.run(["login"], { env: withBus() });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).not.toMatch(/warning/);
    expect(login.stderr).toMatch(/kept in the keychain store/);

    const sealed = join(e.profilesDir, `${profile}.sealed.json`);
    const accounts = await keychainAccounts(profile);
    expect(accounts).toEqual([`${profile}:${JSON.parse(readFileSync(sealed, "utf8")).keyId}`]);

    const record = await unsealWithKeychainKey(sealed, profile);
    if (record.login.state !== "active") throw new Error("expected an active login in the sealed record");
    const secrets = [
      record.login.tokens.accessToken,
      record.login.tokens.refreshToken,
      e.emu.credentials.clientSecret,
      e.emu.credentials.jwt,
    ];
    for (const file of filesUnder(e.dir)) {
      const text = readFileSync(file, "utf8");
      for (const secret of secrets) expect(text, file).not.toContain(secret);
    }
    expect(statSync(sealed).mode & 0o777).toBe(0o600);
  });

  it("later runs read the pair through the keychain without logging in again", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    expect((await e.run(["login"], { env: withBus() })).code).toBe(0);
    e.emu.control.killAccessTokens(); // forces a refresh, i.e. a re-seal with the same key
    const status = await e.run(["token", "status", "--verify", "--json"], { env: withBus() });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ store: "keychain", loggedIn: true, verified: true });
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.refreshes).toBe(1);
    expect(await keychainAccounts(profile)).toHaveLength(1);
  });

  it("a keychain that is unreachable later is an error (exit 1), never 'not logged in'", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    expect((await e.run(["login"], { env: withBus() })).code).toBe(0);
    const status = await e.run(["token", "status"]); // no D-Bus session this time
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/keychain is not reachable/);
    expect(status.stderr).not.toMatch(/not logged in/);
    // What cron meets: one line that names the fix for this very profile, and the --json result.
    const nightly = await e.run(["--json", "download", "--out", join(e.dir, "out")], {
      env: { XDG_RUNTIME_DIR: join(e.dir, "no-runtime-dir") },
    });
    expect(nightly.code).toBe(1);
    expect(nightly.stderr.trim().split("\n")).toHaveLength(1);
    expect(nightly.stderr).toContain(`log in with: rc-recordings --profile ${profile} --store file login`);
    expect(JSON.parse(nightly.stdout)).toMatchObject({ exitCode: 1, profile });
  });

  it("a job without DBUS_SESSION_BUS_ADDRESS finds the user's bus at $XDG_RUNTIME_DIR/bus (/run/user/UID/bus)", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    expect((await e.run(["login"], { env: withBus() })).code).toBe(0);
    const runtime = runtimeDirWithBus(e.dir);
    const status = await e.run(["token", "status", "--verify"], { env: { XDG_RUNTIME_DIR: runtime } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/verified: +yes/);
  });
});

describe("doctor and a keychain profile", () => {
  it("a login a cron job cannot reach is red, with the --store file login of its profile; the user's bus makes it green", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    expect((await e.run(["login"], { env: withBus() })).code).toBe(0);
    // At a desktop terminal (the bus address set), but the user's bus socket is not where cron would look.
    const noBus = await e.run(["--json", "doctor"], {
      env: { ...withBus(), XDG_RUNTIME_DIR: join(e.dir, "no-runtime-dir") },
    });
    expect(noBus.code).toBe(1);
    const checks = JSON.parse(noBus.stdout).checks;
    expect(checks[0]).toMatchObject({ name: "store", ok: false });
    expect(checks[0].detail).toMatch(
      /a scheduled job \(cron: no D-Bus session\) cannot open profile .*no-runtime-dir\/bus does not exist/,
    );
    expect(checks[0].fix).toContain(`rc-recordings --profile ${profile} --store file login`);

    const runtime = runtimeDirWithBus(e.dir);
    const green = await e.run(["--json", "doctor"], { env: { XDG_RUNTIME_DIR: runtime } });
    expect(green.code, green.stdout).toBe(0);
    expect(JSON.parse(green.stdout).checks[0].detail).toContain(`through the user's bus at ${runtime}/bus`);
  });
});

describe("logout of a keychain profile", () => {
  it("removes the sealed file and its key from the Secret Service; token list shows nothing left", async (ctx) => {
    await requireKeychain(ctx);
    e = await keychainEnv();
    expect((await e.run(["login"], { env: withBus() })).code).toBe(0);
    expect(await keychainAccounts(profile)).toHaveLength(1);
    const list = await e.run(["--json", "token", "list"], { env: withBus() });
    expect(JSON.parse(list.stdout).profiles).toMatchObject([{ profile, store: "keychain", loggedIn: true }]);

    const out = await e.run(["logout"], { env: withBus() });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain("(keychain store: ");
    expect(await keychainAccounts(profile)).toEqual([]);
    expect(readdirSync(e.profilesDir).filter((name) => name.startsWith(profile))).toEqual([]);
    expect(e.emu.stats.revokes).toBe(1);
    expect(JSON.parse((await e.run(["--json", "token", "list"])).stdout)).toEqual({ profiles: [] });
  });
});

describe("keychain fallback (needs no Secret Service)", () => {
  it("without a D-Bus session, the default store falls back to the file with ONE warning", async () => {
    e = await keychainEnv();
    const login = await e.run(["login"]); // DBUS_SESSION_BUS_ADDRESS is not passed
    expect(login.code, login.stderr).toBe(0);
    const file = join(e.profilesDir, `${profile}.json`);
    const warnings = login.stderr.split("\n").filter((line) => line.startsWith("warning:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toContain("--store file");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // The profile is now recorded as a file-store profile: later runs neither probe nor warn.
    const status = await e.run(["token", "status", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).store).toBe("file");
    expect(status.stderr).toBe("");
  });

  it("--store file says nothing about the keychain", async () => {
    e = await keychainEnv();
    const login = await e.run(["--store", "file", "login"]);
    expect(login.code).toBe(0);
    expect(login.stderr).not.toMatch(/warning/);
  });
});
