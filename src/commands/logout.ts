import { logout } from "../auth/revoke.js";
import type { CommandContext } from "../context.js";

/** `logout`: revoke the session and forget the profile's stored login and app credentials; idempotent. */
export async function runLogout(ctx: CommandContext, _options: Record<string, unknown>): Promise<void> {
  const services = await ctx.factory.auth();
  const outcome = await logout(services, ctx.log, ctx.signal);
  const profile = services.profile;
  if (ctx.options.json) {
    ctx.printJson(
      outcome.forgotten
        ? { profile, forgotten: true, store: outcome.store, revoked: outcome.session === "revoked" }
        : { profile, forgotten: false, store: null, revoked: false, reason: "nothing stored" },
    );
    return;
  }
  if (!outcome.forgotten) {
    ctx.log.info(`profile "${profile}": nothing stored, nothing to forget`);
    return;
  }
  const session = {
    revoked: "revoked its session",
    "already ended": "its session had already ended",
    unreadable: "its record was damaged, so no session could be revoked",
  }[outcome.session];
  ctx.log.info(
    `profile "${profile}": ${session}; forgot its token pair and app credentials (${outcome.store} store: ${outcome.path})`,
  );
}
