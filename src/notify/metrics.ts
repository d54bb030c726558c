import { readFile } from "node:fs/promises";
import { Gauge, Registry } from "prom-client";
import { writeFileAtomic } from "../fs-util.js";

/** What one run tells a monitor: the facts behind every sample (docs/scheduling.md#metrics). */
export interface RunFacts {
  profile: string;
  /** `--out` as given: a folder or an s3:// URL. */
  out: string;
  exitCode: number;
  endedAt: Date;
  durationSeconds: number;
  /** Recordings this run saved. */
  saved: number;
  bytes: number;
  /** Recordings the archive holds (the manifest), when it could be read. */
  archived: number | undefined;
  /** Recordings known to remain (not on disk after the run); undefined when the listing did not reach the end. */
  backlog: number | undefined;
  /**
   * Recordings the run listed but did not archive that retention deletes within AT_RISK_DAYS; undefined unless
   * the run's listing covered the whole window from the retention edge (`--from retention`).
   */
  atRisk?: number | undefined;
}

/** Exit 0, or 6 (the time box ran out; the next run continues): the run did what it should. */
export function isHealthy(exitCode: number): boolean {
  return exitCode === 0 || exitCode === 6;
}

/** Every sample says whose archive it is about (a run's metrics file and a watch's /metrics alike). */
export const METRIC_LABELS = ["profile", "out"] as const;

/**
 * The Prometheus text (exposition format 0.0.4) for one run, through prom-client's registry so the escaping,
 * HELP and TYPE lines are the library's, not ours. Reusable: a long-running process serves the same text on
 * /metrics.
 */
export async function renderRunMetrics(
  facts: RunFacts,
  /** When the last healthy run (exit 0 or 6) ended: this one, or one before it (kept across failed runs). */
  lastSuccessAt: Date | undefined,
): Promise<string> {
  const registry = new Registry();
  const labels = { profile: facts.profile, out: facts.out };
  const gauge = (name: string, help: string, value: number | undefined) => {
    if (value === undefined) return;
    new Gauge({ name: `rc_recordings_${name}`, help, labelNames: METRIC_LABELS, registers: [registry] }).set(
      labels,
      value,
    );
  };
  const seconds = (at: Date | undefined) => (at === undefined ? undefined : at.getTime() / 1000);
  gauge("last_run_timestamp_seconds", "When the last run ended (Unix time).", seconds(facts.endedAt));
  gauge(
    "last_success_timestamp_seconds",
    "When the last run that exited 0 or 6 ended (Unix time); kept across failed runs.",
    seconds(lastSuccessAt),
  );
  gauge("last_exit_code", "The exit code of the last run (see the README's exit codes).", facts.exitCode);
  gauge("last_run_duration_seconds", "How long the last run took.", facts.durationSeconds);
  gauge("recordings_saved", "Recordings the last run saved.", facts.saved);
  gauge("saved_bytes", "Bytes the last run saved.", facts.bytes);
  gauge("archive_recordings", "Recordings in the archive (its manifest).", facts.archived);
  gauge(
    "backlog_recordings",
    "Recordings known to remain on the platform, not yet archived (absent when the listing did not finish).",
    facts.backlog,
  );
  gauge(
    "retention_at_risk_recordings",
    "Recordings the last run listed but did not archive that retention deletes within 7 days (only after a run that listed from the retention edge, e.g. --from retention).",
    facts.atRisk,
  );
  return registry.metrics();
}

/**
 * Replace the textfile collector's file atomically (node_exporter must never read half a file). A failed run
 * keeps the last success time the file held for the same profile and folder.
 */
export async function writeMetricsFile(path: string, facts: RunFacts): Promise<void> {
  const lastSuccessAt = isHealthy(facts.exitCode) ? facts.endedAt : await previousSuccess(path, facts);
  await writeFileAtomic(path, await renderRunMetrics(facts, lastSuccessAt));
}

async function previousSuccess(path: string, facts: RunFacts): Promise<Date | undefined> {
  const text = await readFile(path, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const match = /^rc_recordings_last_success_timestamp_seconds\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = labelsOf(match[1] as string);
    const value = Number(match[2]);
    if (labels.profile === facts.profile && labels.out === facts.out && Number.isFinite(value)) {
      return new Date(value * 1000);
    }
  }
  return undefined;
}

/** `a="x",b="y\"z"` -> { a: "x", b: 'y"z' } (the exposition format's escapes: \\, \", \n). */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}
