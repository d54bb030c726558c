import type { Command } from "commander";
import { addRangeOptions, outOption, scopeOption, timezoneOption } from "./archive-options.js";
import { choiceOption, type Launch, withExamples } from "./command.js";
import type { ReportFlags } from "./report.js";

export function declareReport(parent: Command, launch: Launch): Command {
  const cmd = addRangeOptions(
    parent
      .command("report")
      .description(
        "what the call log lists against what the archive holds: per day expected / archived / missing, and why (docs/proof.md)",
      )
      .addOption(outOption("the archive folder, or s3://BUCKET[/PREFIX]")),
    "start: ISO date/date-time, relative (36h, 7d) or retention; default: retention (what the account still keeps)",
  )
    .addOption(scopeOption())
    .option("--csv", "print the per-day table as CSV", false)
    .addOption(choiceOption("--by <what>", "also split the table per extension", ["extension"]))
    .addOption(timezoneOption())
    .action((opts: ReportFlags, c: Command) =>
      launch(async () => (await import("./report.js")).runReport, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings report --out ~/recordings --from 7d",
    "rc-recordings --json report --out s3://my-bucket/calls --from 2026-11-01 --to 2026-12-01",
    "rc-recordings report --out ~/recordings --by extension --csv > completeness.csv",
  ]);
}
