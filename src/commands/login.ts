import { login } from "../auth/login.js";
import type { CommandContext } from "../context.js";
import { loginCommand } from "../errors.js";
import { describeExpiry } from "../ui/format.js";

export interface LoginOptions {
  force?: boolean;
  server?: string;
  clientId?: string;
  clientSecretFile?: string;
  jwtFile?: string;
}

/** `login [--force]`: obtain and store a token pair once; later runs reuse it. */
export async function runLogin(ctx: CommandContext, options: LoginOptions): Promise<void> {
  const prompter = await ctx.factory.prompter();
  const outcome = await login(
    await ctx.factory.auth(),
    {
      force: Boolean(options.force),
      sources: {
        flags: {
          server: options.server,
          clientId: options.clientId,
          clientSecretFile: options.clientSecretFile,
          jwtFile: options.jwtFile,
        },
        env: ctx.env,
        readStdin: ctx.factory.readStdin,
        ...(prompter ? { prompter } : {}),
      },
    },
    ctx.log,
    ctx.signal,
  );
  const { tokens } = outcome;
  if (ctx.options.json) {
    ctx.printJson({
      profile: outcome.profile,
      server: outcome.server,
      store: outcome.store,
      loggedIn: true,
      reused: outcome.reused,
      ownerId: tokens.ownerId,
      scope: tokens.scope,
      accessTokenExpiresAt: new Date(tokens.accessTokenExpiresAt).toISOString(),
      refreshTokenExpiresAt: new Date(tokens.refreshTokenExpiresAt).toISOString(),
    });
    return;
  }
  const who = `extension ${tokens.ownerId || "?"} on ${outcome.server} (profile "${outcome.profile}")`;
  if (outcome.reused) {
    // Reused only for the same server, app AND JWT: a different JWT is another user and logs in anew.
    ctx.log.info(
      `already logged in as ${who} with this app and JWT; no token request made (use --force to log in again)`,
    );
  } else {
    ctx.log.info(`logged in as ${who}`);
  }
  // Where the pair went, and whether a job without a terminal (cron, systemd) will reach it: the usual way a
  // nightly job fails is a login made at a desktop whose keychain the job cannot open.
  ctx.log.info(
    outcome.store === "file"
      ? `token pair kept in the file store: ${outcome.storePath}; scheduled jobs of this user (cron, systemd) reach it`
      : `token pair kept in the keychain store: ${outcome.storePath} (its key in the OS keychain); a scheduled job reaches it only through this user's D-Bus session (a systemd user service with lingering), not from cron: for cron run ${loginCommand(outcome.profile, "file")}`,
  );
  ctx.log.info(`refresh token ${describeExpiry(tokens.refreshTokenExpiresAt, Date.now())}`);
}
