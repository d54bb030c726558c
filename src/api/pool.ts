import { LoginRequiredError, UsageError } from "../errors.js";
import { readOwnExtension } from "./extension-info.js";
import type { Lane, LaneChooser } from "./lanes.js";
import type { RateLimitPermit } from "./rate-limiter.js";
import { routeOf } from "./routes.js";
import type { ApiClient } from "./types.js";

/** What the summary says about each profile of a pool. */
export interface LaneReport {
  name: string;
  /** Recording content responses (200/206) that came through this profile (a CDN's answer to its redirect too). */
  downloaded: number;
  /** Why the profile was dropped (its login died, or it may not read the recordings), else null. */
  error: string | null;
}

interface Member {
  readonly lane: Lane;
  downloaded: number;
  error: string | undefined;
  /** Dropped because it may not read recordings another profile read: its refusals say nothing. */
  cannotRead: boolean;
  /** Its login died (it may have been dropped for `cannotRead` before): nothing more goes through it. */
  loginGone: boolean;
}

/** A losing lane's queued request is withdrawn with this reason (never seen by callers). */
class RaceLost extends Error {}

/**
 * Several logins (profiles) of one account, each with its own token pair and its own rate limiter: RingCentral
 * budgets requests per user+app, so N profiles fetch N times as fast. Two policies over the same lanes:
 * `lister()` sends an account-level request (the account's call log, its directory) through whichever profile
 * has a free slot first and a request about the login's own extension (`/extension/~`) through the first profile
 * only (see ownListing); `downloader()` sends through whichever profile gets a free slot first. A profile whose login dies
 * is dropped; its requests move to the others, and only when none is left does the LoginRequiredError reach the
 * caller.
 *
 * A recording refused (403/404) through one profile is no verdict on the recording: that profile may lack a
 * permission another has. It is asked again through a profile that has not refused it yet; when one of them
 * reads it, every profile that refused it is dropped (it may not read what the listing covers). Only when
 * every profile that may read recordings refused it is the refusal the recording's; when some could not be
 * asked (their login died), the request fails with UnsettledRefusalError, which the next run retries.
 */
export class LanePool {
  private readonly members: Member[];

