import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, tempDir } from "../../helpers/cli.js";

const exec = promisify(execFile);
const CONTRIB = resolve(import.meta.dirname, "../../../contrib/systemd");
const TIMER = "rc-recordings.timer";
const FAILURE = "rc-recordings-failure@.service";
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

/** A unit file of contrib/systemd with the paths of this machine's node and CLI for the placeholders. */
function unitHere(path: string): string {
  return readFileSync(join(CONTRIB, path), "utf8")
    .replace("/usr/bin/node", process.execPath)
    .replace("/usr/local/bin/rc-recordings", CLI);
}

/** `systemd-analyze verify` of the service, the timer and the failure template, as installed side by side. */
async function verify(service: string): Promise<string> {
  dir = tempDir("rcr-units-");
  writeFileSync(join(dir.path, "rc-recordings.service"), unitHere(service));
  for (const unit of [TIMER, FAILURE]) copyFileSync(join(CONTRIB, unit), join(dir.path, unit));
  const { stderr } = await exec("systemd-analyze", [
    "verify",
    ...["rc-recordings.service", TIMER, FAILURE].map((unit) => join(dir?.path as string, unit)),
  ]);
  // Warnings about the host's own units are not ours; none may name our files.
  expect(stderr.split("\n").filter((line) => line.includes("rc-recordings"))).toEqual([]);
  return readFileSync(join(dir.path, "rc-recordings.service"), "utf8");
}

/** What every variant of the service promises (docs/scheduling.md). */
function expectNightlyService(service: string): void {
  expect(service).toMatch(/^SuccessExitStatus=6$/m);
  expect(service).toMatch(/^TimeoutStartSec=\S+$/m);
  expect(service).toMatch(/^OnFailure=rc-recordings-failure@%n\.service$/m);
  expect(readFileSync(join(CONTRIB, TIMER), "utf8")).toMatch(/^Persistent=true$/m);
}

/**
 * The template's ExecStart= as systemd hands it to the kernel for instance `instance`: its words (single quotes
 * group, `\\` is a backslash), then the specifiers (%i, %H, %U, %%) and `$$` for `$`.
 */
function execStartOf(unit: string, instance: string, uid: number): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
  const words = [...line.matchAll(/'((?:[^'\\]|\\.)*)'|(\S+)/g)].map(([, quoted, bare]) =>
    quoted === undefined ? (bare as string) : quoted.replace(/\\(.)/g, "$1"),
  );
  const specifiers: Record<string, string> = { i: instance, H: hostname(), U: String(uid), "%": "%" };
  return words.map((word) =>
    word.replace(/%(.)/g, (_, c: string) => specifiers[c] ?? `%${c}`).replaceAll("$$", "$"),
  );
}

describe("contrib/systemd units", () => {
  // .ci/run installs systemd where it is missing, so these never skip under CI.
  it("the user service passes systemd-analyze verify with the timer and the failure template", async () => {
    const service = await verify("rc-recordings.service");
    expectNightlyService(service);
    expect(service).not.toMatch(/^User=/m);
  }, 30_000);

  it("the system-wide service passes too, and runs as its own user", async () => {
    const service = await verify("system/rc-recordings.service");
    expectNightlyService(service);
    expect(service).toMatch(/^User=rc-recordings$/m);
    expect(service).toMatch(/^StateDirectory=rc-recordings$/m);
  }, 30_000);

  it("the failure template logs one line naming the unit and the journal to read, and mails it where mail exists", async () => {
    dir = tempDir("rcr-failure-");
    // Two PATHs that hold only what the script may use: `date`, and in the second a `mail` that records its mail.
    const bare = join(dir.path, "bare");
    const bin = join(dir.path, "bin");
    for (const folder of [bare, bin]) {
      mkdirSync(folder);
      symlinkSync((await exec("/bin/sh", ["-c", "command -v date"])).stdout.trim(), join(folder, "date"));
    }
    const mailed = join(dir.path, "mailed");
    writeFileSync(
      join(bin, "mail"),
      `#!/bin/sh\n{ printf '%s\\n' "$*"; while IFS= read -r line; do printf '%s\\n' "$line"; done; } > '${mailed}'\n`,
    );
    chmodSync(join(bin, "mail"), 0o755);
    const unit = readFileSync(join(CONTRIB, FAILURE), "utf8");
    const run = async (uid: number, path: string) => {
      const [program, ...args] = execStartOf(unit, "rc-recordings.service", uid) as [string, ...string[]];
      return exec(program, args, { env: { PATH: path, USER: "rc-user" } });
    };

    // A user manager (uid 1000) on a machine without mail: the journal line only, pointing at the user journal.
    const user = await run(1000, bare);
    expect(user.stderr).toMatch(
      new RegExp(
        `^rc-recordings\\.service failed on ${hostname()} at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ; its log: journalctl --user -u rc-recordings\\.service;`,
      ),
    );
    expect(user.stderr.trim().split("\n")).toHaveLength(1);

    // The system manager (uid 0) with mail: the same line, mailed to the user the unit runs as.
    const system = await run(0, bin);
    expect(system.stderr).toContain("its log: journalctl -u rc-recordings.service;");
    const mail = readFileSync(mailed, "utf8").split("\n");
    expect(mail[0]).toBe(`-s rc-recordings.service failed on ${hostname()} rc-user`);
    expect(mail[1]).toBe(system.stderr.trim());
  }, 30_000);

  it("the watch service passes systemd-analyze verify and restarts on failure", async () => {
    dir = tempDir("rcr-units-");
    const path = join(dir.path, "rc-recordings-watch.service");
    const service = unitHere("rc-recordings-watch.service");
    writeFileSync(path, service);
    const { stderr } = await exec("systemd-analyze", ["verify", path]);
    expect(stderr.split("\n").filter((line) => line.includes("rc-recordings-watch."))).toEqual([]);
    expect(service).toMatch(/^Restart=on-failure$/m);
    expect(service).toMatch(/^ExecStart=.* watch --out /m);
  }, 30_000);
});
