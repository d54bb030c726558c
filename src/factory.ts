import type { RateLimitWait } from "./api/rate-limiter.js";
import type { AuthSettings } from "./auth/services.js";
import type { SharedObjects } from "./auth/store/shared-store.js";
import type { CommandContext, Factory } from "./context.js";

/**
 * The composition root: the one place that wires the real services (auth session, rate limiter, API client)
 * for a command. Modules are imported when first asked for, so `--help` loads none of them.
 */
export function defaultFactory(ctx: Omit<CommandContext, "factory">): Factory {
  // `--store s3://…`: the shared token store reaches its bucket through the S3 destination's client and lock
  // (one connection for every profile of the run); the AWS SDK loads only then.
  let shared: Promise<SharedObjects> | undefined;
  const storeSettings = async (): Promise<Pick<AuthSettings, "store" | "shared">> => {
    const store = ctx.options.store;
    if (typeof store !== "object") return { store };
    shared ??= import("./destination/s3/shared-objects.js").then((m) =>
      m.openSharedObjects(store, ctx.env, ctx.signal),
    );
    return { store: undefined, shared: await shared };
  };
  return {
    async auth(profile = ctx.options.profile) {
      const { authServices } = await import("./auth/services.js");
      return authServices({ profile, ...(await storeSettings()), env: ctx.env, log: ctx.log });
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
    async destination(out, { signal = ctx.signal, ...options } = {}) {
      const { openDestination } = await import("./destination/open.js");
      return openDestination(out, ctx.env, signal, options);
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
          ...(await storeSettings()),
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
        lanes.push({ name, tokens, limiter, scope: tokens.snapshot.scope });
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
