import type { RateLimitWait } from "../api/rate-limiter.js";
import { compileTemplate } from "../archive/naming.js";
import type { CommandContext } from "../context.js";
import type { ObjectLockRequest } from "../destination/types.js";
import { InterruptedError, PartialFailureError, StoppedAtMaxDurationError, UsageError } from "../errors.js";
import type { CallLogScope, RecordingTypeFilter } from "../listing/call-log.js";
import { CallLogSource } from "../listing/call-log-source.js";
import { Deadline } from "../run/deadline.js";
import { runDownload as run } from "../run/downloader.js";
import { poolWaits } from "../run/pool-waits.js";
import { RunStats } from "../run/stats.js";
import { PlannedJsonWriter } from "../ui/planned-json.js";
import { createReporter } from "../ui/reporter.js";
import { Zone } from "../zone.js";
import { signingKeyOf } from "./key-files.js";
import { openProfilePool } from "./profile-pool.js";
import { type NoticeFlags, RunNotices } from "./run-notices.js";
import { resolveFrom, timeRangeOf } from "./time-range.js";

/** The options commander hands over (declared in download.command.ts). */
export interface DownloadFlags extends NoticeFlags {
  out: string;
  from?: string;
  to?: string;
  scope?: CallLogScope;
  type: RecordingTypeFilter;
  /** A whole number ≥ 1 (commander's positiveInt has checked it). */
  concurrency: number;
  template?: string;
  metadata: boolean;
  dryRun: boolean;
  /** `--extension N`, repeatable: only these extension numbers' recordings (account scope). */
  extension?: string[];
  /** `--timezone` (or RC_RECORDINGS_TIMEZONE): an IANA name, checked here; default UTC. */
  timezone?: string;
  /** `--max-duration` in ms (commander's parser has checked it). */
  maxDuration?: number;
  /** `--signing-key FILE`: an Ed25519 private key (PEM) that signs a checkpoint of the manifest's chain. */
  signingKey?: string;
  /** `--object-lock-days N` (commander's parser has checked it), `--object-lock-mode`, `--legal-hold`. */
  objectLockDays?: number;
  objectLockMode?: "governance" | "compliance";
  legalHold: boolean;
}

/**
 * Validate every flag before the network is touched (exit 2 with one line), then: destination, the profiles'
 * sessions (a pool when several) → one rate limiter each → API clients → downloader. stdout gets the `--json` summary, or the planned paths of a `--dry-run`.
 */
export async function runDownload(ctx: CommandContext, flags: DownloadFlags): Promise<void> {
  // First: a monitor hears of every run, also one that bad input ends at once.
  const notices = new RunNotices(ctx, flags);
  const zone = flags.timezone === undefined ? Zone.UTC : Zone.parse(flags.timezone);
  const now = new Date();
  const range = timeRangeOf(flags, now, zone);
  const extensionNumbers = extensionFilter(flags);
  const template = compileTemplate(flags.template, zone);
  if (!template.hasExt) {
    ctx.log.warn(
      `--template ${JSON.stringify(flags.template)} has no {ext}: files get no extension, so players cannot tell WAV from MP3; end it with .{ext}`,
    );
  }
  const signer = flags.dryRun ? undefined : await signingKeyOf(flags.signingKey, ctx.env);
  const destination = await ctx.factory.destination(flags.out, {
    objectLock: objectLockOf(flags),
    log: (line) => ctx.log.info(line),
  });
  notices.opened(destination, flags.dryRun);

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
  const { from } = await resolveFrom(range, { api: lister, now, zone, signal: ctx.signal, log: ctx.log });
  // The time box starts once the logins are proven, when the run itself starts.
  const deadline = flags.maxDuration === undefined ? undefined : new Deadline(flags.maxDuration);
  onWait = poolWaits(pool, { deadline, reporter, log: ctx.log });
  const source = new CallLogSource({
    from,
    to: range.to,
    timeBoxed: deadline !== undefined,
    type: flags.type,
    raw: flags.metadata,
    scope: flags.scope,
    extensionNumbers,
    log: ctx.log,
  });
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
  const { summary: ran, end } = outcome;
  const hooks = notices.hooksRun();
  const summary = {
    ...ran,
    ...(pool.size > 1 ? { profiles: pool.report() } : {}),
    ...(hooks ? { exec: hooks } : {}),
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

/** What `--object-lock-*` and `--legal-hold` ask of an S3 destination (docs/proof.md), or undefined. */
function objectLockOf(flags: DownloadFlags): ObjectLockRequest | undefined {
  if (flags.objectLockMode !== undefined && flags.objectLockDays === undefined) {
    throw new UsageError("--object-lock-mode needs --object-lock-days N (how long each recording is kept)");
  }
  const retention = flags.objectLockDays !== undefined && {
    // Governance by default: compliance cannot be shortened or lifted by anyone, root included, so it must be chosen.
    mode: flags.objectLockMode === "compliance" ? ("COMPLIANCE" as const) : ("GOVERNANCE" as const),
    days: flags.objectLockDays,
  };
  if (!retention && !flags.legalHold) return undefined;
  return { ...(retention && { retention }), legalHold: flags.legalHold };
}

/** `--extension` numbers, deduplicated; they filter the account call log, so `--scope extension` excludes them. */
function extensionFilter(flags: DownloadFlags): string[] | undefined {
  if (!flags.extension?.length) return undefined;
  if (flags.scope === "extension") {
    throw new UsageError(
      "--extension filters the account-wide call log; it cannot be used with --scope extension",
    );
  }
  return [...new Set(flags.extension)];
}
