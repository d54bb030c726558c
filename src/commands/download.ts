import type { RateLimitWait } from "../api/rate-limiter.js";
import type { CommandContext } from "../context.js";
import { InterruptedError, PartialFailureError, StoppedAtMaxDurationError } from "../errors.js";
import { AT_RISK_DAYS, atRiskCutoff, retentionEdge } from "../listing/retention.js";
import type { RecordingSource } from "../listing/source.js";
import { Deadline, StoppedAtDeadline } from "../run/deadline.js";
import { runDownload as run } from "../run/downloader.js";
import { poolWaits } from "../run/pool-waits.js";
import { assertRepairable, RepairSource } from "../run/repair-source.js";
import { RunStats } from "../run/stats.js";
import { PlannedJsonWriter } from "../ui/planned-json.js";
import { createReporter } from "../ui/reporter.js";
import { createVerifyProgress } from "../ui/verify-progress.js";
import {
  type ArchiveFlags,
  archiveShape,
  archiveSource,
  openArchiveDestination,
  type RangeFlags,
  zoneOf,
} from "./archive-setup.js";
import { olderRecordingsNotice } from "./first-run.js";
import { signingKeyOf } from "./key-files.js";
import { openProfilePool } from "./profile-pool.js";
import { type NoticeFlags, RunNotices } from "./run-notices.js";
import { resolveFrom, timeRangeOf } from "./time-range.js";

/** The options commander hands over (declared in download.command.ts). */
export interface DownloadFlags extends NoticeFlags, ArchiveFlags, RangeFlags {
  dryRun: boolean;
  /** `--repair`: fetch again what `verify` would report missing or changed (commander refuses the listing flags). */
  repair?: boolean;
  /** `--max-duration` in ms (commander's parser has checked it). */
  maxDuration?: number;
}

/**
 * Validate every flag before the network is touched (exit 2 with one line), then: destination, the profiles'
 * sessions (a pool when several) → one rate limiter each → API clients → downloader. stdout gets the `--json` summary, or the planned paths of a `--dry-run`.
 */
