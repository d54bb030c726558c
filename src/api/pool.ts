import { LoginRequiredError } from "../errors.js";
import type { Lane, LaneChooser } from "./lanes.js";
import type { RateLimitPermit } from "./rate-limiter.js";
import { routeOf } from "./routes.js";

/** What the summary says about each profile of a pool. */
export interface LaneReport {
  name: string;
  /** Recording content responses (200/206) that came through this profile. */
  downloaded: number;
  /** Why the profile was dropped (its login died mid-run), else null. */
  error: string | null;
}

interface Member {
  readonly lane: Lane;
  downloaded: number;
  error: string | undefined;
}

/** A losing lane's queued request is withdrawn with this reason (never seen by callers). */
class RaceLost extends Error {}

/**
 * Several logins (profiles) of one account, each with its own token pair and its own rate limiter: RingCentral
 * budgets requests per user+app, so N profiles fetch N times as fast. Two policies over the same lanes:
 * `lister()` sends through the first profile that is still alive (one listing, in order), `downloader()` through
 * whichever profile gets a free slot first. A profile whose login dies is dropped; its requests move to the
 * others, and only when none is left does the LoginRequiredError reach the caller.
 */
export class LanePool {
  private readonly members: Member[];

  constructor(
    lanes: readonly Lane[],
    private readonly onDropped: (lane: Lane, error: LoginRequiredError) => void = () => undefined,
  ) {
    if (lanes.length === 0) throw new RangeError("a pool needs at least one lane");
    this.members = lanes.map((lane) => ({ lane, downloaded: 0, error: undefined }));
  }

  get size(): number {
    return this.members.length;
  }

  alive(): Lane[] {
    return this.members.filter((m) => m.error === undefined).map((m) => m.lane);
  }

  report(): LaneReport[] {
    return this.members.map((m) => ({ name: m.lane.name, downloaded: m.downloaded, error: m.error ?? null }));
  }

  /** The shortest time until any live profile may send a request of `group` (0: one may send now). */
  earliestFreeInMs(group: string): number {
    const waits = this.alive().map((lane) => lane.limiter.freeInMs(group));
    return waits.length === 0 ? 0 : Math.min(...waits);
  }

  /**
   * Requests per second the live profiles may send in `group` together, from the budgets their responses
   * taught (Σ limit ÷ window). A profile not taught yet counts like the average of those that were (profiles of
   * one account share a plan); undefined until any was taught, or when the server sends no budget at all.
   */
  budgetPerSecond(group: string): number | undefined {
    const alive = this.alive();
    const taught = alive
      .map((lane) => lane.limiter.counters().find((c) => c.group === group.toLowerCase()))
      .flatMap((c) => (c?.limit !== undefined && c.windowSec ? [c.limit / c.windowSec] : []));
    if (taught.length === 0) return undefined;
    const average = taught.reduce((sum, rate) => sum + rate, 0) / taught.length;
    return average * alive.length;
  }

  lister(): LaneChooser {
    return this.chooser(async (url, signal) => {
      const lane = this.firstAlive();
      return { lane, permit: await lane.limiter.acquire(url, signal) };
    });
  }

  downloader(): LaneChooser {
    return this.chooser((url, signal) => firstFree(this.alive(), url, signal));
  }

  private chooser(acquire: LaneChooser["acquire"]): LaneChooser {
    return {
      server: this.firstAlive().tokens.server,
      acquire: (url, signal) => {
        this.firstAlive(); // throws the last profile's error when none is left
        return acquire(url, signal);
      },
      lost: (lane, error) => this.lost(lane, error),
      responded: (lane, url, status) => {
        if ((status === 200 || status === 206) && routeOf(url).key === "recording-content") {
          const member = this.members.find((m) => m.lane === lane);
          if (member) member.downloaded++;
        }
      },
    };
  }

  private firstAlive(): Lane {
    const lane = this.alive()[0];
    if (lane) return lane;
    const last = this.members[this.members.length - 1];
    throw new LoginRequiredError(
      `no profile of the pool has a usable login left (last: ${last?.error ?? "?"})`,
    );
  }

  private lost(lane: Lane, error: unknown): boolean {
    if (!(error instanceof LoginRequiredError)) return false;
    const member = this.members.find((m) => m.lane === lane);
    if (!member) return false;
    if (member.error === undefined) {
      member.error = error.message;
      if (this.alive().length > 0) this.onDropped(lane, error);
    }
    return this.alive().length > 0;
  }
}

/**
 * Queue the request on every lane at once; the first lane to grant a slot wins, the others' places in line are
 * withdrawn (a slot granted in the same instant is handed back unused).
 */
function firstFree(
  lanes: readonly Lane[],
  url: URL,
  signal: AbortSignal | undefined,
): Promise<{ lane: Lane; permit: RateLimitPermit }> {
  const [only] = lanes;
  if (lanes.length === 1 && only)
    return only.limiter.acquire(url, signal).then((permit) => ({ lane: only, permit }));
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const controllers = lanes.map(() => new AbortController());
    let settled = false;
    let failures = 0;
    const onAbort = () => {
      for (const controller of controllers) controller.abort(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      settled = true;
      signal?.removeEventListener("abort", onAbort);
    };
    lanes.forEach((lane, i) => {
      lane.limiter.acquire(url, controllers[i]?.signal).then(
        (permit) => {
          if (settled) {
            permit.release();
            return;
          }
          finish();
          controllers.forEach((controller, j) => {
            if (j !== i) controller.abort(new RaceLost());
          });
          resolve({ lane, permit });
        },
        (error: unknown) => {
          if (settled || ++failures < lanes.length) return;
          finish();
          reject(signal?.aborted ? signal.reason : error);
        },
      );
    });
  });
}

/** Who a profile of a pool turned out to be (one Light extension-info call each at the start). */
export interface PoolMemberIdentity {
  name: string;
  server: string;
  accountId: string | undefined;
  extensionId: string;
  admin: boolean | undefined;
}

/**
 * Every profile of a pool must be a login of the same account on the same server (their recordings are the
 * same ones), and with `--scope account` each needs the account-wide permission. Returns the reason the pool is
 * not usable, naming the profile, or undefined.
 */
export function poolProblem(
  members: readonly PoolMemberIdentity[],
  scope: "account" | "extension" | undefined,
): string | undefined {
  const [first] = members;
  if (!first) return "no profile given";
  for (const member of members) {
    if (member.server !== first.server) {
      return `profile "${member.name}" logs in to ${member.server}, profile "${first.name}" to ${first.server}: every profile of a pool must use the same server`;
    }
    if (member.accountId === undefined) {
      return `profile "${member.name}": the server did not say which account its extension belongs to`;
    }
    if (member.accountId !== first.accountId) {
      return `profile "${member.name}" belongs to account ${member.accountId}, profile "${first.name}" to account ${first.accountId}: every profile of a pool must be a login of the same account`;
    }
    if (scope === "account" && member.admin !== true) {
      return `profile "${member.name}" (extension ${member.extensionId}) has no account-wide permission, which --scope account needs for every profile`;
    }
  }
  return undefined;
}
