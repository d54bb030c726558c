import { type Command, Option } from "commander";
import { ENV_NAMES } from "../auth/credentials.js";
import { readsEnvironment } from "../config/resolve.js";
import { type Launch, withExamples } from "./command.js";
import type { LoginOptions } from "./login.js";

/** An option for one of the app credentials, which login also reads from that credential's variables. */
function credential(flags: string, description: string, name: keyof typeof ENV_NAMES): Option {
  return readsEnvironment(new Option(flags, description), ENV_NAMES[name]);
}

export function declareLogin(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("login")
    .description("exchange a JWT credential once and keep the token pair for every later run")
    .option("--force", "revoke the stored login first, then log in again", false)
    // login reads each credential's environment variables itself (auth/credentials.ts): a value from the
    // config file must yield to them as it does to a flag.
    .addOption(
      credential(
        "--server <url>",
        "RingCentral server URL (default https://platform.ringcentral.com)",
        "server",
      ),
    )
    .addOption(credential("--client-id <id>", "app client id (or RC_APP_CLIENT_ID)", "clientId"))
    .addOption(
      credential(
        "--client-secret-file <path>",
        "read the app client secret from this file (- = stdin)",
        "clientSecret",
      ),
    )
    .addOption(
      credential("--jwt-file <path>", "read the user's JWT credential from this file (- = stdin)", "jwt"),
    )
    .action((opts: LoginOptions, c: Command) =>
      launch(async () => (await import("./login.js")).runLogin, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings login --client-id ABC --client-secret-file ~/.rc/secret --jwt-file ~/.rc/jwt",
    "rc-recordings --profile work --store file login",
    "rc-recordings login --force",
  ]);
}
