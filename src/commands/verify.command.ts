import type { Command } from "commander";
import { outOption } from "./archive-options.js";
import { type Launch, withExamples } from "./command.js";
import type { VerifyFlags } from "./verify.js";

export function declareVerify(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("verify")
    .description("prove the archive is intact: re-hash every recording the manifest lists (read-only)")
    .addOption(outOption("the archive folder, or s3://BUCKET[/PREFIX]"))
    .option(
      "--chain-head <sha256>",
      "exit 3 unless the manifest's hash chain contains this head (a run's chainHead; docs/proof.md)",
    )
    .option("--public-key <file>", "check every signed checkpoint with this Ed25519 public key (PEM)")
    .action((opts: VerifyFlags, c: Command) =>
      launch(async () => (await import("./verify.js")).runVerify, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings verify --out ~/recordings",
    "rc-recordings --json verify --out s3://my-bucket/calls",
    "rc-recordings verify --out ~/recordings --public-key public-key.pem",
  ]);
}
