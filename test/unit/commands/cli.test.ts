import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import type { ApiClient } from "../../../src/api/types.js";
import { ExitCode } from "../../../src/errors.js";
import { activeRecord, MemoryStore, pair } from "../auth/fakes.js";
import { fixedToken, run } from "./harness.js";

const { version } = createRequire(import.meta.url)("../../../package.json") as { version: string };

describe("the CLI's exit codes and output streams", () => {
  it("prints the version, the Node.js version and the platform on stdout and exits 0", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout).toBe(
      `rc-recordings ${version} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`,
    );
    expect(r.stdout).toMatch(/^rc-recordings \d+\.\d+\.\d+ /);
    expect(r.stderr).toEqual([]);
  });

  it("maps a parse error to exit 2 with one line and builds no service", async () => {
    const r = await run(["download", "--concurrency", "0"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/--concurrency.*at least 1/);
    expect(r.asked).toEqual([]);
  });

  it("logs a runtime warning emitted during a command as a line of the chosen format", async () => {
    const warnings = new EventEmitter();
    const slowStore = new MemoryStore(activeRecord(pair(Date.now())));
    const r = await run(
      ["token", "status", "--log-format", "json"],
      { store: slowStore },
      {
        warnings: {
          on: (event, listener) => {
            warnings.on(event, listener);
            // Emitted while the command runs, as Node does (process.emitWarning).
            warnings.emit(
              "warning",
              Object.assign(new Error("11 abort listeners"), { name: "MaxListenersExceededWarning" }),
            );
          },
          off: (event, listener) => warnings.off(event, listener),
        },
      },
    );
    expect(r.code).toBe(ExitCode.ok);
    const warning = r.stderr
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((l) => l.level === "warn");
    expect(warning?.msg).toBe("node: MaxListenersExceededWarning: 11 abort listeners");
    expect(warnings.listenerCount("warning")).toBe(0);
  });

  it("rejects --quiet with --verbose (exit 2)", async () => {
    const r = await run(["--quiet", "--verbose", "token", "status"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toEqual(["rc-recordings: --quiet and --verbose exclude each other"]);
  });

  it("rejects an unreadable --from before touching the login or the network", async () => {
    const r = await run(["download", "--from", "the day before yesterday"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/--from/);
    expect(r.asked).toEqual([]);
  });

  it("maps a missing login to exit 4, and --quiet still prints the error", async () => {
    const r = await run(["--quiet", "token", "status"]);
    expect(r.code).toBe(ExitCode.loginRequired);
    expect(r.stderr).toEqual(['rc-recordings: profile "default" is not logged in; run: rc-recordings login']);
  });

  it("maps an unexpected error to exit 1; --verbose adds its stack as debug lines", async () => {
    const broken: ApiClient = {
      get: async () => {
        throw new Error("boom");
      },
      getJson: async () => {
        throw new Error("boom");
      },
      getJsonWith: async () => {
        throw new Error("boom");
      },
    };
    const fakes = {
      store: new MemoryStore(activeRecord(pair(Date.now()))),
      tokens: fixedToken("https://platform.example.test", "t"),
      api: broken,
    };
    const plain = await run(["token", "status", "--verify"], fakes);
    expect(plain.code).toBe(ExitCode.error);
    expect(plain.stderr.filter((l) => l.startsWith("rc-recordings:"))).toEqual([
      "rc-recordings: verification failed: Error: boom",
    ]);
    expect(plain.stderr.some((l) => l.startsWith("debug:"))).toBe(false);
    const verbose = await run(["--verbose", "token", "status", "--verify"], fakes);
    expect(verbose.code).toBe(ExitCode.error);
    expect(verbose.stderr).toContain("debug: OperationError: verification failed: Error: boom");
    expect(verbose.stderr.some((l) => /^\s+at /.test(l))).toBe(true);
  });

  it("--log-format json: every stderr line is one JSON object, usage errors and the verbose stack included", async () => {
    const usage = await run(["--log-format", "json", "download", "--concurrency", "0"]);
    expect(usage.code).toBe(ExitCode.usage);
    expect(usage.stderr).toHaveLength(1);
    expect(JSON.parse(usage.stderr[0] as string)).toMatchObject({
      level: "error",
      msg: expect.stringMatching(/--concurrency.*at least 1/),
    });
    const missing = await run(["token", "status"], {}, { env: { RC_RECORDINGS_LOG_FORMAT: "json" } });
    expect(missing.code).toBe(ExitCode.loginRequired);
    expect(missing.stderr.map((line) => JSON.parse(line))).toEqual([
      {
        time: expect.any(String),
        level: "error",
        msg: 'profile "default" is not logged in; run: rc-recordings login',
      },
    ]);
  });

  it("rejects an unknown --log-format with exit 2", async () => {
    const r = await run(["--log-format", "xml", "token", "status"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr[0]).toMatch(/--log-format.*xml/);
  });
});

describe("each command's --help", () => {
  it("ends with examples", async () => {
    for (const command of [["login"], ["download"], ["verify"], ["token", "status"], ["token", "revoke"]]) {
      const r = await run([...command, "--help"]);
      expect(r.code, command.join(" ")).toBe(ExitCode.ok);
      expect(r.stdout, command.join(" ")).toMatch(/\nExamples:\n( {2}\$ rc-recordings .+\n){2,3}$/);
    }
  });
});
