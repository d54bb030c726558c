import { type Command, Option } from "commander";
import { type Launch, withExamples } from "./command.js";
import type { LoginOptions } from "./login.js";

export function declareLogin(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("login")
    .description("exchange a JWT credential once and keep the token pair for every later run")
    .option("--force", "revoke the stored login first, then log in again", false)
    .addOption(
      new Option("--server <url>", "RingCentral server URL (default https://platform.ringcentral.com)"),
    )
    .option("--client-id <id>", "app client id (or RC_APP_CLIENT_ID)")
    .option("--client-secret-file <path>", "read the app client secret from this file (- = stdin)")
    .option("--jwt-file <path>", "read the user's JWT credential from this file (- = stdin)")
    .action((opts: LoginOptions, c: Command) =>
      launch(async () => (await import("./login.js")).runLogin, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings login --client-id ABC --client-secret-file ~/.rc/secret --jwt-file ~/.rc/jwt",
    "rc-recordings --profile work --store file login",
    "rc-recordings login --force",
  ]);
}
