import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliResult, runCli, tempDir } from "../../helpers/cli.js";

// The config file through the built CLI: per-profile defaults, flags and the environment winning over it,
// `config show` naming each value's source, and a bad file as one usage line. No network is needed: a dry run
// against a folder that is not logged in stops at the login (exit 4) after the options are resolved, and
// `config show` resolves without any request.

const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function setup(toml: string) {
  const dir = tempDir("rcr-config-");
  dirs.push(dir);
  const configHome = join(dir.path, "config");
  mkdirSync(join(configHome, "rc-recordings"), { recursive: true });
  writeFileSync(join(configHome, "rc-recordings", "config.toml"), toml);
  const env = { XDG_CONFIG_HOME: configHome };
  return {
    run: (args: readonly string[], extra: NodeJS.ProcessEnv = {}) =>
      runCli(args, { env: { ...env, ...extra } }),
  };
}

interface Shown {
  profile: string;
  file: string | null;
  settings: { key: string; value: unknown; source: string; section?: string }[];
}
const setting = (r: CliResult, key: string) =>
  (JSON.parse(r.stdout) as Shown).settings.find((s) => s.key === key);

const FILE = `
[defaults]
store = "file"
concurrency = 2
out = "/srv/default-calls"

[profiles.acme]
out = "s3://acme-archive/calls"
template = "{date}/{recordingId}"
server = "https://platform.ringcentral.biz"
`;

describe("the config file", () => {
  it("gives each profile its defaults: the profile's section first, then [defaults], then the built-in default", async () => {
    const { run } = setup(FILE);
    const acme = await run(["--profile", "acme", "--json", "config", "show"]);
    expect(acme.code, acme.stderr).toBe(0);
    expect(setting(acme, "out")).toMatchObject({
      value: "s3://acme-archive/calls",
      source: "file",
      section: "[profiles.acme]",
    });
    expect(setting(acme, "concurrency")).toMatchObject({ value: 2, source: "file", section: "[defaults]" });
    expect(setting(acme, "store")).toMatchObject({ value: "file", source: "file" });
    expect(setting(acme, "type")).toMatchObject({ value: "All", source: "default" });
    const other = await run(["--json", "config", "show"]);
    expect(setting(other, "out")).toMatchObject({
      value: "/srv/default-calls",
      source: "file",
      section: "[defaults]",
    });
    expect(setting(other, "template")).toMatchObject({ source: "default" });
  });

  it("yields to the environment and to flags", async () => {
    const { run } = setup(FILE);
    const env = await run(["--profile", "acme", "--json", "config", "show"], {
      RC_RECORDINGS_STORE: "keychain",
      RC_SERVER_URL: "https://platform.ringcentral.com",
    });
    expect(setting(env, "store")).toMatchObject({ value: "keychain", source: "env" });
    expect(setting(env, "server")).toMatchObject({
      value: "https://platform.ringcentral.com",
      source: "env",
    });
    const flag = await run(["--profile", "acme", "--store", "keychain", "--json", "config", "show"]);
    expect(setting(flag, "store")).toMatchObject({ value: "keychain", source: "flag" });
  });

  it("is what a command runs with: the file's out reaches verify, a flag overrides it; values are parsed", async () => {
    const { run } = setup(`[defaults]\nout = "/tmp/rcr-config-none/from-file"\n`);
    const fromFile = await run(["verify"]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain("no archive in /tmp/rcr-config-none/from-file");
    const flagged = await run(["verify", "--out", "/tmp/rcr-config-none/from-flag"]);
    expect(flagged.stderr).toContain("no archive in /tmp/rcr-config-none/from-flag");
    // A value from the file is checked by the option's own parser, exactly as on the command line.
    const { run: again } = setup(`[defaults]\nconcurrency = 0\n`);
    const bad = await again(["download", "--dry-run"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config\.toml \[defaults\] concurrency: must be a whole number of at least 1/);
  });

  it("prints secrets' homes, not secrets: a URL shows its origin only", async () => {
    const { run } = setup(`[defaults]\nserver = "https://platform.ringcentral.com/restapi?token=s3cr3t"\n`);
    const shown = await run(["config", "show"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("server = https://platform.ringcentral.com/…");
    expect(shown.stdout).not.toContain("s3cr3t");
  });

  it.each([
    ["an unknown setting", `[defaults]\nbogus = 1\n`, /unknown setting "bogus"/],
    ["an unknown section", `[profile.acme]\nout = "x"\n`, /unknown section "profile"/],
    ["invalid TOML", `[defaults\nout = `, /not valid TOML/],
    ["a per-run option", `[defaults]\nfrom = "7d"\n`, /unknown setting "from"/],
    ["a bad choice", `[defaults]\ntype = "Sometimes"\n`, /type: "Sometimes" is not one of/],
  ])("%s is one line, exit 2, before anything runs", async (_, toml, message) => {
    const { run } = setup(toml);
    const r = await run(["token", "status"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it("--version and --help never read it", async () => {
    const { run } = setup(`not toml at all [`);
    expect((await run(["--version"])).code).toBe(0);
    expect((await run(["download", "--help"])).code).toBe(0);
  });
});
