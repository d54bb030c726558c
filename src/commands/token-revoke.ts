import { revokeLogin } from "../auth/revoke.js";
import type { CommandContext } from "../context.js";

/** `token revoke`: end the session server-side and forget the pair (app credentials stay for `login`). */
export async function runTokenRevoke(ctx: CommandContext, _options: Record<string, unknown>): Promise<void> {
  const services = await ctx.factory.auth();
  const outcome = await revokeLogin(services, ctx.log, ctx.signal);
  if (ctx.options.json) {
    ctx.printJson({
      profile: services.profile,
      revoked: outcome.revoked,
      ...(outcome.revoked ? {} : { reason: outcome.reason }),
    });
    return;
  }
  ctx.log.info(
    outcome.revoked
      ? `revoked the session of profile "${services.profile}" and deleted its token pair`
      : `profile "${services.profile}": ${outcome.reason === "nothing stored" ? "nothing stored, nothing to revoke" : "the login was already ended"}`,
  );
}
