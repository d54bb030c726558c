import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

/** The built CLI: end-to-end tests run exactly what users run (`npm test` builds first). */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/rc-recordings.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then closed. Without it stdin is closed at once (no TTY, like cron). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Node options before the CLI's script (e.g. a heap cap). */
  nodeFlags?: readonly string[];
  /** Start the CLI through this command (e.g. `unshare --pid --fork --`): it receives node and its arguments. */
  through?: readonly [string, ...string[]];
}

/** Run the built CLI and collect its exit code and output. The environment is NOT inherited beyond PATH/HOME. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  return child.result;
}

export function spawnCli(args: readonly string[], options: CliOptions = {}) {
  // A deprecated Node API used anywhere in the CLI or its dependencies crashes the run instead of printing a
  // warning, so every end-to-end test on every runtime CI runs (20, 22, 24) proves none is used.
  const node = [process.execPath, "--throw-deprecation", ...(options.nodeFlags ?? []), CLI, ...args];
  const [command, ...rest] = [...(options.through ?? []), ...node] as [string, ...string[]];
  const child = spawn(command, rest, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const result = outputOf(child, options.timeoutMs ?? 60_000);
  child.stdin.end(options.input ?? "");
  return { child, result };
}

/** Everything a child with piped stdout and stderr prints, and how it ended; killed after `timeoutMs`. */
export function outputOf(
  child: ChildProcessByStdio<null | Writable, Readable, Readable>,
  timeoutMs: number,
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise<CliResult>((resolvePromise) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A throw-away directory, removed by the returned cleanup. */
export function tempDir(prefix = "rcr-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
