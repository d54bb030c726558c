import { type Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../listing/when.js";
import { choiceOption, type Launch, positiveInt, withExamples } from "./command.js";
import type { DownloadFlags } from "./download.js";

function maxDuration(value: string): number {
  try {
    return parseDuration(value, "--max-duration");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--max-duration "[^"]*": /, ""));
  }
}

/** S3 Object Lock retention is per object; 100 years is AWS's own ceiling for a bucket's default retention. */
const MAX_LOCK_DAYS = 36_500;

function lockDays(value: string): number {
  const days = positiveInt(value);
  if (days > MAX_LOCK_DAYS) throw new InvalidArgumentError(`must be at most ${MAX_LOCK_DAYS} (100 years)`);
  return days;
}

/** A repeatable `--extension N`: short extension numbers are digits. */
function extensionNumber(value: string, previous: string[] | undefined): string[] {
  if (!/^\d{1,10}$/.test(value)) throw new InvalidArgumentError("must be an extension number (digits)");
  return [...(previous ?? []), value];
}

/** The options of the end-of-run reporting (commands/run-notices.ts): every exit reports, usage errors too. */
export const END_OF_RUN_OPTIONS = ["ping-url", "metrics-file"] as const;

export function declareDownload(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("download")
    .description("download call recordings into a folder: incremental, resumable, rate-limit aware")
    .option("-o, --out <dir>", "destination folder, or s3://BUCKET[/PREFIX] (see docs/s3.md)", "./recordings")
    .option(
      "--from <when>",
      "start: ISO date/date-time, relative (36h, 7d) or retention (everything the platform still keeps); default: since the last run",
    )
    .option("--to <when>", "end: ISO date/date-time or relative; default: now")
    .addOption(choiceOption("--scope <scope>", "account-wide call log or your own", ["account", "extension"]))
    .addOption(
      choiceOption("--type <type>", "recording type (any case)", ["Automatic", "OnDemand", "All"]).default(
        "All",
      ),
    )
    .option("-c, --concurrency <n>", "parallel transfers", positiveInt, 4)
    .option(
      "--extension <number>",
      "only this extension's recordings (repeatable; account-wide call log)",
      extensionNumber,
    )
    .option("--template <template>", "file name template; placeholders in docs/downloading.md")
    .addOption(
      new Option(
        "--timezone <zone>",
        "IANA zone of {date}/{time} in names, index.csv's date/time and --from/--to dates (default: UTC)",
      ).env("RC_RECORDINGS_TIMEZONE"),
    )
    .option("--metadata", "write a <file>.json sidecar with the call-log record", false)
    .option("--dry-run", "list what would be downloaded; download nothing", false)
    .option(
      "--max-duration <duration>",
      "stop starting work after this long (55m, 1h30m, 1d12h); exit 6 when recordings remain",
      maxDuration,
    )
    .addOption(
      new Option(
        "--ping-url <url>",
        "ping URL/start, then URL (exit 0/6) or URL/fail with the JSON result",
      ).env("RC_RECORDINGS_PING_URL"),
    )
    .addOption(
      new Option("--metrics-file <path>", "write Prometheus textfile metrics here after the run").env(
        "RC_RECORDINGS_METRICS_FILE",
      ),
    )
    .option(
      "--exec <command>",
      "run /bin/sh -c COMMAND after each saved recording (RC_RECORDING_* variables)",
    )
    .option(
      "--signing-key <file>",
      "end the run with a checkpoint of the manifest's hash chain signed by this Ed25519 key (PEM; docs/proof.md)",
    )
    .option(
      "--object-lock-days <days>",
      "s3:// only: keep each recording and sidecar under S3 Object Lock for this many days (docs/proof.md)",
      lockDays,
    )
    .addOption(
      choiceOption(
        "--object-lock-mode <mode>",
        "retention mode of --object-lock-days (any case; default: governance)",
        ["governance", "compliance"],
      ),
    )
    .option("--legal-hold", "s3:// only: put a legal hold on each new recording and sidecar", false)
    .action((opts: DownloadFlags, c: Command) =>
      launch(async () => (await import("./download.js")).runDownload, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings download --out ~/recordings",
    "rc-recordings download --out ~/recordings --from retention --dry-run",
    "rc-recordings --json download --out s3://my-bucket/calls --max-duration 55m",
  ]);
}
