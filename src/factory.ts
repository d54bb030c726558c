import type { CommandContext, Factory } from "./context.js";
import { readAllStdin, terminalPrompter } from "./ui/prompt.js";

/**
 * The composition root: the one place that wires the real services (auth session, rate limiter, API client)
 * for a command. Modules are imported when first asked for, so `--help` loads none of them.
 */
export function defaultFactory(ctx: Omit<CommandContext, "factory">): Factory {
  return {
    async auth(profile = ctx.options.profile) {
      const { authServices } = await import("./auth/services.js");
      return authServices({ profile, store: ctx.options.store, env: ctx.env, log: ctx.log });
    },
    async session(services) {
      const { openAuthSession } = await import("./auth/session.js");
      return openAuthSession(services, { log: ctx.log, signal: ctx.signal });
    },
    async api(tokens, onWait) {
      const [{ createApiClient }, { RateLimiter }] = await Promise.all([
        import("./api/client.js"),
        import("./api/rate-limiter.js"),
      ]);
      // The limiter logs every wait over 30 s itself (length and reason), in the run's log format.
      const limiter = new RateLimiter({ log: ctx.log, ...(onWait ? { onWait } : {}) });
      return createApiClient({ tokens, limiter, log: ctx.log });
    },
    async destination(out) {
      const { openDestination } = await import("./destination/open.js");
      return openDestination(out, ctx.env);
    },
    prompter: () => terminalPrompter(ctx),
    readStdin: readAllStdin,
  };
}
