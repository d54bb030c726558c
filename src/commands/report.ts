import { DAY_MS } from "../archive/completeness.js";
import type { CommandContext } from "../context.js";
import { PartialFailureError, UsageError } from "../errors.js";
import type { CallLogScope } from "../listing/call-log.js";
import { CallLogSource } from "../listing/call-log-source.js";
import { readRetention, retentionEdge } from "../listing/retention.js";
import { USUAL_HEAVY_PER_SECOND } from "../run/eta.js";
import { compareWithPlatform, estimatePages, readArchive } from "../run/report.js";
import { reportCsv, reportText } from "../ui/completeness-format.js";
import { type RangeFlags, zoneOf } from "./archive-setup.js";
import { openProfilePool } from "./profile-pool.js";
import { FROM_RETENTION, timeRangeOf, warnBeforeRetention } from "./time-range.js";

/** The options commander hands over (declared in report.command.ts). */
export interface ReportFlags extends RangeFlags {
  out: string;
  scope?: CallLogScope;
  csv: boolean;
  by?: "extension";
  /** `--timezone` (or RC_RECORDINGS_TIMEZONE): the zone of dates given and of the table's days; default UTC. */
  timezone?: string;
}

/** A range longer than this shows its Heavy-request estimate before the listing starts. */
const LONG_RANGE_MS = 7 * DAY_MS;
/** The platform's usual Heavy budget (requests a minute), for the estimate before anything is learned. */
const HEAVY_PER_MINUTE = USUAL_HEAVY_PER_SECOND * 60;

/**
 * What the platform had against what the archive holds: the call log over the range (default: everything
 * the account's retention still keeps: its retentionPeriod, read once) held against the manifest. stdout: a table (or `--json`, `--csv`); exit 3 when any
 * listed recording is missing from the archive.
 */
export async function runReport(ctx: CommandContext, flags: ReportFlags): Promise<void> {
  if (flags.csv && ctx.options.json) throw new UsageError("--csv and --json exclude each other");
  const now = new Date();
  const zone = zoneOf(flags);
  const range = timeRangeOf(flags, now, zone);
  const destination = await ctx.factory.destination(flags.out);
  const archive = await readArchive(destination);
  const { lister } = await openProfilePool(ctx, { scope: flags.scope, onWait: () => undefined });
  // What the account keeps: the default range, and each pending recording's days left.
  const retention = await readRetention(lister, { signal: ctx.signal, log: ctx.log });
  const given = range.from === FROM_RETENTION ? undefined : range.from;
  const from = given ?? retentionEdge(retention, now);
  if (given) warnBeforeRetention(given, retention, { now, zone, log: ctx.log });
  if (from.getTime() >= range.to.getTime()) {
    throw new UsageError(
      `--to ${zone.human(range.to)} is before the retention edge ${zone.human(from)} (the oldest calls the platform keeps); give --from too`,
    );
  }
  if (range.to.getTime() - from.getTime() > LONG_RANGE_MS) {
    const pages = estimatePages(archive, { from, to: range.to });
    ctx.log.info(
      `listing ${Math.ceil((range.to.getTime() - from.getTime()) / DAY_MS)} days of the call log: about ${pages} Heavy requests (call-log pages, from what the archive holds there), about ${Math.ceil(pages / HEAVY_PER_MINUTE)} min at ${HEAVY_PER_MINUTE} a minute`,
    );
  }
  const source = new CallLogSource({
    from,
    to: range.to,
    timeBoxed: false,
    type: "All",
    raw: false,
    scope: flags.scope,
    log: ctx.log,
  });
  const { report, pages } = await compareWithPlatform({
    destination,
    archive,
    api: lister,
    source,
    byExtension: flags.by === "extension",
    now,
    retentionDays: retention.days,
    zone,
    signal: ctx.signal,
    log: ctx.log,
  });
  // With --json the report is the body of the run's result (cli.ts adds schema, exitCode, times, profile, out).
  ctx.result.report(report);
  if (!ctx.options.json)
    for (const line of flags.csv ? reportCsv(report) : reportText(report)) ctx.print(line);
  ctx.log.debug(`${pages} call-log pages listed`);
  const missing = report.missing.length;
  if (missing === 0) {
    ctx.log.info(`all ${report.expected} recordings the call log lists are archived`);
    return;
  }
  const count = (reason: string) => report.missing.filter((m) => m.reason === reason).length;
  throw new PartialFailureError(
    `${missing} of ${report.expected} recordings the call log lists are not archived (${count("deleted")} deleted, ${count("pending")} pending, ${count("failed")} failed)`,
  );
}