  constructor(
    lanes: readonly Lane[],
    /** A profile left the pool: one line that says which, why, and what to do. */
    private readonly onDropped: (lane: Lane, line: string) => void = () => undefined,
  ) {
    if (lanes.length === 0) throw new RangeError("a pool needs at least one lane");
    this.members = lanes.map((lane) => ({
      lane,
      downloaded: 0,
      error: undefined,
      cannotRead: false,
      loginGone: false,
    }));
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

  /**
   * `shared`: every profile may read the account-wide log (provePool said so), so any of them may list it. The
   * login's own extension (its call log, its info) differs per profile: only the first one asks (see ownListing).
   */
  lister(shared: boolean): LaneChooser {
    return this.chooser(async (url, signal) => {
      const own = OWN_EXTENSION.test(url.pathname);
      if (shared && !own) return firstFree(this.alive(), url, signal);
      const lane = own ? this.ownListing() : this.firstListing();
      return { lane, permit: await lane.limiter.acquire(url, signal) };
    });
  }

  downloader(): LaneChooser {
    return this.chooser((url, signal, refused) => {
      const alive = this.alive();
      const untried = alive.filter((lane) => !refused?.has(lane));
      return firstFree(untried.length > 0 ? untried : alive, url, signal);
    });
  }

  private chooser(acquire: LaneChooser["acquire"]): LaneChooser {
    return {
      server: this.firstAlive().tokens.server,
      acquire: (url, signal, refused) => {
        this.firstAlive(); // throws the last profile's error when none is left
        return acquire(url, signal, refused);
      },
      lost: (lane, error) => this.lost(lane, error),
      refusal: (lane, url, status, refused) => this.refusal(lane, url, status, refused),
      responded: (lane, url, status, refused) => {
        if ((status !== 200 && status !== 206) || routeOf(url).key !== "recording-content") return;
        const member = this.memberOf(lane);
        if (member) member.downloaded++;
        // A 403 is a permission this profile lacks; a 404 (a recording not there yet?) drops nobody.
        for (const [other, refusedWith] of refused ?? []) {
          if (refusedWith === 403)
            this.dropUnreadable(other, `HTTP 403 for recordings profile "${lane.name}" could read`);
        }
      },
    };
  }

  /** What a 403/404 for a recording through `lane` means in this pool (see the class comment). */
  private refusal(
    lane: Lane,
    url: URL,
    status: number,
    refused: ReadonlyMap<Lane, number>,
  ): "elsewhere" | "unsettled" | undefined {
    if ((status !== 403 && status !== 404) || routeOf(url).key !== "recording-content") return undefined;
    if (this.members.length === 1) return undefined;
    const untried = (m: Member) => m.lane !== lane && !refused.has(m.lane) && !m.cannotRead;
    if (this.members.some((m) => m.error === undefined && untried(m))) return "elsewhere";
    // Every live profile refused it; one that died before it could be asked might have read it.
    return this.members.some(untried) ? "unsettled" : undefined;
  }

  private memberOf(lane: Lane): Member | undefined {
    return this.members.find((m) => m.lane === lane);
  }

  /**
   * The first profile, for its own extension (`~`: its call log, its info): also once it may no longer download
   * (it may still list). Never another profile in its place: another's `~` is another extension, and listing it
   * would pass over the first one's recordings while the mark moved on. Its login gone, that listing ends.
   */
  private ownListing(): Lane {
    const [first] = this.members;
    if (first && !first.loginGone) return first.lane;
    throw new LoginRequiredError(
      `profile "${first?.lane.name}" lists its own extension's calls for this pool and its login is gone (${first?.error ?? "?"})`,
    );
  }

  /** Account-level listing that not every profile may share: the first profile while its login lives, else any. */
  private firstListing(): Lane {
    const [first] = this.members;
    return first && !first.loginGone ? first.lane : this.firstAlive();
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
    const member = this.memberOf(lane);
    if (!member) return false;
    member.loginGone = true;
    if (member.error === undefined) {
      member.error = error.message;
      const reason = error.message.replace(/; run: rc-recordings login$/, "");
      if (this.alive().length > 0) {
        this.onDropped(
          lane,
          `profile "${lane.name}" is dropped from the pool (${reason}); the other profiles carry on; run: rc-recordings login --profile ${lane.name}`,
        );
      }
    }
    return this.alive().length > 0;
  }

  /**
   * Leave out, before any request, a profile whose own app permissions show it cannot read what the pool reads
   * (`reason` names what it lacks): it would only collect refusals. The same as when it answers 403 for a
   * recording another profile read.
   */
  dropBeforehand(lane: Lane, reason: string, fix: string): void {
    this.dropUnreadable(lane, reason, fix);
  }

  private dropUnreadable(
    lane: Lane,
    reason: string,
    fix = "give its login the permission to read every recording of the account (an administrator, an app with ReadCallRecording)",
  ): void {
    const member = this.memberOf(lane);
    if (!member || member.error !== undefined) return;
    member.error = reason;
    member.cannotRead = true;
    this.onDropped(
      lane,
      `profile "${lane.name}" is dropped from the pool (${reason}); the other profiles carry on; ${fix} or leave it out`,
    );
  }
}

/** A request about the login's own extension: each profile of a pool has its own. */
const OWN_EXTENSION = /\/extension\/~(\/|$)/;

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
 * Prove every profile of a pool with one Light extension-info call each, through its own lane, before any
 * content request; throws UsageError (exit 2) naming the profile when the pool is not usable (see poolProblem).
 * Resolves whether every profile may list the account-wide log (then any of them may: see `lister`).
 */
export async function provePool(
  lanes: readonly Lane[],
  clientOf: (lane: Lane) => Promise<ApiClient>,
  options: { scope: "account" | "extension" | undefined; signal: AbortSignal },
): Promise<{ sharedListing: boolean }> {
  if (lanes.length < 2) return { sharedListing: false };
  const identities: PoolMemberIdentity[] = [];
  for (const lane of lanes) {
    const extension = await readOwnExtension(await clientOf(lane), options.signal);
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
  // Without a problem every other profile is an administrator; the first lists the account log only if it is one.
  return { sharedListing: options.scope !== "extension" && identities[0]?.admin === true };
}

/**
 * Every profile of a pool must be a login of the same account on the same server (their recordings are the
 * same ones), each a different user (RingCentral budgets per user and app: two logins of one user share one
 * budget and only collect 429s), and each able to read every recording the pool lists: a transfer goes to
 * whichever profile is free. The first profile lists (its own log without the account-wide permission), so every
 * other profile needs the account-wide permission, and with `--scope account` the first one too. Returns the
 * reason the pool is not usable, naming the profile, or undefined.
 */
export function poolProblem(
  members: readonly PoolMemberIdentity[],
  scope: "account" | "extension" | undefined,
): string | undefined {
  const [first] = members;
  if (!first) return "no profile given";
  for (const [i, member] of members.entries()) {
    if (member.server !== first.server) {
      return `profile "${member.name}" logs in to ${member.server}, profile "${first.name}" to ${first.server}: every profile of a pool must use the same server`;
    }
    if (member.accountId === undefined) {
      return `profile "${member.name}": the server did not say which account its extension belongs to`;
    }
    if (member.accountId !== first.accountId) {
      return `profile "${member.name}" belongs to account ${member.accountId}, profile "${first.name}" to account ${first.accountId}: every profile of a pool must be a login of the same account`;
    }
    const same = members.slice(0, i).find((other) => other.extensionId === member.extensionId);
    if (same) {
      return `profiles "${same.name}" and "${member.name}" are logins of the same user (extension ${member.extensionId}): they share one rate budget; give each user once`;
    }
    if (member.admin !== true && (scope === "account" || i > 0)) {
      const who =
        scope === "account"
          ? "which --scope account needs for every profile"
          : `which every profile but the first needs to read the recordings profile "${first.name}" lists`;
      return `profile "${member.name}" (extension ${member.extensionId}) has no account-wide permission, ${who}`;
    }
  }
  return undefined;
}
