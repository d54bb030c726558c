import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "../../helpers/cli.js";

// What a new user tries first: `npm run demo` (the built CLI against the emulator) and the emulator by hand,
// with `--print-env` lines pasted into a shell.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(TSX, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

describe("trying it", () => {
  it("npm run demo: every step (two runs, verify, index.csv, token status/revoke) ends as expected", async () => {
    const dir = tempDir("rcr-demo-");
    try {
      const { code, stderr } = await run(["test/demo/demo.ts", join(dir.path, "recordings")]);
      expect(code, stderr).toBe(0);
      const exits = [...stderr.matchAll(/^\(exit (\d+)\)$/gm)].map((m) => Number(m[1]));
      expect(exits).toEqual([0, 0, 0, 0, 0, 0, 0, 4]);
      for (const command of ["login", "download --out", "verify --out", "token revoke"]) {
        expect(stderr).toContain(`$ rc-recordings ${command}`);
      }
      expect(stderr).toMatch(/^startTime,date,time,/m); // the index's header row is shown
      expect(stderr).toContain("demo: every step ended as expected");
    } finally {
      dir.cleanup();
    }
  }, 180_000);

  it("npm run emulator -- --print-env prints export lines a shell can use to log in", async () => {
    const emulator = spawn(TSX, ["test/emulator/main.ts", "--print-env", "--calls", "3"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const dir = tempDir("rcr-print-env-");
    try {
      const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: dir.path };
      const lines = createInterface({ input: emulator.stdout });
      for await (const line of lines) {
        const match = /^export ([A-Z_]+)='([^']*)'$/.exec(line);
        if (match) env[match[1] as string] = match[2];
        else expect(line.startsWith("#"), line).toBe(true);
        if (match?.[1] === "RC_RECORDINGS_STORE") break;
      }
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining(["RC_SERVER_URL", "RC_APP_CLIENT_ID", "RC_APP_CLIENT_SECRET", "RC_USER_JWT"]),
      );
      const login = await runCli(["login"], { env });
      expect(login.code, login.stderr).toBe(0);
      const status = await runCli(["token", "status"], { env });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain("profile:        emulator");
    } finally {
      emulator.kill("SIGTERM");
      dir.cleanup();
    }
  }, 120_000);
});
