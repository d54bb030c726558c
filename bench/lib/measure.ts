import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORK_DIR } from "./compile.js";

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to the child's exit, in ms (process start-up included). */
  wallMs: number;
  /** Peak resident set size in bytes, when the child was a Node process run with the maxRSS preload. */
  peakRss: number | undefined;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of the transpiled maxRSS preload: the child must be `node`. */
  maxRssPreload?: string | undefined;
  timeoutMs?: number;
}

/** Only what a child needs: no npm_* variables, no NODE_OPTIONS from the harness's own `tsx`. */
export function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" };
}

/** Run `command args`, time it, and read its peak RSS when a preload was given. */
export function measure(
  command: string,
  args: readonly string[],
  options: MeasureOptions = {},
): Promise<Measured> {
  const rssDir = options.maxRssPreload ? mkdtempSync(join(WORK_DIR, "rss-")) : undefined;
  const rssFile = rssDir ? join(rssDir, "maxrss") : undefined;
  const fullArgs = options.maxRssPreload ? ["--require", options.maxRssPreload, ...args] : [...args];
  const env = { ...baseEnv(), ...options.env, ...(rssFile && { BENCH_MAXRSS_FILE: rssFile }) };
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, fullArgs, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", reject);
    // The clock stops when the process is gone; the pipes may drain a moment later.
    let exitAt = 0;
    child.on("exit", () => {
      exitAt = performance.now();
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      let peakRss: number | undefined;
      if (rssFile && rssDir) {
        try {
          peakRss = Number(readFileSync(rssFile, "utf8"));
        } catch {
          peakRss = undefined;
        }
        rmSync(rssDir, { recursive: true, force: true });
      }
      resolve({ code, stdout, stderr, wallMs: (exitAt || performance.now()) - began, peakRss });
    });
  });
}

/** The last line of stdout parsed as JSON, or undefined. */
export function lastJsonLine<T>(stdout: string): T | undefined {
  const line = stdout.trim().split("\n").at(-1);
  if (!line) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/** The last lines of a child's stderr, for results.json (the CLI and the peers never print secrets). */
export function tail(text: string, lines = 5): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
