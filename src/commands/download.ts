import type { CommandContext } from "../context.js";
import { InterruptedError, PartialFailureError, UsageError } from "../errors.js";
import type { CallLogScope, RecordingTypeFilter } from "../recordings/call-log.js";
import { parseWhen } from "../recordings/when.js";
import { PlannedJsonWriter } from "../ui/planned-json.js";

/** The options commander hands over (declared in cli.ts). */
export interface DownloadFlags {
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
}

/**
 * Validate every flag before the network is touched (exit 2 with one line), then: destination, auth session →
 * one rate limiter → API client → downloader. stdout gets the `--json` summary, or the planned paths of a `--dry-run`.
 */
export async function runDownload(ctx: CommandContext, flags: DownloadFlags): Promise<void> {
  const now = new Date();
  const to = flags.to === undefined ? now : parseWhen(flags.to, "--to", now);
  const from = flags.from === undefined ? undefined : parseWhen(flags.from, "--from", now);
  if (from && from.getTime() >= to.getTime()) {
    throw new UsageError(`--from ${from.toISOString()} is not before --to ${to.toISOString()}`);
  }
  const extensionNumbers = extensionFilter(flags);
  const { compileTemplate } = await import("../recordings/naming.js");
  const template = compileTemplate(flags.template);
  const destination = await ctx.factory.destination(flags.out);

  const [
    { listRecordings, listExtensionRecordings },
    { runDownload: run },
    { RunStats },
    { openExtensionDirectory },
  ] = await Promise.all([
    import("../recordings/call-log.js"),
    import("../recordings/downloader.js"),
    import("../recordings/stats.js"),
    import("../recordings/extensions.js"),
  ]);
  const { createReporter } = await import("../ui/reporter.js");
  const stats = new RunStats();
  const reporter = await createReporter({
    log: ctx.log,
    stderrIsTTY: ctx.stderrIsTTY,
    env: ctx.env,
    dir: destination.describe(),
    dryRun: flags.dryRun,
    stats,
  });
  const tokens = await ctx.factory.session(await ctx.factory.auth());
  const api = await ctx.factory.api(tokens, (wait) => reporter.waiting(wait.waitMs / 1000));
  const plannedJson =
    flags.dryRun && ctx.options.json ? new PlannedJsonWriter((text) => ctx.write(text)) : undefined;

  const outcome = await run(
    {
      destination,
      from,
      to,
      concurrency: flags.concurrency,
      metadata: flags.metadata,
      dryRun: flags.dryRun,
      ...(extensionNumbers && { extensionNumbers }),
    },
    {
      api,
      list: (range, client) => {
        const listing = { from: range.from, to: range.to, type: flags.type, raw: flags.metadata };
        return extensionNumbers
          ? listExtensionRecordings(client, listing, extensionNumbers, ctx.log)
          : listRecordings(client, { ...listing, scope: flags.scope }, ctx.log);
      },
      template,
      // An extension-scope run lists only its own calls: its own extension info names them all.
      extensions: (client, cache) =>
        openExtensionDirectory({
          api: client,
          source: flags.scope === "extension" ? "own" : "account",
          state: cache.state,
          writable: cache.writable,
          log: ctx.log,
        }),
      progress: reporter,
      stats,
      // A dry run prints each planned path as soon as it is known (a line, or an item of the JSON document).
      ...(flags.dryRun && {
        onPlanned: (path: string) => (plannedJson ? plannedJson.add(path) : ctx.print(path)),
      }),
      log: ctx.log,
      signal: ctx.signal,
    },
  ).finally(() => reporter.close());
  const { summary, end } = outcome;
  reporter.finish(summary);
  // A run that an error ended still says what it saved; the error then sets the exit code as usual.
  if (ctx.options.json) {
    const result = end.kind === "failed" ? { ...summary, error: oneLine(end.error) } : summary;
    if (plannedJson) plannedJson.end(result);
    else ctx.printJson(result);
  }
  if (end.kind === "failed") throw end.error;
  if (end.kind === "interrupted")
    throw new InterruptedError("interrupted; partial downloads are kept for the next run");
  const { failed, listed, skipped } = summary;
  if (failed > 0) {
    throw new PartialFailureError(
      `${failed} of ${listed - skipped} recordings could not be saved (see above)`,
    );
  }
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

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "";
}
