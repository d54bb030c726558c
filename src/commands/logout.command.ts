import type { Command } from "commander";
import { type Launch, withExamples } from "./command.js";

/** `logout`: the opposite of `login`: the session ends and the profile forgets everything it stored. */
export function declareLogout(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("logout")
    .description(
      "end the session server-side and forget the profile: token pair and app credentials (client id, secret, JWT)",
    )
    .action((opts: Record<string, unknown>, c: Command) =>
      launch(async () => (await import("./logout.js")).runLogout, opts, c),
    );
  return withExamples(cmd, ["rc-recordings logout", "rc-recordings --profile work --json logout"]);
}
