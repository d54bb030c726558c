import type { FaultKind } from "./faults.js";
import type { RateLimitGroup } from "./options.js";

function groups(): Record<RateLimitGroup, number> {
  return { auth: 0, light: 0, medium: 0, heavy: 0 };
}

/**
 * Live counters: handlers mutate this object in place, so `emu.stats.jwtLogins` always reads the current
 * value. `snapshot()` gives a plain JSON copy; `reset()` zeroes the counters (not the live gauges).
 */
export class EmulatorStats {
  jwtLogins = 0;
  refreshes = 0;
  /** Refreshes answered from an old refresh token's grace period (same pair returned). */
  graceRefreshes = 0;
  failedRefreshes = 0;
  failedLogins = 0;
  revokes = 0;
  /** 401s by nested errorCode (OAU-213, OAU-129, OAU-128, AGW-401...). */
  unauthorized: Record<string, number> = {};
  rateLimited = 0;
  rateLimitedByGroup = groups();
  requestsByGroup = groups();
  callLogRequests = 0;
  /** Every request on the content route, whatever the outcome. */
  contentRequests = 0;
  /** Content requests by recording id, whatever the outcome. */
  contentRequestsByRecording: Record<string, number> = {};
  /** Recording ids in the order of their first content request (what "oldest first" looks like here). */
  contentOrder: string[] = [];
  /** Authenticated content requests by the user (extension id) whose token made them. */
  contentRequestsByUser: Record<string, number> = {};
  /** Content responses that started a body (200/206). */
  contentRequestsStarted = 0;
  /** Content responses whose whole (requested) body was sent. */
  contentRequestsCompleted = 0;
  /** Content bytes written (including bytes of cut-off responses). */
  bytesSent = 0;
  peakConcurrentDownloads = 0;
  faultsInjected: Record<FaultKind, number> = {
    reset: 0,
    truncate: 0,
    unavailable: 0,
    rateLimited: 0,
    redirect: 0,
  };
  /** Requests the CDN origin received, and how many of them carried a token (must stay 0). */
  cdnRequests = 0;
  cdnAuthorizationHeaders = 0;
  cdnAccessTokenQueries = 0;
  /**
   * Token/revoke requests answered with the `tokenRedirect` fault, held by `silentTokenEndpoint`, or answered with
   * the `tokenEndpointError` fault.
   */
  tokenRequestsRedirected = 0;
  tokenRequestsHeld = 0;
  tokenRequestsFailed = 0;
  accessTokenTtlRequested: number[] = [];
  refreshTokenTtlRequested: number[] = [];
  /** Gauge: content bodies being sent right now. */
  concurrentDownloads = 0;
  /** The WebSocket gateway (`open` is a gauge: connections open right now). */
  ws = {
    tokens: 0,
    /** Upgrades refused (unknown or expired ws token, dead session). */
    refused: 0,
    connections: 0,
    open: 0,
    recoveries: { Successful: 0, Failed: 0 },
    subscriptions: 0,
    notificationsSent: 0,
    notificationsBuffered: 0,
    notificationsReplayed: 0,
    heartbeats: 0,
    pings: 0,
    pongs: 0,
    pongTimeouts: 0,
  };

  constructor(private readonly liveSessionCount: () => number) {}

  /** Gauge: sessions neither revoked, evicted nor killed. */
  get liveSessions(): number {
    return this.liveSessionCount();
  }

  countUnauthorized(errorCode: string): void {
    this.unauthorized[errorCode] = (this.unauthorized[errorCode] ?? 0) + 1;
  }

  downloadStarted(): void {
    this.contentRequestsStarted++;
    this.concurrentDownloads++;
    this.peakConcurrentDownloads = Math.max(this.peakConcurrentDownloads, this.concurrentDownloads);
  }

  downloadEnded(completed: boolean): void {
    this.concurrentDownloads--;
    if (completed) this.contentRequestsCompleted++;
  }

  reset(): void {
    const fresh = new EmulatorStats(this.liveSessionCount);
    const concurrent = this.concurrentDownloads;
    const ws = { ...fresh.ws, open: this.ws.open };
    Object.assign(this, fresh, { concurrentDownloads: concurrent, peakConcurrentDownloads: concurrent, ws });
  }

  snapshot() {
    const { liveSessionCount: _, ...counters } = this as unknown as Record<string, unknown>;
    return structuredClone({ ...counters, liveSessions: this.liveSessions }) as StatsSnapshot;
  }
}

export type StatsSnapshot = Omit<
  {
    [K in keyof EmulatorStats as EmulatorStats[K] extends (...args: never[]) => unknown
      ? never
      : K]: EmulatorStats[K];
  },
  never
>;
