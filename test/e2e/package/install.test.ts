import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/cli.js";

// What a user gets from `npm pack` / the registry: the tarball installs with only Node (no build step, no dev
// dependencies) and runs. `npm test` has built dist/ already; packing with --ignore-scripts takes that build as
// it is instead of rebuilding dist/ under the feet of the other tests running at the same time.

const exec = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: unknown;
  engines?: { node?: string };
  files?: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Only this Node on the PATH (plus /usr/bin for `env` in the shebang): the installed CLI brings the rest. */
const NODE_ONLY_PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;

describe("the packed tarball", () => {
  let work: ReturnType<typeof tempDir>;
  let packed: { filename: string; files: { path: string }[] };
  let prefix: string;

  beforeAll(async () => {
    work = tempDir("rcr-pack-");
    const { stdout } = await exec(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work.path],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    packed = (JSON.parse(stdout) as (typeof packed)[])[0] as typeof packed;
    prefix = join(work.path, "prefix");
    // A global install into a throw-away prefix, as `npm install -g <tarball>` does: dependencies only, and no
    // lifecycle script of ours runs (a tarball is installed as built).
    await exec(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        join(work.path, packed.filename),
      ],
      { cwd: work.path, maxBuffer: 16 * 1024 * 1024 },
    );
  }, 600_000);

  afterAll(() => work?.cleanup());

  it("is publishable: not private, with license, repository, engines and a files list", () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe("MIT");
    expect(manifest.repository).toBeTruthy();
    expect(manifest.engines?.node).toBe(">=20");
    expect(manifest.files).toEqual(["bin", "dist"]);
  });

  it("holds the built CLI and its documents, and no sources, tests or tooling", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(["package.json", "README.md", "LICENSE", "bin/rc-recordings.js", "dist/cli.js"]),
    );
    expect(paths.filter((p) => !/^(bin|dist)\/|^(package\.json|README\.md|LICENSE)$/.test(p))).toEqual([]);
  });

  it("installs into a clean prefix with its runtime dependencies only", () => {
    const installed = join(prefix, "lib", "node_modules", manifest.name);
    expect(statSync(join(installed, "dist", "cli.js")).isFile()).toBe(true);
    // npm hoists nothing out of a global package: what it installed lives in its own node_modules.
    for (const dev of Object.keys(manifest.devDependencies)) {
      expect(existsSync(join(installed, "node_modules", dev)), dev).toBe(false);
    }
    for (const dep of Object.keys(manifest.dependencies)) {
      expect(existsSync(join(installed, "node_modules", dep)), dep).toBe(true);
    }
  });

  it("runs `--version` and `download --help` with only Node on the PATH", async () => {
    const bin = join(prefix, "bin", "rc-recordings");
    const env = { PATH: NODE_ONLY_PATH, HOME: work.path };
    const version = await exec(bin, ["--version"], { env });
    expect(version.stdout).toBe(
      `rc-recordings ${manifest.version} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`,
    );
    expect(version.stderr).toBe("");
    const help = await exec(bin, ["download", "--help"], { env });
    expect(help.stdout).toContain("--max-duration");
    expect(help.stderr).toBe("");
  });

  it("runs through `npx <tarball>`", async () => {
    // npx keeps what it installs in npm's cache (~/.npm/_npx), as it does for a user.
    const { stdout } = await exec("npx", ["--yes", `./${packed.filename}`, "--version"], {
      cwd: work.path,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toBe(
      `rc-recordings ${manifest.version} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`,
    );
  }, 300_000);

  it("imports at run time nothing but Node's modules and its declared dependencies", () => {
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".js")) {
          for (const m of readFileSync(path, "utf8").matchAll(/(?:from |import\()"([^".][^"]*)"/g)) {
            imported.add(m[1] as string);
          }
        }
      }
    };
    walk(join(ROOT, "dist"));
    const packages = [...imported]
      .filter((spec) => !spec.startsWith("node:"))
      .map((spec) =>
        spec
          .split("/")
          .slice(0, spec.startsWith("@") ? 2 : 1)
          .join("/"),
      );
    expect(packages.length).toBeGreaterThan(3);
    for (const name of packages) expect(Object.keys(manifest.dependencies), name).toContain(name);
  });
});
