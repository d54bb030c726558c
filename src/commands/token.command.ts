import type { Command } from "commander";
import { type Launch, withExamples } from "./command.js";

/** `token status`, `token list` and `token revoke`: the stored logins. */
export function declareToken(parent: Command, launch: Launch): Command {
  const token = parent.command("token").description("inspect or end the stored login");
  withExamples(
    token
      .command("status")
      .description("show the stored token: owner, scope, expiry, store")
      .option("--verify", "make one cheap API call to prove the token works", false)
      .action((opts: { verify?: boolean }, c: Command) =>
        launch(async () => (await import("./token-status.js")).runTokenStatus, opts, c),
      ),
    ["rc-recordings token status", "rc-recordings --profile work --json token status --verify"],
  );
  withExamples(
    token
      .command("list")
      .description(
        "every profile: its store, server, whether a login is stored, when its refresh token expires",
      )
      .action((opts: Record<string, unknown>, c: Command) =>
        launch(async () => (await import("./token-list.js")).runTokenList, opts, c),
      ),
    ["rc-recordings token list", "rc-recordings --store s3://my-bucket/tokens --json token list"],
  );
  withExamples(
    token
      .command("revoke")
      .description("end the session server-side and delete the stored token pair")
      .action((opts: Record<string, unknown>, c: Command) =>
        launch(async () => (await import("./token-revoke.js")).runTokenRevoke, opts, c),
      ),
    ["rc-recordings token revoke", "rc-recordings --profile work token revoke"],
  );
  return token;
}
