import type { AccessTokenProvider } from "../api/types.js";
import { type CliError, LoginRequiredError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { isRetryable } from "../retry.js";
import { TokenEndpointRateLimitedError } from "./errors.js";
import { type ProfileRecord, refreshTokenAlive, type TokenPair } from "./profile.js";
import { diagnose, type RecoveryCause, type RecoveryDiagnosis } from "./recovery-cause.js";
import { type LockLease, LockLostError, type ProfileLock } from "./refresh-lock.js";
import type { AuthServices } from "./services.js";
import type { ProfileStore } from "./store/types.js";
import type { TokenEndpoint } from "./token-endpoint.js";
import { TokenRequestRejected } from "./token-failure.js";
import { withTokenLock } from "./token-lock.js";

/** A token that expires within this margin is renewed before it is handed out. */
export const EXPIRY_MARGIN_MS = 60_000;

/**
 * Renewals (refresh or JWT login) that 401s may cost in one run. A fresh token that is rejected again means the
 * server (or a media origin) rejects every token: renewing more would only burn Auth-group requests.
 */
export const MAX_REJECTION_RENEWALS = 2;

/**
 * A renewal whose tries all failed on the network or with 5xx is not started again for this long. Longer than any
 * caller's own retry budget (listing, transfer: about 15 s of backoff), so one outage costs one sequence of token
 * requests (3) per pause, not one per caller that retries its work.
 */
export const RENEWAL_OUTAGE_PAUSE_MS = 60_000;

export interface SessionDeps {
  profile: string;
  store: ProfileStore;
  lock: ProfileLock;
  endpoint: TokenEndpoint;
  log: Logger;
  now?: () => number;
  signal?: AbortSignal;
}

/** What a record looks like while its login is active. */
export type ActiveRecord = ProfileRecord & { login: Extract<ProfileRecord["login"], { state: "active" }> };

/** Non-secret facts about the pair the session holds right now (for `token status`). */
export interface SessionSnapshot {
  ownerId: string;
  scope: string;
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt: number;
}

/**
 * The one owner of a profile's token pair during a run. Hands out the access token; when it is about to expire,
 * or a request reports a 401, it recovers ONCE for all concurrent callers of this process: new callers wait,
 * the profile's cross-process lock is taken, the store is RE-READ (another process may already have rotated the
 * pair: then that pair is used), otherwise the pair is refreshed and PERSISTED before anyone uses it. A refresh
 * rejected with invalid_grant first re-reads the store (another process may have rotated the pair while this
 * one's lock was lost); only if the pair there is the rejected one does it log in once with the stored JWT (the
 * old session is dead anyway, so this cannot push out a live one); if that is rejected too, the login is marked
 * ended and LoginRequiredError follows.
 */
export class AuthSession implements AccessTokenProvider {
  readonly server: string;
  readonly profile: string;
  private tokens: TokenPair;
  private recovery: Promise<void> | undefined;
  /** Once recovery proved impossible, every later caller gets the same answer without another token request. */
  private fatal: CliError | undefined;
  /**
   * A renewal that failed because the token endpoint stayed unavailable through its own retries (5xx, network):
   * until `until`, every caller that needs a renewal gets this error at once. Each caller retries its own work
   * (the listing 5 times, every transfer 5 times); without this each retry started another sequence of token
   * requests against an endpoint that has just failed three in a row.
   */
  private outage: { error: Error; until: number; rejectedToken: string | undefined } | undefined;
  private readonly now: () => number;
  /** Renewals caused by a 401 in this run (see MAX_REJECTION_RENEWALS). */
  private rejectionRenewals = 0;
  /**
   * The access token the last 401-caused renewal produced. Only a 401 for THAT token continues the streak:
   * a pair renewed for another reason (its expiry) since then starts it again, so two unrelated OAU-213s hours
   * apart in a long run never add up to "the server keeps rejecting fresh tokens".
   */
  private lastRejectionRenewal: string | undefined;
  /** A run logs in with the JWT at most once: a second would open yet another of the user's five sessions. */
  private jwtLoggedIn = false;
  /** Why the last 401 happened, as far as its recovery could tell (`token status --verify`). */
  private diagnosis: RecoveryDiagnosis | undefined;
  /** Whether the current recovery sent a grant (a failure after one means both were rejected). */
  private attempted = { refresh: false };

  constructor(
    private readonly deps: SessionDeps,
    record: ActiveRecord,
  ) {
    this.profile = deps.profile;
    this.server = record.credentials.server;
    this.tokens = record.login.tokens;
    this.now = deps.now ?? Date.now;
  }

  get snapshot(): SessionSnapshot {
    const { ownerId, scope, accessTokenExpiresAt, refreshTokenExpiresAt } = this.tokens;
    return { ownerId, scope, accessTokenExpiresAt, refreshTokenExpiresAt };
  }

  async getAccessToken(): Promise<string> {
    if (this.fatal) throw this.fatal;
    // Callers wait while a recovery runs; afterwards the token is handed out as it is (one renewal per call at
    // most, so a server granting very short lifetimes cannot send this into a refresh loop).
    if (this.recovery) await this.recovery;
    else if (this.expiresSoon(this.tokens)) await this.startRecovery(undefined);
    else {
      // A token the server rejected, while renewal is out of reach, would only earn another 401.
      const outage = this.outageNow();
      if (outage && outage.rejectedToken === this.tokens.accessToken) throw outage.error;
    }
    return this.tokens.accessToken;
  }

  /** The cause of the last 401 this session recovered from (or could not), if any. */
  get lastRecovery(): RecoveryDiagnosis | undefined {
    return this.diagnosis;
  }

  async recover(rejectedToken: string, errorCode?: string): Promise<void> {
    if (this.fatal) throw this.fatal;
    if (this.recovery) return this.recovery;
    if (rejectedToken !== this.tokens.accessToken) return; // a newer token is already in hand: no refresh
    return this.startRecovery({ token: rejectedToken, errorCode });
  }

  /** The outage a failed renewal left behind, while it lasts. */
  private outageNow(): AuthSession["outage"] {
    if (this.outage && this.now() >= this.outage.until) this.outage = undefined;
    return this.outage;
  }

  private startRecovery(rejected: Rejection | undefined): Promise<void> {
    const outage = this.outageNow();
    if (outage) return Promise.reject(outage.error);
    this.recovery ??= this.recoverUnderLock(rejected)
      .catch((error: unknown) => {
        if (error instanceof LoginRequiredError) this.fatal = error;
        else if (isRetryable(error)) {
          const until = this.now() + RENEWAL_OUTAGE_PAUSE_MS;
          this.outage = { error, until, rejectedToken: rejected?.token };
        }
        throw error;
      })
      .finally(() => {
        this.recovery = undefined;
      });
    return this.recovery;
  }

  private async recoverUnderLock(rejected: Rejection | undefined): Promise<void> {
    try {
      try {
        await this.recoverOnce(rejected);
      } catch (error) {
        if (!(error instanceof LockLostError)) throw error;
        // Nothing was sent: take the lock again; the re-read then finds what the other process stored.
        this.deps.log.debug(error.message);
        await this.recoverOnce(rejected);
      }
    } catch (error) {
      if (rejected && error instanceof LoginRequiredError && this.attempted.refresh)
        this.explain(rejected, "login-gone");
      throw error;
    } finally {
      this.attempted = { refresh: false };
    }
  }

  /** One info line (json: `cause`, `hint`) naming the likely cause of the 401 that started a recovery. */
  private explain(rejected: Rejection, cause: RecoveryCause): void {
    this.diagnosis = diagnose(cause, rejected.errorCode);
    const { message, hint } = this.diagnosis;
    this.deps.log.info(message, {
      event: "recovery",
      cause,
      hint,
      ...(rejected.errorCode ? { errorCode: rejected.errorCode } : {}),
    });
  }

  private async recoverOnce(rejected: Rejection | undefined): Promise<void> {
    const { lock, store, log, signal } = this.deps;
    const rejectedToken = rejected?.token;
    await withTokenLock(
      lock,
      async (lease) => {
        const record = requireActive(await store.read(), this.profile);
        const stored = record.login.tokens;
        const rotatedElsewhere =
          stored.accessToken !== this.tokens.accessToken && stored.accessToken !== rejectedToken;
        if (rotatedElsewhere && !this.expiresSoon(stored)) {
          log.debug("another process already renewed the token pair; using it");
          this.tokens = stored;
          if (rejected) this.explain(rejected, "rotated-elsewhere");
          return;
        }
        if (rejected && rejected.token !== this.lastRejectionRenewal) this.rejectionRenewals = 0;
        if (rejected && this.rejectionRenewals >= MAX_REJECTION_RENEWALS) {
          // Not stored as "ended": the login may be fine (a media origin rejecting every token, say).
          throw new LoginRequiredError(
            `the server keeps rejecting fresh tokens (${rejected.errorCode ?? "HTTP 401"} after ${MAX_REJECTION_RENEWALS} renewals in this run)`,
          );
        }
        const renewal = await this.renew(record, lease);
        // Persist BEFORE use: if this process dies right after, the next one must find the live pair, because the
        // refresh has just killed the old one.
        if (renewal.kind === "renewed") await store.write(renewal.record);
        this.tokens = renewal.record.login.tokens;
        if (rejected) {
          if (renewal.kind === "renewed") {
            this.rejectionRenewals += 1;
            this.lastRejectionRenewal = this.tokens.accessToken;
          }
          this.explain(rejected, renewal.kind === "adopted" ? "rotated-elsewhere" : renewal.how);
        }
      },
      log,
      signal,
    );
  }

  /**
   * Refresh, or once log in again with the stored JWT when the refresh token is dead — unless the store by then
   * holds a pair another process rotated (then that one is adopted and nothing needs writing).
   */
  private async renew(record: ActiveRecord, lease: LockLease): Promise<Renewal> {
    const { endpoint, log, signal } = this.deps;
    const stored = record.login.tokens;
    const now = this.now();
    if (refreshTokenAlive(stored, now)) {
      try {
        lease.assertHeld();
        this.attempted.refresh = true;
        const tokens = await endpoint.refreshGrant(record.credentials, stored, signal);
        log.debug("token pair refreshed");
        return renewed(
          { ...record, login: { ...record.login, tokens, lastRefreshAt: this.now() } },
          "access-token-rejected",
        );
      } catch (error) {
        if (!(error instanceof TokenRequestRejected)) throw error; // network/5xx: the store stays untouched
        if (!error.invalidGrant) {
          throw new LoginRequiredError(`the token endpoint refused the refresh: ${error.message}`, {
            cause: error,
          });
        }
        const latest = requireActive(await this.deps.store.read(), this.profile);
        if (latest.login.tokens.refreshToken !== stored.refreshToken) {
          log.debug("the refresh token was rejected, but another process has stored a newer pair; using it");
          return { kind: "adopted", record: latest };
        }
        log.info(`the refresh token was rejected (${error.message}); logging in again with the stored JWT`);
      }
    } else {
      log.info("the refresh token has expired; logging in again with the stored JWT");
    }
    if (this.jwtLoggedIn) {
      throw new LoginRequiredError(
        "the login was rejected again after this run had already logged in anew with the stored JWT",
      );
    }
    try {
      lease.assertHeld();
      this.jwtLoggedIn = true;
      this.attempted.refresh = true;
      const tokens = await endpoint.jwtGrant(record.credentials, signal);
      return renewed(
        { ...record, login: { state: "active", tokens, loggedInAt: this.now() } },
        "session-ended",
      );
    } catch (error) {
      // A 429 opened no session: the one JWT login of this run is still to come (the lock retries the work).
      if (error instanceof TokenEndpointRateLimitedError) this.jwtLoggedIn = false;
      if (!(error instanceof TokenRequestRejected)) throw error;
      // Both dead: remember it, so later runs fail fast instead of spending Auth-group requests on it again.
      await this.deps.store.write({
        ...record,
        login: { state: "ended", reason: "rejected", endedAt: this.now() },
      });
      throw new LoginRequiredError(`the stored login was rejected (${error.message})`, { cause: error });
    }
  }

  /** Within a minute of expiry (or within half its lifetime, for tokens that live under two minutes). */
  private expiresSoon(tokens: TokenPair): boolean {
    const margin = Math.min(EXPIRY_MARGIN_MS, (tokens.accessTokenTtl * 1000) / 2);
    return tokens.accessTokenExpiresAt - margin <= this.now();
  }
}

/** The 401 that started a recovery. */
interface Rejection {
  token: string;
  errorCode: string | undefined;
}

/**
 * A pair this process obtained (must be stored before use) — by a refresh (so only the access token had been
 * rejected) or by a JWT login (the session had ended) — or one another process already stored.
 */
type Renewal =
  | { kind: "renewed"; record: ActiveRecord; how: "access-token-rejected" | "session-ended" }
  | { kind: "adopted"; record: ActiveRecord };

const renewed = (record: ActiveRecord, how: "access-token-rejected" | "session-ended"): Renewal => ({
  kind: "renewed",
  record,
  how,
});

/** The record if its login is active; otherwise the LoginRequiredError that explains why not. */
export function requireActive(record: ProfileRecord | undefined, profile: string): ActiveRecord {
  if (record === undefined) throw new LoginRequiredError(`profile "${profile}" is not logged in`);
  if (record.login.state === "ended") {
    throw new LoginRequiredError(
      record.login.reason === "revoked"
        ? `the login of profile "${profile}" was ended with 'token revoke'`
        : `the stored login of profile "${profile}" was rejected by the server`,
    );
  }
  return record as ActiveRecord;
}

/** Resolve the profile's store, read the pair, return the run's session; LoginRequiredError if none. */
export async function openAuthSession(
  services: AuthServices,
  run: { log: Logger; signal?: AbortSignal },
): Promise<AuthSession> {
  const store = await services.locate();
  if (store === undefined) throw new LoginRequiredError(`profile "${services.profile}" is not logged in`);
  return sessionOver(services, store, requireActive(await store.read(), services.profile), run);
}

/** The one place a session is wired from a profile's services (a run's, or `token status --verify`'s). */
export function sessionOver(
  services: AuthServices,
  store: ProfileStore,
  record: ActiveRecord,
  run: { log: Logger; signal?: AbortSignal },
): AuthSession {
  return new AuthSession(
    {
      profile: services.profile,
      store,
      lock: services.lock,
      endpoint: services.endpoint,
      log: run.log,
      ...(run.signal ? { signal: run.signal } : {}),
    },
    record,
  );
}
