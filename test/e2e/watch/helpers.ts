import { expect, onTestFailed, onTestFinished } from "vitest";
import type { EmulatorOptions } from "../../emulator/index.js";
import { spawnCli } from "../../helpers/cli.js";
import type { EmulatorEnvOptions } from "../../helpers/emulator-env.js";
import { type DownloadEnv, manifestOf, setupDownload, sha256File } from "../download/helpers.js";

// `watch` through the built CLI against the in-process emulator: the emulator makes calls while it runs
// (control.startCalls), its gateway sends their telephony events, their records appear `callLogDelayMs` later.

export type WatchEnv = DownloadEnv;

/** The emulator and a logged-in profile for one test; stopped when the test ends. */
export async function setupWatch(
  emulator: EmulatorOptions = {},
  options: Omit<EmulatorEnvOptions, "emulator"> = {},
): Promise<WatchEnv> {
  // A short call-log delay keeps the tests short; the scheduler's backoff covers longer ones.
  const env = await setupDownload({ calls: 6, callLogDelayMs: 500, ...emulator }, options);
  onTestFinished(() => env.stop());
  return env;
}

/** A running `watch`: its output so far, a bounded wait for a line, and its end. */
export interface RunningWatch {
  readonly child: ReturnType<typeof spawnCli>["child"];
  readonly result: ReturnType<typeof spawnCli>["result"];
  stderr(): string;
  stdout(): string;
  /** Wait (bounded) until stderr matches `pattern` `count` times. */
  waitFor(pattern: RegExp, options?: { count?: number; timeoutMs?: number }): Promise<void>;
  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; ms: number }>;
}

/**
 * `watch --out e.out ARGS` started for one test: stopped (SIGTERM) when the test ends, and when it failed, what
 * the watch said is printed first (the first thing a failure needs).
 */
export function startWatch(
  e: WatchEnv,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): RunningWatch {
  const spawned = spawnCli(["watch", "--out", e.out, ...args], {
    env: { ...e.env, ...env },
    timeoutMs: 300_000,
  });
  let stderr = "";
  let stdout = "";
  spawned.child.stderr.on("data", (d: string) => {
    stderr += d;
  });
  spawned.child.stdout.on("data", (d: string) => {
    stdout += d;
  });
  let exited = false;
  void spawned.result.then(() => {
    exited = true;
  });
  const running: RunningWatch = {
    child: spawned.child,
    result: spawned.result,
    stderr: () => stderr,
    stdout: () => stdout,
    async waitFor(pattern, { count = 1, timeoutMs = 60_000 } = {}) {
      const global = new RegExp(
        pattern.source,
        pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`,
      );
      await until(
        () => (stderr.match(global)?.length ?? 0) >= count,
        timeoutMs,
        () => `no ${count} × ${pattern} on stderr${exited ? " (watch exited)" : ""}:\n${stderr}`,
        () => exited,
      );
    },
    async stop(timeoutMs = 30_000) {
      const started = Date.now();
      spawned.child.kill("SIGTERM");
      const timer = setTimeout(() => spawned.child.kill("SIGKILL"), timeoutMs);
      const { code } = await spawned.result;
      clearTimeout(timer);
      return { code, ms: Date.now() - started };
    },
  };
  onTestFailed(() => console.error(stderr));
  onTestFinished(async () => {
    if (!exited) await running.stop();
  });
  return running;
}

/** Poll `condition` every 100 ms; fail with `describe()` after `timeoutMs` or once `gaveUp()`. */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
  gaveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline || gaveUp()) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Wait (bounded) until the manifest lists every one of `ids`. */
export async function waitArchived(e: WatchEnv, ids: readonly string[], timeoutMs = 60_000): Promise<void> {
  const missing = () => {
    const saved = new Set(manifestOf(e.out).map((m) => m.recordingId));
    return ids.filter((id) => !saved.has(id));
  };
  await until(
    () => missing().length === 0,
    timeoutMs,
    () => `not archived within ${timeoutMs} ms: ${missing().join(", ")}`,
  );
}

/** Each of `ids` is in the manifest once and its file holds exactly the emulator's bytes. */
export async function expectByteExact(e: WatchEnv, ids: readonly string[]): Promise<void> {
  const entries = manifestOf(e.out);
  for (const id of ids) {
    const matching = entries.filter((m) => m.recordingId === id);
    expect(matching, id).toHaveLength(1);
    const entry = matching[0] as (typeof matching)[number];
    expect(await sha256File(`${e.out}/${entry.path}`)).toBe(e.emu.control.expectedSha256(id));
    expect(entry.sha256).toBe(e.emu.control.expectedSha256(id));
  }
}

/** The recording ids of started calls (all of them have one unless `withRecording: false`). */
export function recordingIds(calls: readonly { recordingId: string | undefined }[]): string[] {
  return calls.map((c) => c.recordingId).filter((id): id is string => id !== undefined);
}
