import type { Command } from "commander";
import { type Launch, withExamples } from "./command.js";

/** `doctor`: what a scheduled run of the profile needs, checked the way that run would meet it. */
export function declareDoctor(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("doctor")
    .description(
      "check what a scheduled run needs: store without a terminal, login, server and TLS, clock, permissions, --out",
    )
    .option("-o, --out <dir>", "also check that this folder or s3://BUCKET[/PREFIX] is writable")
    .action((opts: { out?: string }, c: Command) =>
      launch(async () => (await import("./doctor.js")).runDoctor, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings doctor --out /srv/calls",
    "rc-recordings --profile work doctor --out s3://my-bucket/calls",
    'env -i HOME="$HOME" "$(command -v node)" "$(command -v rc-recordings)" --json doctor',
  ]);
}
