import type { Command } from "commander";
import { type Launch, withExamples } from "./command.js";

/** `config show`: the effective settings of the profile, each with where it came from. */
export function declareConfig(parent: Command, launch: Launch): Command {
  const config = parent.command("config").description("the config file's per-profile defaults");
  withExamples(
    config
      .command("show")
      .description(
        "print the effective settings and their source (flag, env, file, default); secrets redacted",
      )
      .action((opts: Record<string, unknown>, c: Command) =>
        launch(async () => (await import("./config-show.js")).runConfigShow, { ...opts, program: parent }, c),
      ),
    ["rc-recordings config show", "rc-recordings --profile acme --json config show"],
  );
  return config;
}
