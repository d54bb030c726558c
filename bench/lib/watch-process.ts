import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchEmulator } from "./emulator-client.js";
import { baseEnv } from "./measure.js";
import { CLI, RcProfile } from "./rc.js";

/** The value at percentile `p` (0–100) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

/** A `watch` child of a bench scenario, and what the scenario reads of it. */
export interface WatchProcess {
  child: ChildProcess;
  /** Recording id → when it was first seen in the manifest (filled by `waitFor`'s polling). */
  seen: Map<string, number>;
  stderr(): string;
  /** Poll every 100 ms (the manifest too) until `condition`; throws with the watch's last words on timeout. */
  waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** SIGTERM, and the exit code with the time from the signal to the exit. */
  stop(): Promise<{ code: number | null; stopMs: number }>;
  /** SIGKILL if still running (a scenario's `finally`). */
  kill(): void;
}

/**
 * Log in once (as a user would) and start `rc-recordings watch --out out` against the emulator; resolves once
 * the first sweep started and the subscription is live.
 */
export async function startWatch(
  emulator: BenchEmulator,
  dirs: { out: string; config: string },
  extraArgs: readonly string[] = [],
): Promise<WatchProcess> {
  const rc = new RcProfile(emulator, dirs.config);
  await rc.login();
  const child = spawn(process.execPath, [CLI, "watch", "--out", dirs.out, ...extraArgs], {
    env: { ...baseEnv(), ...rc.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000); // a soak logs for minutes
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const seen = new Map<string, number>();
  const waitFor = async (condition: () => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`watch: ${what} within ${timeoutMs} ms:\n${stderr.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      pollManifest(dirs.out, seen);
    }
  };
  const watch: WatchProcess = {
    child,
    seen,
    stderr: () => stderr,
    waitFor,
    async stop() {
      child.kill("SIGTERM");
      const stopAt = Date.now();
      const code = await exited;
      return { code, stopMs: Date.now() - stopAt };
    },
    kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
  try {
    await waitFor(() => /sweep 1 \(start\)/.test(stderr) && /subscribed/.test(stderr), 60_000, "no start");
  } catch (error) {
    watch.kill();
    throw error;
  }
  return watch;
}

/** Recording ids in the manifest, with the time each was first seen there. */
function pollManifest(out: string, seen: Map<string, number>): void {
  const file = join(out, ".rc-recordings", "manifest.jsonl");
  if (!existsSync(file)) return;
  const now = Date.now();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /"recordingId":"([^"]+)"/.exec(line);
    if (match?.[1] && !seen.has(match[1])) seen.set(match[1], now);
  }
}
