import { join } from "node:path";
import { scanRecordedFiles } from "../archive/recorded-files.js";
import { ENV_NAMES } from "../auth/credentials.js";
import type { CommandResult } from "../command-result.js";
import type { CommandContext } from "../context.js";
import { isStoreUrl } from "../destination/open.js";
import type { Destination } from "../destination/types.js";
import type { Logger } from "../log/logger.js";
import { printableJson } from "../log/printable.js";
import { redact } from "../log/redact.js";
import { ExecHook } from "../notify/exec-hook.js";
import { writeMetricsFile } from "../notify/metrics.js";
import { Pinger } from "../notify/ping.js";
import type { LockedWork, ProgressSink, SavedRecording } from "../run/types.js";

/** The flags that tell someone how a run went (declared in download.command.ts). */
export interface NoticeFlags {
  pingUrl?: string;
  metricsFile?: string;
  exec?: string;
}

/**
 * Who hears of this run besides its own output: a ping service (start, then success or failure with the JSON
 * result), a Prometheus textfile, and a per-recording hook. All observe the run from outside: the pings and the
 * metrics file hang on the command's result (they see every exit, usage errors and crashes included), the hook
 * on the progress the run reports. None of them changes the exit code, except a failed hook (exit 3).
 */
export class RunNotices {
  private destination: Destination | undefined;
  private hook: ExecHook | undefined;

  constructor(
    private readonly ctx: CommandContext,
    private readonly flags: NoticeFlags,
  ) {
    reportEndOfRun(ctx.result, flags, {
      log: ctx.log,
      signal: ctx.signal,
      starting: true,
      archived: async () =>
        this.destination
          ? (await scanRecordedFiles(this.destination).catch(() => undefined))?.count
          : undefined,
    });
  }

  /** The run's destination is known (and valid): the hook can remember its failures there. */
  opened(destination: Destination, dryRun: boolean): void {
    this.destination = destination;
    if (!this.flags.exec || dryRun) return;
    this.hook = new ExecHook(this.flags.exec, {
      state: destination.state,
      env: hookEnvironment(this.ctx.env),
      log: this.ctx.log,
      signal: this.ctx.signal,
    });
  }

  /**
   * The hook's list of failed recordings is the archive's state: read (and those hooks run again) only once the
   * run holds the destination's lock, and rewritten before it lets go, so that two runs never lose each other's.
   */
  lockedWork(): LockedWork | undefined {
    const { hook } = this;
    return hook && { start: () => hook.resumePending(), finish: () => hook.drain() };
  }

  /** The run's progress sink, with the hook listening for saved recordings. */
  observe(sink: ProgressSink): ProgressSink {
    const { hook, destination } = this;
    if (!hook || !destination) return sink;
    return {
      ...bound(sink),
      saved: (saved: SavedRecording) => {
        sink.saved(saved);
        hook.after({
          path: locationOf(destination, saved.key),
          recordingId: saved.recordingId,
          sha256: saved.sha256,
          bytes: saved.bytes,
          callId: saved.callId,
          startTime: saved.startTime,
        });
      },
    };
  }

  /** What the hooks did (they are done once the run has ended): it goes into the result. */
  hooksRun(): { ran: number; failed: number } | undefined {
    return this.hook && { ran: this.hook.ran, failed: this.hook.failed };
  }
}

/**
 * The end-of-run reporting of every exit: the ping (`/start` now, then success or `/fail` with the JSON result) and
 * the metrics file, hung on the command's result. A run that ended before its command started (commander's usage
 * errors) gets it from cli.ts with the settings known by then. A ping URL that is no URL is a usage error.
 */
export function reportEndOfRun(
  result: CommandResult,
  flags: { pingUrl?: string | undefined; metricsFile?: string | undefined },
  deps: {
    log: Logger;
    signal: AbortSignal;
    /** The run is starting (its `/start` ping goes now); false for a run that has already ended. */
    starting: boolean;
    archived?: () => Promise<number | undefined>;
  },
): void {
  const pinger = flags.pingUrl ? new Pinger(flags.pingUrl, deps.log) : undefined;
  if (deps.starting) pinger?.start();
  result.onFinish(async (envelope) => {
    if (flags.metricsFile) {
      await writeMetricsFile(flags.metricsFile, {
        profile: envelope.profile,
        out: envelope.out ?? "",
        exitCode: envelope.exitCode,
        endedAt: new Date(envelope.endedAt),
        durationSeconds: (Date.parse(envelope.endedAt) - Date.parse(envelope.startedAt)) / 1000,
        saved: numberOr(envelope.downloaded, 0),
        bytes: numberOr(envelope.bytes, 0),
        archived: await deps.archived?.(),
        backlog: typeof envelope.remaining === "number" ? envelope.remaining : undefined,
        atRisk: atRiskOf(envelope.retentionAtRisk),
      }).catch((error: Error) =>
        deps.log.warn(`could not write --metrics-file ${flags.metricsFile}: ${error.message}`),
      );
    }
    const body = printableJson(redact(JSON.stringify(envelope)));
    await pinger?.finish(envelope.exitCode, body, { hurry: deps.signal.aborted });
  });
}

/** The download summary's `retentionAtRisk.recordings`, when the run could count it. */
function atRiskOf(field: unknown): number | undefined {
  const recordings = (field as { recordings?: unknown } | undefined)?.recordings;
  return typeof recordings === "number" ? recordings : undefined;
}

/** The hook inherits the run's environment, minus the secrets rc-recordings was handed (it needs none of them). */
function hookEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = new Set<string>([...ENV_NAMES.clientSecret, ...ENV_NAMES.jwt, "RC_RECORDINGS_PING_URL"]);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.has(name)));
}

function bound(sink: ProgressSink): ProgressSink {
  return {
    started: (range) => sink.started(range),
    changed: () => sink.changed(),
    skipped: (id, key) => sink.skipped(id, key),
    saved: (saved) => sink.saved(saved),
    failed: (id, reason) => sink.failed(id, reason),
  };
}

/** Where a key is for a program outside: an absolute path, or the object's s3:// URL. */
function locationOf(destination: Destination, key: string): string {
  const root = destination.describe();
  return isStoreUrl(root) ? `${root.replace(/\/$/, "")}/${key}` : join(root, ...key.split("/"));
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}
