import type { Command } from "commander";
import { addRangeOptions, outOption } from "./archive-options.js";
import { extensionNumber, type Launch, withExamples } from "./command.js";
import type { ExportFlags } from "./export.js";

export function declareExport(parent: Command, launch: Launch): Command {
  const cmd = addRangeOptions(
    parent
      .command("export")
      .description(
        "copy a range of the archive for a recipient: recordings, sidecars, their manifest lines, the chain proof, SHA256SUMS, README (docs/proof.md)",
      )
      .addOption(outOption("the archive folder, or s3://BUCKET[/PREFIX] (only read)"))
      .requiredOption("--to-dir <dir>", "a new or empty folder for the export"),
    "start: ISO date/date-time or relative (36h, 7d); default: the first archived call",
  )
    .option("--extension <number>", "only this extension's recordings (repeatable)", extensionNumber)
    .action((opts: ExportFlags, c: Command) =>
      launch(async () => (await import("./export.js")).runExport, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings export --out /srv/calls --from 2026-11-01 --to 2026-12-01 --to-dir ./case-4711",
    "rc-recordings export --out s3://my-bucket/calls --extension 101 --to-dir ./ext-101",
    "rc-recordings verify --out ./case-4711",
  ]);
}
