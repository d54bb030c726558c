import { type Command, Option } from "commander";
import { addArchiveOptions, addRangeOptions } from "./archive-options.js";
import { durationOf, type Launch, withExamples } from "./command.js";
import type { DownloadFlags } from "./download.js";

/** The options of the end-of-run reporting (commands/run-notices.ts): every exit reports, usage errors too. */
export const END_OF_RUN_OPTIONS = ["ping-url", "metrics-file"] as const;

export function declareDownload(parent: Command, launch: Launch): Command {
  const cmd = addRangeOptions(
    addArchiveOptions(
      parent
        .command("download")
        .description("download call recordings into a folder: incremental, resumable, rate-limit aware"),
    ),
    "start: ISO date/date-time, relative (36h, 7d) or retention (everything the platform still keeps); default: since the last run",
  )
    .option("--dry-run", "list what would be downloaded; download nothing", false)
    .addOption(
      new Option(
        "--repair",
        "fetch again what verify finds missing or changed (names from the manifest; a changed file is kept in quarantine)",
      )
        // They choose what to list from the call log and how to name it: a repair lists nothing, and puts each
        // recording back where the manifest has it.
        .conflicts(["template", "scope", "extension", "type", "metadata"]),
    )
    .option(
      "--max-duration <duration>",
      "stop starting work after this long (55m, 1h30m, 1d12h); exit 6 when recordings remain",
      durationOf("--max-duration"),
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
    .action((opts: DownloadFlags, c: Command) =>
      launch(async () => (await import("./download.js")).runDownload, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings download --out ~/recordings",
    "rc-recordings download --out ~/recordings --from retention --dry-run",
    "rc-recordings download --out ~/recordings --repair --dry-run",
  ]);
}
