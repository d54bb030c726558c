import type { RateLimitWait } from "./api/rate-limiter.js";
import type { CommandContext, Factory } from "./context.js";

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
      return openDestination(out, ctx.env, ctx.signal);
    },
    async lanes(profiles, onWait) {
      const [{ authServices }, { openAuthSession }, { RateLimiter }] = await Promise.all([
        import("./auth/services.js"),
        import("./auth/session.js"),
        import("./api/rate-limiter.js"),
      ]);
      const lanes = [];
      for (const name of profiles) {
        const services = authServices({
          profile: name,
          store: ctx.options.store,
          env: ctx.env,
          log: ctx.log,
        });
        const tokens = await openAuthSession(services, { log: ctx.log, signal: ctx.signal });
        // One profile: its limiter logs its long waits itself. In a pool a profile that waits may lose the
        // request to another with a free slot, so the pool's own judgement logs them (run/pool-waits.ts).
        const limiter = new RateLimiter({
          ...(profiles.length === 1 ? { log: ctx.log } : {}),
          ...(onWait ? { onWait: (wait: RateLimitWait) => onWait(name, wait) } : {}),
        });
        lanes.push({ name, tokens, limiter });
      }
      return lanes;
    },
    async apiOver(lanes) {
      const { createApiClient } = await import("./api/client.js");
      return createApiClient({ lanes, log: ctx.log });
    },
    async prompter() {
      const { terminalPrompter } = await import("./ui/prompt.js");
      return terminalPrompter(ctx);
    },
    async readStdin() {
      const { readAllStdin } = await import("./ui/prompt.js");
      return readAllStdin();
    },
  };
}
