import type { LanePool } from "../api/pool.js";
import type { RateLimitWait, WaitReason } from "../api/rate-limiter.js";
import type { Logger } from "../log/logger.js";
import { announceWait, LOGGED_WAIT_MS } from "../waits.js";
import type { Deadline } from "./deadline.js";

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
