import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, outputOf } from "../../helpers/cli.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const requestsMade = (env: DownloadEnv) =>
  Object.values(env.emu.stats.requestsByGroup).reduce((sum, n) => sum + n, 0);

describe("--out that cannot be a folder", () => {
  it("fails with exit 2 and one line naming it, before any request (/proc, a file, below a file, empty)", async () => {
    e = await setupDownload({ calls: 2 });
    const file = join(e.dir, "a-file");
    writeFileSync(file, "x");
    const cases: [string, RegExp][] = [
      ["/proc", /^rc-recordings: --out \/proc is on the kernel's proc file system/],
      ["/proc/self/nothing-here", /kernel's proc file system/],
      [file, /is a file, not a folder$/],
      [join(file, "below"), /cannot be a folder: .*a-file is a file$/],
      ["", /^rc-recordings: --out is empty/],
    ];
    for (const [out, expected] of cases) {
      // The whole run is bounded: /proc used to spin forever in a recursive mkdir.
      const r = await e.run(["download", "--out", out], { timeoutMs: 20_000 });
      expect(r.signal, out).toBeNull();
      expect(r.code, out).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines, out).toHaveLength(1);
      expect(lines[0], out).toMatch(expected);
    }
    expect(requestsMade(e)).toBe(0);
  }, 120_000);

  it.runIf(process.platform === "linux")(
    "names a folder it may not write in (run as an unprivileged user)",
    async () => {
      e = await setupDownload({ calls: 1 });
      const locked = join(e.dir, "locked");
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      chmodSync(e.dir, 0o755);
      // root may write anywhere: the check runs as `nobody` then (setpriv ships with util-linux).
      const asRoot = process.getuid?.() === 0;
      const command = asRoot
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath]
        : [process.execPath];
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          command[0] as string,
          [...command.slice(1), CLI, "download", "--out", join(locked, "calls")],
          {
            env: {
              PATH: process.env.PATH,
              HOME: "/nonexistent",
              // nobody's own (absent) config folder: root's is not readable to it, and that is a separate error.
              XDG_CONFIG_HOME: join(e?.dir ?? "", "nobody-config"),
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
        });
        child.on("close", (code) => resolve({ code, stderr }));
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(
        `rc-recordings: --out ${join(locked, "calls")}: no permission to create it in ${locked}`,
      );
    },
    30_000,
  );
});

describe("stdout closed early", () => {
  it("`download --dry-run | head -n 1` ends quietly: no EPIPE, no stack", async () => {
    e = await setupDownload({ calls: 3000, withRecordingRatio: 1 });
    const child = spawn(
      "sh",
      [
        "-c",
        `"${process.execPath}" "${CLI}" download --quiet --dry-run --from 30d --out "${e?.out}" | head -n 1`,
      ],
      { env: { ...e?.env, PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const r = await outputOf(child, 60_000);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0); // head's
  }, 60_000);
});
