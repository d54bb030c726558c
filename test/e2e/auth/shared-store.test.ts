import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { type CliResult, spawnCli } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";
import { type ConditionalFront, startConditionalFront } from "../../helpers/s3-conditional-front.js";
import { type S3FaultPlan, startS3FaultProxy } from "../../helpers/s3-fault-proxy.js";
import { type S3Server, startS3Server } from "../../helpers/s3-server.js";
import { sigtermOnce } from "../../helpers/stall.js";

// One login for many machines: three HOMEs (each its own config folder, as three pods or servers would have)
// share `--store s3://…` on a real S3-compatible server that honours conditional writes as AWS does. The
// emulator counts every JWT login and refresh.

const STORE = "s3://tokens/team-a";
const KEY = randomBytes(32).toString("base64");

let e: EmulatorEnv | undefined;
let s3: S3Server | undefined;
let front: ConditionalFront | undefined;
afterEach(async () => {
  await e?.stop();
  await front?.stop();
  await s3?.stop();
  e = undefined;
  front = undefined;
  s3 = undefined;
});

interface Machine {
  name: string;
  home: string;
  env: NodeJS.ProcessEnv;
  out: string;
}

async function setup() {
  s3 = await startS3Server(["tokens"]);
  front = await startConditionalFront(s3.endpoint);
  e = await startEmulatorEnv({ store: "default" });
  const env = e;
  const shared = { ...s3.env, AWS_ENDPOINT_URL_S3: front.endpoint };
  const machine = (name: string, extra: NodeJS.ProcessEnv = {}): Machine => {
    const home = join(env.dir, name);
    mkdirSync(join(home, "config"), { recursive: true });
    return {
      name,
      home,
      out: join(home, "out"),
      env: {
        ...env.env,
        ...shared,
        HOME: home,
        XDG_CONFIG_HOME: join(home, "config"),
        RC_RECORDINGS_STORE: STORE,
        RC_RECORDINGS_STORE_KEY: KEY,
        ...extra,
      },
    };
  };
  const run = (m: Machine, args: readonly string[]) => env.run(args, { env: m.env, timeoutMs: 120_000 });
  return { e: env, machine, run };
}

/** Every file below `dir`, read as text. */
function filesBelow(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, text: readFileSync(path, "utf8") };
    });
}

