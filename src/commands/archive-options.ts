import { type Command, InvalidArgumentError, Option } from "commander";
import { choiceOption, extensionNumber, positiveInt } from "./command.js";

/** S3 Object Lock retention is per object; 100 years is AWS's own ceiling for a bucket's default retention. */
const MAX_LOCK_DAYS = 36_500;

function lockDays(value: string): number {
  const days = positiveInt(value);
  if (days > MAX_LOCK_DAYS) throw new InvalidArgumentError(`must be at most ${MAX_LOCK_DAYS} (100 years)`);
  return days;
}

/** Where `--out` points when it is not given: the same folder for every command that reads or writes an archive. */
export const DEFAULT_OUT = "./recordings";

/** `-o, --out`: the archive (a folder or s3://BUCKET[/PREFIX]), as this command uses it. */
export function outOption(description: string): Option {
  return new Option("-o, --out <dir>", description).default(DEFAULT_OUT);
}

/** `--scope`: which call log a command lists (resolved by the profile pool: account-wide when permitted). */
export function scopeOption(): Option {
  return choiceOption("--scope <scope>", "account-wide call log or your own", ["account", "extension"]);
}

/**
 * `--from`/`--to`, the calls' start times a command lists or reads (download, report, export; parsed by
 * time-range.ts `timeRangeOf`). `--to` means the same everywhere; `from` says what this command's `--from`
 * accepts and what it defaults to.
 */
export function addRangeOptions(cmd: Command, from: string): Command {
  return cmd
    .option("--from <when>", from)
    .option("--to <when>", "end: ISO date/date-time or relative (36h, 7d); default: now");
}

/**
 * `--timezone ZONE` (or RC_RECORDINGS_TIMEZONE), declared once for every command that reads or shows dates
 * (`download`, `watch`, `report`); each resolves it with archive-setup.ts `zoneOf`.
 */
export function timezoneOption(): Option {
  return new Option(
    "--timezone <zone>",
    "IANA zone of dates: {date}/{time} in names, index.csv, --from/--to, report's days (default: UTC)",
  ).env("RC_RECORDINGS_TIMEZONE");
}

/**
 * The flags that decide what an archive holds and how it is laid out, declared once for every command that
 * writes one (`download`, `watch`): both keep the same folder the same way. Resolved in archive-setup.ts.
 */
export function addArchiveOptions(cmd: Command): Command {
  return cmd
    .addOption(outOption("destination folder, or s3://BUCKET[/PREFIX] (see docs/s3.md)"))
    .addOption(scopeOption())
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
    .addOption(timezoneOption())
    .option("--metadata", "write a <file>.json sidecar with the call-log record", false)
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
    .option("--legal-hold", "s3:// only: put a legal hold on each new recording and sidecar", false);
}
