import type { ApiClient } from "../api/types.js";
import { FIRST_RUN_WINDOW_MS, IncrementalMark } from "../archive/mark.js";
import type { Destination } from "../destination/types.js";
import { endsRun, profileCommand } from "../errors.js";
import { type CallLogScope, countRecordedCalls, type RecordingTypeFilter } from "../listing/call-log.js";
import { type PlatformRetention, readRetention, retentionEdge } from "../listing/retention.js";
import type { Logger } from "../log/logger.js";
import { backfillEstimate, USUAL_HEAVY_PER_SECOND } from "../run/eta.js";
import { formatSpan } from "../ui/format.js";

/**
 * What a first run leaves on the platform: the `olderRecordings` field of the `--json` result. A first run
 * without `--from` takes only the last 24 hours, while retention deletes the older recordings one by one.
 */
export interface OlderRecordings {
  /** The retention edge: the oldest start time the platform still keeps a recording of. */
  since: string;
  /** Up to this start time (where the first run begins). */
  until: string;
  retentionDays: number;
  /** The retention was read from the account (else RingCentral's default). */
  retentionFromAccount: boolean;
  /**
   * Calls with a recording in [since, until) (the call log's count); null when the platform gave no count, or
   * with `--extension` (not counted: an unknown number must cost no request before its exit 2).
   */
  calls: number | null;
  /** What `command` costs: Heavy requests (listing + one per recording) and about how long, at the budget. */
  heavyRequests: number | null;
  durationSeconds: number | null;
  /** The backfill, for this profile (or pool) and `--out` as given. */
  command: string;
}

export interface FirstRunContext {
  /** The run's listing client (its rate limiter learns the Heavy budget from this very request). */
  api: ApiClient;
  destination: Destination;
  /** Known already (`--from` was resolved against it), else read here. */
  retention: PlatformRetention | undefined;
  now: Date;
  scope: CallLogScope | undefined;
  type: RecordingTypeFilter;
  extensionNumbers: readonly string[] | undefined;
  profiles: readonly string[];
  out: string;
  /** The profiles' Heavy budget together (requests per second), once learned. */
  budgetPerSecond: () => number | undefined;
  signal: AbortSignal;
  log: Logger;
}

/** What a first run tells about the older recordings: the JSON field, and the one line `say` logs. */
export interface FirstRunNotice {
  older: OlderRecordings;
  /**
   * Log the line. The run says it once its source has opened (an unknown `--extension` is exit 2 with only its
   * own line), so the caller decides when.
   */
  say(): void;
}

/**
 * On a first run (no `--from`, no incremental mark yet): count the older recordings the platform still keeps
 * with ONE Heavy request (a call-log page of one record and its total; see countRecordedCalls) and prepare the
 * one line: how many, and what a backfill takes (the dry run's estimate: listing pages + one request per
 * recording at the learned budget). Undefined on any later run. Counting is a courtesy: a failure costs one
 * debug line, never the run (only what ends every run is thrown).
 */
export async function olderRecordingsNotice(context: FirstRunContext): Promise<FirstRunNotice | undefined> {
  const { destination, now, log } = context;
  // The run's own preflight first (read-only: a missing bucket, a bucket without the Object Lock asked for, a
  // linked state folder): a run that cannot start says only why.
  await destination.preflight();
  // Unreadable state is the run's own error to report: no line here.
  const mark = await new IncrementalMark(destination.state).read(now.getTime()).catch(() => null);
  if (mark !== undefined) return undefined;
  const retention = context.retention ?? (await readRetention(context.api, { signal: context.signal, log }));
  const since = retentionEdge(retention, now);
  const until = new Date(now.getTime() - FIRST_RUN_WINDOW_MS);
  const command = backfillCommand(context.profiles, context.out, context.extensionNumbers);
  const older: OlderRecordings = {
    since: since.toISOString(),
    until: until.toISOString(),
    retentionDays: retention.days,
    retentionFromAccount: retention.fromAccount,
    calls: null,
    heavyRequests: null,
    durationSeconds: null,
    command,
  };
  if (since.getTime() >= until.getTime()) return { older, say: () => undefined }; // retention keeps a day at most
  if (context.extensionNumbers?.length) {
    const line = describe(older, "of these extensions (not counted with --extension)");
    return { older, say: () => log.warn(line) };
  }
  try {
    const count = await countRecordedCalls(context.api, {
      scope: context.scope,
      from: since,
      to: until,
      type: context.type,
      signal: context.signal,
    });
    if (count.kind === "counted") {
      const estimate = backfillEstimate(count.calls, context.budgetPerSecond() ?? USUAL_HEAVY_PER_SECOND);
      older.calls = count.calls;
      older.heavyRequests = estimate.requests;
      older.durationSeconds = estimate.durationMs === null ? null : Math.round(estimate.durationMs / 1000);
    }
  } catch (error) {
    if (endsRun(error) || context.signal.aborted) throw error;
    log.debug(`could not count the older recordings: ${(error as Error).message}`);
  }
  const line = describe(older, "(the call log gives no count)");
  return { older, say: () => (older.calls === 0 ? log.info(line) : log.warn(line)) };
}

/** The one line: how many (`uncounted`: what to say when not), and the command that takes them. */
function describe(older: OlderRecordings, uncounted: string): string {
  const kept = `the platform keeps recordings for ${older.retentionDays} days${older.retentionFromAccount ? "" : " (RingCentral's default; the account's could not be read)"}`;
  if (older.calls === 0) {
    return `first run: only the last 24 hours; the call log lists no older recordings (${kept}): nothing to backfill`;
  }
  const how =
    older.heavyRequests === null
      ? ""
      : ` (about ${older.heavyRequests.toLocaleString("en-US")} Heavy requests, ~${formatSpan(older.durationSeconds ?? 0)})`;
  const many =
    older.calls === null
      ? `older recordings ${uncounted}`
      : `${older.calls.toLocaleString("en-US")} older calls with recordings`;
  return `first run: only the last 24 hours; ${many} since ${older.since.slice(0, 10)} are still on the platform, which deletes each one after ${older.retentionDays} days; to archive them run: ${older.command}${how}`;
}

/**
 * The backfill command for these profiles, `--out` exactly as given (quoted for a POSIX shell when needed) and
 * the run's `--extension` numbers.
 */
export function backfillCommand(
  profiles: readonly string[],
  out: string,
  extensionNumbers: readonly string[] | undefined,
): string {
  const only = (extensionNumbers ?? []).map((number) => ` --extension ${number}`).join("");
  const rest = `download --out ${shellWord(out)} --from retention${only}`;
  if (profiles.length <= 1) return profileCommand(profiles[0], rest);
  return `rc-recordings ${profiles.map((name) => `--profile ${shellWord(name)}`).join(" ")} ${rest}`;
}

function shellWord(value: string): string {
  return /^[\w@%+=:,./~-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