export async function runDownload(ctx: CommandContext, flags: DownloadFlags): Promise<void> {
  // First: a monitor hears of every run, also one that bad input ends at once.
  const notices = new RunNotices(ctx, flags);
  const zone = zoneOf(flags);
  const now = new Date();
  const range = timeRangeOf(flags, now, zone);
  const shape = archiveShape(ctx, flags, zone);
  const { template } = shape;
  const signer = flags.dryRun ? undefined : await signingKeyOf(flags.signingKey, ctx.env);
  // The time box starts later (after the logins) but bounds the destination's requests too: see windDown below.
  const ending = new AbortController();
  const destination = await openArchiveDestination(ctx, flags, ending.signal);
  notices.opened(destination, flags.dryRun);
  if (flags.repair) await assertRepairable(destination);

  const stats = new RunStats();
  const reporter = await createReporter({
    log: ctx.log,
    stderrIsTTY: ctx.stderrIsTTY,
    env: ctx.env,
    dir: destination.describe(),
    dryRun: flags.dryRun,
    stats,
    zone,
  });
  let onWait: (wait: RateLimitWait) => void = () => undefined;
  const { pool, lister, downloader } = await openProfilePool(ctx, {
    scope: flags.scope,
    onWait: (_profile, wait) => onWait(wait),
  });
  stats.budgetPerSecond = () => pool.budgetPerSecond("heavy");
  // The time box starts once the logins are proven, when the run itself starts: its first requests (the
  // retention, a first run's count) are inside it, so a rate-limit wait that would outlast it ends the run at once.
  const deadline = flags.maxDuration === undefined ? undefined : new Deadline(flags.maxDuration);
  deadline?.windDown(() => ending.abort(new StoppedAtDeadline()));
  onWait = poolWaits(pool, { deadline, reporter, log: ctx.log });
  const beforeRun = deadline ? AbortSignal.any([ctx.signal, deadline.signal]) : ctx.signal;
  /** What the time box ended before the run began is exit 6 like any stop at --max-duration. */
  const stoppedBeforeRun = (error: unknown): never => {
    deadline?.dispose();
    throw deadline?.reached && !ctx.signal.aborted ? new StoppedAtMaxDurationError(undefined) : error;
  };
  const { from, retention } = await resolveFrom(range, {
    api: lister,
    now,
    zone,
    signal: beforeRun,
    log: ctx.log,
  }).catch(stoppedBeforeRun);
  // A run that lists from the retention edge sees every recording retention deletes next: it can count them.
  if (retention && from && from.getTime() <= retentionEdge(retention, now).getTime()) {
    stats.retentionRisk.arm(from, atRiskCutoff(retention, now));
  }
  // A first run takes the last 24 hours: say once what older recordings it leaves to retention.
  const firstRun =
    from === undefined
      ? await olderRecordingsNotice({
          api: lister,
          destination,
          retention: undefined,
          now,
          scope: flags.scope,
          type: flags.type,
          extensionNumbers: shape.extensionNumbers,
          profiles: ctx.options.profiles,
          out: flags.out,
          budgetPerSecond: stats.budgetPerSecond,
          signal: beforeRun,
          log: ctx.log,
        }).catch((error: unknown) => {
          // The count is a courtesy: a time box that ran out during it leaves the run to stop (exit 6, with
          // its summary), saying nothing of older recordings.
          if (deadline?.reached && !ctx.signal.aborted) return undefined;
          return stoppedBeforeRun(error);
        })
      : undefined;
  const source: RecordingSource = flags.repair
    ? new RepairSource({
        destination,
        from,
        to: range.to,
        progress: await createVerifyProgress({
          log: ctx.log,
          stderrIsTTY: ctx.stderrIsTTY,
          env: ctx.env,
          dir: destination.describe(),
        }),
        signal: ctx.signal,
        log: ctx.log,
        now,
      })
    : archiveSource(ctx, flags, shape, { from, to: range.to, timeBoxed: deadline !== undefined });
  const plannedJson =
    flags.dryRun && ctx.options.json ? new PlannedJsonWriter((text) => ctx.write(text)) : undefined;
  // The result ends the document the plan started, whatever ends the run (cli.ts adds the envelope).
  if (plannedJson) ctx.result.endStreamWith((document) => plannedJson.end(document));

  const locked = notices.lockedWork();
  const outcome = await run(
    {
      destination,
      concurrency: flags.concurrency,
      metadata: flags.metadata,
      dryRun: flags.dryRun,
      ...(deadline ? { deadline } : {}),
      ...(signer && { signer }),
    },
    {
      api: downloader,
      listApi: lister,
      template,
      progress: notices.observe(reporter),
      stats,
      ...(locked && { locked }),
      // A dry run prints each planned path as soon as it is known (a line, or an item of the JSON document).
      ...(flags.dryRun && {
        onPlanned: (path: string) => (plannedJson ? plannedJson.add(path) : ctx.print(path)),
      }),
      log: ctx.log,
      signal: ctx.signal,
    },
    source,
  ).finally(() => {
    reporter.close();
    deadline?.dispose();
  });
  // Said once the run got going: a run refused before listing (an unknown --extension) says only why.
  firstRun?.say();
  const older = firstRun?.older;
  const { summary: ran, end } = outcome;
  const hooks = notices.hooksRun();
  const summary = {
    ...ran,
    ...(pool.size > 1 ? { profiles: pool.report() } : {}),
    ...(hooks ? { exec: hooks } : {}),
    ...(older ? { olderRecordings: older } : {}),
    ...retentionAtRisk(stats),
  };
  reporter.finish(summary);
  // A run that an error ended still says what it saved; the error then sets the exit code as usual.
  ctx.result.report(summary);
  if (end.kind === "failed") throw end.error;
  if (end.kind === "interrupted")
    throw new InterruptedError("interrupted; partial downloads are kept for the next run");
  if (end.kind === "stopped") throw new StoppedAtMaxDurationError(end.remaining);
  const { failed, listed, skipped } = summary;
  if (failed > 0) {
    throw new PartialFailureError(
      `${failed} of ${listed - skipped} recordings could not be saved (see above)`,
    );
  }
  if (hooks && hooks.failed > 0) {
    throw new PartialFailureError(
      `--exec failed for ${hooks.failed} recordings (they are archived; the next run runs the hook again for them)`,
    );
  }
}

/** `retentionAtRisk` of the summary, when the run could count it (see RetentionRisk). */
function retentionAtRisk(stats: RunStats): { retentionAtRisk?: { withinDays: number; recordings: number } } {
  const recordings = stats.retentionRisk.count();
  return recordings === undefined ? {} : { retentionAtRisk: { withinDays: AT_RISK_DAYS, recordings } };
}
