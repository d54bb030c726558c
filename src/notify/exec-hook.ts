import { spawn } from "node:child_process";
import type { StateStore } from "../destination/types.js";
import type { Logger } from "../log/logger.js";

/** What a hook learns about the recording it runs for: environment variables only (docs/scheduling.md#exec). */
export interface HookRecording {
  /** Absolute path, or the s3:// URL. */
  path: string;
  recordingId: string;
  sha256: string;
  bytes: number;
  callId: string;
  startTime: string;
}

/** A hook that did not finish within this long is killed and counts as failed (a run never hangs on it). */
export const HOOK_TIMEOUT_MS = 15 * 60_000;
const PENDING_RECORD = "exec-pending.json";

/**
 * `--exec CMD`: after each saved and verified recording, `/bin/sh -c CMD` with the recording's facts in
 * RC_RECORDING_* variables. The values never become part of the command text, so a caller name like
 * `$(rm -rf ~)` stays a string. Hooks run one at a time, in the order recordings were saved. A hook that fails
 * leaves the recording archived; it is remembered in the destination's state and run again, for that recording
 * only, by the next run.
 */
export class ExecHook {
  private queue: Promise<void> = Promise.resolve();
  private pending: HookRecording[] = [];
  ran = 0;
  failed = 0;

  constructor(
    private readonly command: string,
    private readonly deps: { state: StateStore; env: NodeJS.ProcessEnv; log: Logger; signal: AbortSignal },
  ) {}

  /** Queue the hooks an earlier run could not complete (before this run's own). */
  async resumePending(): Promise<void> {
    const text = await this.deps.state.readRecord(PENDING_RECORD);
    const earlier = text ? (JSON.parse(text) as HookRecording[]) : [];
    if (earlier.length > 0) {
      this.deps.log.info(
        `--exec: running the hook again for ${earlier.length} recordings it failed on last time`,
      );
    }
    for (const recording of earlier) this.after(recording);
  }

  /** Queue the hook for a recording just saved. */
  after(recording: HookRecording): void {
    this.queue = this.queue.then(() => this.run(recording));
  }

  /** Wait for every queued hook, then remember the ones that failed for the next run. */
  async drain(): Promise<void> {
    await this.queue;
    await this.deps.state.writeRecord(PENDING_RECORD, `${JSON.stringify(this.pending)}\n`);
  }

  private async run(recording: HookRecording): Promise<void> {
    if (this.deps.signal.aborted) {
      this.pending.push(recording); // not run: the next run does it
      return;
    }
    this.ran += 1;
    const problem = await runShell(this.command, hookEnv(this.deps.env, recording), this.deps);
    if (problem === undefined) return;
    this.failed += 1;
    this.pending.push(recording);
    this.deps.log.error(
      `--exec failed for recording ${recording.recordingId} (${problem}); the next run tries it again`,
    );
  }
}

function hookEnv(env: NodeJS.ProcessEnv, r: HookRecording): NodeJS.ProcessEnv {
  return {
    ...env,
    RC_RECORDING_PATH: r.path,
    RC_RECORDING_ID: r.recordingId,
    RC_RECORDING_SHA256: r.sha256,
    RC_RECORDING_BYTES: String(r.bytes),
    RC_CALL_ID: r.callId,
    RC_CALL_START_TIME: r.startTime,
  };
}

/** Undefined when the hook exited 0; otherwise why not. Its output becomes log lines (stdout is the result's). */
function runShell(
  command: string,
  env: NodeJS.ProcessEnv,
  deps: { log: Logger; signal: AbortSignal },
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      signal: deps.signal,
      timeout: HOOK_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) deps.log.info(`exec: ${line}`);
      });
      stream.on("end", () => {
        if (rest) deps.log.info(`exec: ${rest}`);
      });
    }
    child.on("error", (error) => resolve(error.message));
    child.on("close", (code, signal) =>
      resolve(code === 0 ? undefined : signal ? `killed by ${signal}` : `exit ${code}`),
    );
  });
}
