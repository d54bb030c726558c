import { type Lane, singleLane } from "../api/lanes.js";
import { LanePool, provePool } from "../api/pool.js";
import type { RateLimitWait } from "../api/rate-limiter.js";
import type { ApiClient } from "../api/types.js";
import { ENV_NAMES } from "../auth/credentials.js";
import { missingPermissions } from "../auth/permissions.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../errors.js";

/** The profiles of one `download`: who lists, who downloads, and what became of each. */
export interface ProfilePool {
  pool: LanePool;
  /** The listing: the account's log through whichever profile is free (when all may read it), else the first. */
  lister: ApiClient;
  /** Whichever profile has a free Heavy slot first: the transfers. */
  downloader: ApiClient;
}

/**
 * Open every `--profile` as a lane of one pool (its own session, refresh lock, store and rate limiter). With
 * several, each is proven before any content request (api/pool.ts provePool); otherwise exit 2 naming the profile.
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
  const pool = new LanePool(lanes, (_lane, line) => ctx.log.warn(line));
  leaveOutUnpermitted(pool, lanes);
  const { sharedListing } = await provePool(
    pool.alive(),
    (lane) => ctx.factory.apiOver(singleLane(lane.tokens, lane.limiter, lane.name)),
    {
      scope: options.scope,
      signal: ctx.signal,
    },
  );
  return {
    pool,
    lister: await ctx.factory.apiOver(pool.lister(sharedListing)),
    downloader: await ctx.factory.apiOver(pool.downloader()),
  };
}

/**
 * A profile whose token names its app's permissions (the OAuth scope) without one that a run's requests need
 * (the call log, the recordings, account info: auth/permissions.ts) could only collect refusals: it leaves the
 * pool before any request, with one warning. Unless no profile has them all: then every one stays, and the
 * platform's answers tell (as they do for a token that names no scope).
 */
function leaveOutUnpermitted(pool: LanePool, lanes: readonly Lane[]): void {
  const missing = lanes.map((lane) => (lane.scope?.trim() ? missingPermissions(lane.scope) : []));
  if (!missing.some((lacks) => lacks.length === 0)) return;
  lanes.forEach((lane, i) => {
    const lacks = missing[i] ?? [];
    if (lacks.length === 0) return;
    pool.dropBeforehand(
      lane,
      `its app lacks ${lacks.join(", ")}: the token's scope is ${lane.scope}`,
      `give the app ${lacks.join(", ")} (then run: rc-recordings login --profile ${lane.name})`,
    );
  });
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
