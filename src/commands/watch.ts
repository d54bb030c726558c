import { singleLane } from "../api/lanes.js";
import type { RateLimitWait } from "../api/rate-limiter.js";
import type { CommandContext } from "../context.js";
import { PushChannel } from "../notifications/push-channel.js";
import { wsTokenVia } from "../notifications/ws-token.js";
import { openRun } from "../run/downloader.js";
import { poolWaits } from "../run/pool-waits.js";
import { RunStats } from "../run/stats.js";
import { formatBytes, formatDuration } from "../ui/format.js";
import { sweepReporter } from "../ui/reporter.js";
import { WatchHealth } from "../watch/health.js";
import { type StatusServer, serveStatus } from "../watch/http.js";
import type { ListenAddress } from "../watch/listen-address.js";
import { WatchMetrics } from "../watch/metrics.js";
import { DEFAULT_PERIOD_MS, DEFAULT_SCHEDULER_TIMINGS } from "../watch/scheduler.js";
import { type SweepReport, watch } from "../watch/service.js";
import { type ArchiveFlags, archiveShape, archiveSource, openArchiveDestination } from "./archive-setup.js";
import { signingKeyOf } from "./key-files.js";
import { openProfilePool } from "./profile-pool.js";

/** The options commander hands over (declared in watch.command.ts). */
export interface WatchFlags extends ArchiveFlags {
  /** `--sweep` in ms (commander's parser has checked it); default 15 minutes. */
  sweep?: number;
  listen?: ListenAddress;
}

/**
 * `watch`: the same archive as `download` (flags, destination, lock, profiles, rate limits, token sharing), kept
 * current by the watch service (src/watch/) until SIGTERM/SIGINT, which end it with exit 0 (a service's clean
 * stop; partial transfers are kept for the next start).
 */
export async function runWatch(ctx: CommandContext, flags: WatchFlags): Promise<void> {
  const shape = archiveShape(ctx, flags);
  const signer = await signingKeyOf(flags.signingKey, ctx.env);
  const destination = await openArchiveDestination(ctx, flags);
  const health = new WatchHealth();
  const metrics = new WatchMetrics({ profile: ctx.options.profile, out: flags.out });
  // Bound before any login or lock: a port in use is exit 2 at once, not after the archive was opened.
  let server: StatusServer | undefined;
  if (flags.listen) {
    server = await serveStatus(flags.listen, {
      health: () => health.status(),
      metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    });
    ctx.log.info(`serving GET /healthz and /metrics on http://${server.address}`);
  }
  try {
    let onWait: (wait: RateLimitWait) => void = () => undefined;
    const { pool, lister, downloader } = await openProfilePool(ctx, {
      scope: flags.scope,
      onWait: (_profile, wait) => onWait(wait),
    });
    onWait = poolWaits(pool, { deadline: undefined, reporter: { waiting: () => undefined }, log: ctx.log });
    // The push channel belongs to one login: its ws token, subscription and wsc recovery go with one session.
    const lane = pool.alive()[0];
    if (!lane) throw new Error("no profile left to open the push channel with");
    const pushApi = await ctx.factory.apiOver(singleLane(lane.tokens, lane.limiter, lane.name));
    const periodMs = flags.sweep ?? DEFAULT_PERIOD_MS;
    ctx.log.info(
      `watching ${destination.describe()}: events say when to look, a full sweep at least every ${formatDuration(periodMs / 1000)}`,
    );
    await watch({
      open: (progress, signal) =>
        openRun(
          {
            destination,
            concurrency: flags.concurrency,
            metadata: flags.metadata,
            dryRun: false,
            ...(signer && { signer }),
          },
          { api: downloader, listApi: lister, template: shape.template, progress, log: ctx.log, signal },
        ),
      source: archiveSource(ctx, flags, shape, { from: undefined, to: () => new Date(), timeBoxed: false }),
      channel: (listener) =>
        new PushChannel({ server: lane.tokens.server, wsToken: wsTokenVia(pushApi), listener, log: ctx.log }),
      timings: { ...DEFAULT_SCHEDULER_TIMINGS, periodMs },
      newStats: () => {
        const stats = new RunStats();
        stats.budgetPerSecond = () => pool.budgetPerSecond("heavy");
        stats.begin();
        return stats;
      },
      progress: (stats) =>
        sweepReporter({ log: ctx.log, dir: destination.describe(), stats, zone: shape.zone }),
      onSweep: (report) => reportSweep(ctx, report),
      health,
      metrics,
      log: ctx.log,
      signal: ctx.signal,
    });
    ctx.log.info("stopped; partial transfers are kept for the next start");
  } finally {
    await server?.close();
  }
}

/** One line per sweep on stderr; with --json also one JSON object per sweep on stdout (JSON lines). */
function reportSweep(ctx: CommandContext, report: SweepReport): void {
  const { summary } = report.outcome;
  const parts = [
    `listed ${summary.listed}`,
    `downloaded ${summary.downloaded}`,
    `skipped ${summary.skipped}`,
  ];
  if (summary.failed > 0) parts.push(`failed ${summary.failed}`);
  const pages = `${report.pages} call-log page${report.pages === 1 ? "" : "s"}`;
  const awaiting = report.awaiting > 0 ? `; ${report.awaiting} announced recording(s) not listed yet` : "";
  const line = `sweep ${report.number} (${report.reason}): ${parts.join(", ")}; ${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs / 1000)}, ${pages}${awaiting}`;
  const event = {
    event: "sweep",
    reason: report.reason,
    listed: summary.listed,
    downloaded: summary.downloaded,
    skipped: summary.skipped,
    failed: summary.failed,
    pages: report.pages,
    durationMs: summary.durationMs,
    error: report.error,
  } as const;
  if (report.error !== undefined)
    ctx.log.warn(`${line}; failed: ${report.error}; sweeping again later`, event);
  else if (summary.failed > 0) ctx.log.warn(line, event);
  else ctx.log.info(line, event);
  if (ctx.options.json) {
    ctx.printJson({
      sweep: report.number,
      reason: report.reason,
      end: report.outcome.end.kind,
      ...summary,
      pages: report.pages,
      awaiting: report.awaiting,
      ...(report.error !== undefined && { error: report.error }),
    });
  }
}