describe("a shared token store (--store s3://…)", () => {
  it("token list reads the shared store's profiles; logout forgets a profile for every machine", async () => {
    const { e, machine, run } = await setup();
    const [a, b] = [machine("a"), machine("b")];
    expect((await run(a, ["login"])).code).toBe(0);
    expect((await run(a, ["--profile", "night", "login"])).code).toBe(0);
    const list = await run(b, ["--json", "token", "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).profiles).toMatchObject([
      { profile: "default", store: "s3", server: e.emu.server, loggedIn: true },
      { profile: "night", store: "s3", loggedIn: true },
    ]);
    const out = await run(b, ["--profile", "night", "logout"]);
    expect(out.code, out.stderr).toBe(0);
    expect(e.emu.stats.revokes).toBe(1);
    const after = await run(a, ["--json", "token", "list"]);
    expect(JSON.parse(after.stdout).profiles.map((p: { profile: string }) => p.profile)).toEqual(["default"]);
    expect((await run(a, ["--profile", "night", "token", "status"])).code).toBe(4);
  }, 120_000); // an S3 server and six CLI runs: far over the default 30 s on a loaded machine

  it("three machines, many runs, two refreshing at the same moment: exactly one JWT login", async () => {
    const { e, machine, run } = await setup();
    const [a, b, c] = [machine("a"), machine("b"), machine("c")];

    const first = await run(a, ["login"]);
    expect(first.code, first.stderr).toBe(0);
    for (const m of [b, c]) {
      const again = await run(m, ["login"]);
      expect(again.code, again.stderr).toBe(0); // the pair in the bucket serves: no token request
    }
    for (const m of [a, b, c]) {
      const status = await run(m, ["token", "status", "--verify", "--json"]);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ store: "s3", loggedIn: true, verified: true });
      const download = await run(m, ["download", "--out", m.out, "--json"]);
      expect(download.code, download.stderr).toBe(0);
    }
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.refreshes).toBe(0);

    // The server drops the access token: the next request of every machine gets a 401 at once. Two machines
    // recover at the same moment: one refreshes under the bucket's lock, the other re-reads the store under it
    // and adopts the new pair.
    e.emu.control.expireAccessTokens();
    const together = [b, c].map((m) =>
      spawnCli(["download", "--out", m.out, "--json"], { env: m.env, timeoutMs: 180_000 }),
    );
    const results: CliResult[] = await Promise.all(together.map((t) => t.result));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const stderr = results.map((r) => r.stderr).sort();
    expect(stderr.filter((text) => /the refresh worked/.test(text))).toHaveLength(1);
    // Under load the second machine may start only after the first wrote the renewed pair: it then meets no 401
    // at all and says nothing. What must hold either way: one refresh, never a second one, never a new login.
    expect(stderr.filter((text) => /already rotated the token pair/.test(text)).length).toBeLessThanOrEqual(
      1,
    );
    expect(e.emu.stats.refreshes).toBe(1);
    const third = await run(a, ["token", "status", "--verify"]);
    expect(third.code, third.stderr).toBe(0);
    expect(e.emu.stats.refreshes).toBe(1); // machine a found the renewed pair in the bucket
    expect(e.emu.stats.jwtLogins).toBe(1);

    // Only ciphertext in the bucket; nothing of the login on any machine's disk.
    const secrets = [...e.emu.control.issuedTokens(), e.emu.credentials.jwt, e.emu.credentials.clientSecret];
    const objects = await (s3 as S3Server).objects("tokens");
    expect([...objects.keys()]).toEqual(["team-a/profiles/default.sealed.json"]); // the lock is released
    for (const key of objects.keys()) {
      const text = await (s3 as S3Server).text("tokens", key);
      expect(JSON.parse(text)).toMatchObject({ format: "rc-recordings/sealed-profile" });
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/accessToken|refreshToken|clientSecret|jwt/);
    }
    for (const m of [a, b, c]) {
      for (const file of filesBelow(join(m.home, "config"))) {
        for (const secret of secrets) expect(file.text, file.path).not.toContain(secret);
      }
    }
  }, 360_000);

  it("a wrong key is one line, exit 2, and never a new login", async () => {
    const { e, machine, run } = await setup();
    expect((await run(machine("a"), ["login"])).code).toBe(0);
    const stranger = machine("d", { RC_RECORDINGS_STORE_KEY: randomBytes(32).toString("base64") });
    for (const args of [["login"], ["token", "status"], ["download", "--out", stranger.out]]) {
      const r = await run(stranger, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toContain("cannot open the store: wrong key");
    }
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.refreshes).toBe(0);
  }, 120_000);

  it("a missing key is exit 2 naming the variable; $CREDENTIALS_DIRECTORY/rc-recordings-store-key serves too", async () => {
    const { e, machine, run } = await setup();
    const bare = machine("e", { RC_RECORDINGS_STORE_KEY: undefined });
    for (const args of [["login"], ["token", "status"]]) {
      const r = await run(bare, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("RC_RECORDINGS_STORE_KEY");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(e.emu.stats.jwtLogins).toBe(0);

    const credentials = join(bare.home, "credentials");
    mkdirSync(credentials);
    writeFileSync(join(credentials, "rc-recordings-store-key"), `${KEY}\n`, { mode: 0o600 });
    const systemd = machine("f", { RC_RECORDINGS_STORE_KEY: undefined, CREDENTIALS_DIRECTORY: credentials });
    const login = await run(systemd, ["login"]);
    expect(login.code, login.stderr).toBe(0);
    const status = await run(machine("g"), ["token", "status"]); // the same key from the variable opens it
    expect(status.code, status.stderr).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(1);
  }, 120_000);
});

describe("a shared store that stops answering (requests read, never answered)", () => {
  it("SIGTERM ends a command waiting on the record's GET or the lock's PUT at once (exit 130)", async () => {
    const { e, machine, run } = await setup();
    const plan: S3FaultPlan = {};
    const proxy = await startS3FaultProxy(front?.endpoint ?? "", plan);
    onTestFinished(() => proxy.stop());
    const a = machine("a", { AWS_ENDPOINT_URL_S3: proxy.endpoint });
    expect((await run(a, ["login"])).code).toBe(0);
    const cases: [string, S3FaultPlan, string[]][] = [
      [
        "the record's GET",
        { stall: /profiles\/default\.sealed\.json/, stallMethod: "GET" },
        ["token", "status"],
      ],
      ["the lock's PUT", { stall: /profiles\/default\.lock\.json/, stallMethod: "PUT" }, ["logout"]],
    ];
    for (const [what, stall, command] of cases) {
      Object.assign(plan, stall);
      const held = proxy.faults.stalled;
      const spawned = spawnCli(command, { env: a.env, timeoutMs: 120_000 });
      const r = await sigtermOnce(spawned, () => proxy.faults.stalled > held, what);
      expect(r.signal, `${what}: ${r.stderr}`).toBeNull();
      expect(r.code, `${what}: ${r.stderr}`).toBe(130);
      // Was: the shared store's client had no signal: 60 s of silence per try, up to 6 tries.
      expect(r.ms, `${what}: ${r.stderr}`).toBeLessThan(10_000);
    }
    expect(e.emu.stats.revokes).toBe(0); // logout stopped before its revoke
  }, 150_000);
});
