import { execFile } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, tempDir } from "../../helpers/cli.js";

const exec = promisify(execFile);
const CONTRIB = resolve(import.meta.dirname, "../../../contrib/systemd");
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

/** A unit of contrib/systemd in a temp folder, its paths naming this machine's node and the built CLI. */
function prepared(folder: string, name: string): { path: string; text: string } {
  const text = readFileSync(join(CONTRIB, name), "utf8")
    .replace("/usr/bin/node", process.execPath)
    .replace("/usr/local/bin/rc-recordings", CLI);
  const path = join(folder, name);
  writeFileSync(path, text);
  return { path, text };
}

describe("contrib/systemd units", () => {
  // .ci/run installs systemd where it is missing, so this never skips under CI.
  it("pass systemd-analyze verify once the paths name this machine's node and CLI", async () => {
    dir = tempDir("rcr-units-");
    const { text: service } = prepared(dir.path, "rc-recordings.service");
    copyFileSync(join(CONTRIB, "rc-recordings.timer"), join(dir.path, "rc-recordings.timer"));
    const { stderr } = await exec("systemd-analyze", [
      "verify",
      join(dir.path, "rc-recordings.service"),
      join(dir.path, "rc-recordings.timer"),
    ]);
    // Warnings about the host's own units are not ours; none may name our files.
    expect(stderr.split("\n").filter((line) => line.includes("rc-recordings."))).toEqual([]);
    expect(service).toMatch(/^SuccessExitStatus=6$/m);
    expect(service).toMatch(/^TimeoutStartSec=/m);
    expect(readFileSync(join(CONTRIB, "rc-recordings.timer"), "utf8")).toMatch(/^Persistent=true$/m);
  }, 30_000);

  it("the watch service passes systemd-analyze verify and restarts on failure", async () => {
    dir = tempDir("rcr-units-");
    const { path, text: service } = prepared(dir.path, "rc-recordings-watch.service");
    const { stderr } = await exec("systemd-analyze", ["verify", path]);
    expect(stderr.split("\n").filter((line) => line.includes("rc-recordings-watch."))).toEqual([]);
    expect(service).toMatch(/^Restart=on-failure$/m);
    expect(service).toMatch(/^ExecStart=.* watch --out /m);
  }, 30_000);
});
