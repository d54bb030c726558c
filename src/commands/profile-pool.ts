import { readOwnExtension } from "../api/extension-info.js";
import { singleLane } from "../api/lanes.js";
import { LanePool, poolProblem } from "../api/pool.js";
import type { RateLimitWait, WaitReason } from "../api/rate-limiter.js";
import type { ApiClient } from "../api/types.js";
import { ENV_NAMES } from "../auth/credentials.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { Deadline } from "../run/deadline.js";
import { announceWait, LOGGED_WAIT_MS } from "../waits.js";

/** The profiles of one `download`: who lists, who downloads, and what became of each. */
export interface ProfilePool {
  pool: LanePool;
  /** The first profile still alive: the listing. */
  lister: ApiClient;
  /** Whichever profile has a free Heavy slot first: the transfers. */
  downloader: ApiClient;
}

/**
 * Open every `--profile` as a lane of one pool (its own session, refresh lock, store and rate limiter). With
 * several, each is proven with one Light extension-info call before any content request: same server, same
 * account, and with `--scope account` the account-wide permission; otherwise exit 2 naming the profile.
 */
export async function openProfilePool(
  ctx: CommandContext,
  options: {
    scope: "account" | "extension" | undefined;
    onWait: (profile: string, wait: RateLimitWait) => void;
  },
): Promise<ProfilePool> {
  const names = ctx.options.profiles;
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--profile ${twice} is given twice`);
  if (names.length > 1) noticeIgnoredEnvironment(ctx);
  const lanes = await ctx.factory.lanes(names, options.onWait);
  const pool = new LanePool(lanes, (lane, error) => {
    const reason = error.message.replace(/; run: rc-recordings login$/, "");
    ctx.log.warn(
      `profile "${lane.name}" is dropped from the pool (${reason}); the other profiles carry on; run: rc-recordings login --profile ${lane.name}`,
    );
  });
  if (lanes.length > 1) {
    const identities = [];
    for (const lane of lanes) {
      const api = await ctx.factory.apiOver(singleLane(lane.tokens, lane.limiter, lane.name));
      const extension = await readOwnExtension(api, ctx.signal);
      identities.push({
        name: lane.name,
        server: lane.tokens.server,
        accountId: extension.accountId,
        extensionId: extension.id,
        admin: extension.admin,
      });
    }
    const problem = poolProblem(identities, options.scope);
    if (problem) throw new UsageError(problem);
  }
  return {
    pool,
    lister: await ctx.factory.apiOver(pool.lister()),
    downloader: await ctx.factory.apiOver(pool.downloader()),
  };
}

/**
 * What a profile's rate-limit wait means for the run. A profile that queued a request may still lose it to
 * another with a free slot, so the pool is judged once the dust settles: the wait shown is the pool's (the
 * shortest of its profiles'), and a pool-wide wait that would end after the deadline ends the run at once.
 */
export function poolWaits(
  pool: LanePool,
  on: {
    deadline: Deadline | undefined;
    reporter: { waiting(seconds: number, reason?: WaitReason): void };
    log: Logger;
  },
): (wait: RateLimitWait) => void {
  let announcedUntil = 0;
  return (wait) => {
    setImmediate(() => {
      const poolWaitMs = pool.earliestFreeInMs(wait.group);
      if (poolWaitMs >= 1000) on.reporter.waiting(poolWaitMs / 1000, wait.reason);
      // A single profile's limiter logs its own long waits; a pool's are the pool's (once per wait).
      const until = Date.now() + poolWaitMs;
      if (pool.size > 1 && poolWaitMs > LOGGED_WAIT_MS && Math.abs(until - announcedUntil) > 1000) {
        announcedUntil = until;
        const why = wait.reason === "penalty" ? "a 429 penalty" : "its budget used up";
        announceWait(on.log, poolWaitMs, `every profile of the pool waits (${wait.group}: ${why})`, {
          group: wait.group,
        });
      }
      const { deadline } = on;
      if (deadline && !deadline.reached && deadline.outlasts(poolWaitMs)) {
        on.log.info(
          `the rate-limit wait (${Math.ceil(poolWaitMs / 1000)} s) would end after --max-duration; stopping now`,
        );
        deadline.endNow();
      }
    });
  };
}

/**
 * Each profile of a pool uses only the credentials its own `login` stored: credential variables in the
 * environment would make every profile the same user, so they are ignored here, and said so once.
 */
function noticeIgnoredEnvironment(ctx: CommandContext): void {
  const set = Object.values(ENV_NAMES)
    .flat()
    .filter((name) => (ctx.env[name] ?? "").trim() !== "");
  if (set.length === 0) return;
  ctx.log.info(
    `ignoring ${set.join(", ")} with several --profile: each profile uses the credentials its own login stored`,
  );
}
