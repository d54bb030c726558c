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

describe("contrib/systemd units", () => {
  // .ci/run installs systemd where it is missing, so this never skips under CI.
  it("pass systemd-analyze verify once the paths name this machine's node and CLI", async () => {
    dir = tempDir("rcr-units-");
    const service = readFileSync(join(CONTRIB, "rc-recordings.service"), "utf8")
      .replace("/usr/bin/node", process.execPath)
      .replace("/usr/local/bin/rc-recordings", CLI);
    writeFileSync(join(dir.path, "rc-recordings.service"), service);
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
});
