import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { ExternalsOptions, SDK } from "@ringcentral/sdk";
import { tlsTrustFailure } from "../api/errors.js";
import { InterruptedError, OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import { BUDGETS, callWithRetries, type TokenBudget } from "../retry.js";
import { TokenEndpointRateLimitedError, TokenEndpointUnavailableError } from "./errors.js";
import { type AppCredentials, registerTokenSecrets, type TokenPair } from "./profile.js";
import { classify, stringField, TokenRequestRejected } from "./token-failure.js";

/**
 * The token endpoint, and nothing else: JWT grant, refresh grant, revoke. Only the auth session and the
 * login/revoke services call it, always under the profile's lock. It never follows a redirect (a 3xx names
 * where it points, nothing is sent there) and never waits out a 429 itself: it throws
 * TokenEndpointRateLimitedError so the caller can wait WITHOUT holding the lock (see token-lock.ts).
 */
export interface TokenEndpoint {
  jwtGrant(app: AppCredentials, signal?: AbortSignal): Promise<TokenPair>;
  refreshGrant(app: AppCredentials, tokens: TokenPair, signal?: AbortSignal): Promise<TokenPair>;
  /** Ends the whole session the token belongs to (RingCentral revokes per session). */
  revoke(app: AppCredentials, token: string, signal?: AbortSignal): Promise<void>;
}

/** RingCentral's bounds for a requested access-token lifetime (spec: `access_token_ttl` 600–3600 s). */
export const ACCESS_TTL_BOUNDS = { min: 600, max: 3600 } as const;
/** The spec's maximum `refresh_token_ttl` (30 days). */
export const MAX_REFRESH_TTL = 2_592_000;

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

/**
 * The token endpoint through @ringcentral/sdk, with guardrails, because the SDK's defaults fight a shared store:
 *  - it refreshes on its own inside every API request (`ensureLoggedIn`) and retries a 401 after cancelling the
 *    access token, which makes the next refresh send `access_token_ttl=-1`. So API calls never go through the
 *    SDK (our ApiClient does them over node:http and asks the auth session), and every SDK request here is sent with
 *    `retry: true`, which turns off its 401/429 re-send;
 *  - `clearCacheOnRefreshError` (default true) wipes its store on any failed refresh: off, and its store is an
 *    in-memory map private to one short-lived instance (unique cachePrefix), never the user's token store;
 *  - its refresh dedup is per instance only: cross-process coordination is the caller's lock.
 * The SDK is imported lazily so `--help` and commands that never touch a token stay light.
 */
export class SdkTokenEndpoint implements TokenEndpoint {
  constructor(
    private readonly log: Logger,
    private readonly retry: TokenBudget = BUDGETS.token,
    private readonly now: () => number = Date.now,
  ) {}

  async jwtGrant(app: AppCredentials, signal?: AbortSignal): Promise<TokenPair> {
    const body = await this.withRetries("log in", app.server, signal, async () => {
      const answer = new AnswerTrap();
      // The grant in flight is not cut short by Ctrl-C (only the waits around it are): the server opens a session
      // for it either way, and only its answer lets `login` revoke that session before it exits 130.
      const platform = (await this.sdkFor(app, undefined, answer)).platform();
      return answer.bodyOf(() => platform.login({ jwt: app.jwt }));
    });
    try {
      return this.pairFrom(body);
    } catch (error) {
      if (!(error instanceof UnusableTokenAnswer)) throw error;
      // The server opened a session for this answer: end it with whatever token the answer did carry.
      const token = stringField(body?.refresh_token) || stringField(body?.access_token);
      if (!token) throw error.final("the session it may have opened could not be revoked (no token in it)");
      const revoked = await this.revoke(app, token).then(
        () => true,
        (revokeError: unknown) => revokeError instanceof TokenRequestRejected, // 4xx: the session is over
      );
      throw error.final(
        revoked ? "the session it opened was revoked" : "the session it opened could not be revoked",
      );
    }
  }

  async refreshGrant(app: AppCredentials, tokens: TokenPair, signal?: AbortSignal): Promise<TokenPair> {
    if (tokens.refreshTokenExpiresAt <= this.now()) {
      // The SDK would fail locally without a response; say what the server would say.
      throw new TokenRequestRejected(400, "invalid_grant", "", "the refresh token has expired");
    }
    const body = await this.withRetries("refresh the token", app.server, signal, async () => {
      const answer = new AnswerTrap();
      const platform = (await this.sdkFor(app, signal, answer)).platform();
      // The SDK asks for `access_token_ttl = expires_in` and `refresh_token_ttl = refresh_token_expires_in` of
      // its cache: seed them with the lifetimes the server granted last time, within the documented bounds (the
      // granted `expires_in` is the REMAINING life and may be below the minimum of 600; never -1).
      await platform.auth().setData({
        token_type: "bearer",
        access_token: "",
        expire_time: 1,
        expires_in: String(requestedAccessTtl(tokens.accessTokenTtl)),
        refresh_token: tokens.refreshToken,
        refresh_token_expires_in: String(
          Math.min(MAX_REFRESH_TTL, positiveSeconds(tokens.refreshTokenTtl, 604_800)),
        ),
        refresh_token_expire_time: tokens.refreshTokenExpiresAt,
      });
      return answer.bodyOf(() => platform.refresh());
    });
    try {
      return this.pairFrom(body);
    } catch (error) {
      if (error instanceof UnusableTokenAnswer) throw error.final("the stored pair was kept");
      throw error;
    }
  }

  async revoke(app: AppCredentials, token: string, signal?: AbortSignal): Promise<void> {
    // RingCentral: do not retry a failed revoke; the caller keeps the pair so the user can run it again.
    await this.withRetries(
      "revoke the session",
      app.server,
      signal,
      async () => {
        const platform = (await this.sdkFor(app, signal)).platform();
        await platform.auth().setData({ access_token: token }); // logout() revokes the cached access token
        await platform.logout();
      },
      1,
    );
  }

  private async sdkFor(
    app: AppCredentials,
    signal: AbortSignal | undefined,
    answer?: AnswerTrap,
  ): Promise<SDK> {
    const { SDK } = await import("@ringcentral/sdk");
    const timeoutMs = this.retry.timeoutMs;
    const sdk = this.quietly(
      () =>
        new SDK({
          server: app.server,
          clientId: app.clientId,
          clientSecret: app.clientSecret,
          appName: "rc-recordings",
          appVersion: version,
          cachePrefix: `rc-recordings-${randomUUID()}-`,
          localStorage: new MemoryStorage() as unknown as ExternalsOptions["localStorage"],
          clearCacheOnRefreshError: false,
          refreshDelayMs: 0,
          handleRateLimit: false,
          enableDiscovery: false,
          // Node's own fetch rather than the SDK's bundled node-fetch v2: one HTTP stack in the process. Never
          // following redirects: a redirected login would re-POST the JWT (a refresh the refresh token) to whatever
          // host the Location names. A bounded wait: a silent endpoint must not hold the profile's lock for minutes.
          fetch: (input, init) => fetchBounded(input, init, timeoutMs, signal),
          Request: globalThis.Request,
          Response: globalThis.Response,
          Headers: globalThis.Headers,
        }),
    );
    const platform = sdk.platform();
    const send = platform.send.bind(platform);
    // `retry: true` tells the SDK "already retried": it never re-sends on 401 (no cancelAccessToken, no -1 TTL)
    // nor on 429; we handle both ourselves.
    platform.send = async (options = {}) => {
      const response = await send({ ...options, retry: true });
      answer?.caught(response);
      return response;
    };
    return sdk;
  }

  /**
   * The SDK's constructor `console.warn`s for the sandbox server ("Sandbox support is deprecated") on every
   * instance — raw stderr text that would break `--log-format json` and repeat per token request. Its words go
   * to our log as a debug line instead. (Synchronous: nothing else runs while console.warn is swapped.)
   */
  private quietly<T>(build: () => T): T {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => this.log.debug(`@ringcentral/sdk: ${args.map(String).join(" ")}`);
    try {
      return build();
    } finally {
      console.warn = warn;
    }
  }

  /** The pair of a 200 answer; UnusableTokenAnswer when the body is not a token answer (no JSON, no tokens). */
  private pairFrom(body: Record<string, unknown> | undefined): TokenPair {
    const receivedAt = this.now();
    const accessToken = stringField(body?.access_token);
    const refreshToken = stringField(body?.refresh_token);
    registerSecret(accessToken);
    registerSecret(refreshToken);
    if (body === undefined) throw new UnusableTokenAnswer("not a JSON object");
    if (!accessToken || !refreshToken) throw new UnusableTokenAnswer("no access and refresh token in it");
    // `expires_in` is the REMAINING life at the time of the answer: compute the expiry on receipt. Clamped, so a
    // wild value (1e13 s) can neither overflow a date nor make a dead token look alive for centuries.
    const accessTtl = lifetimeSeconds(Number(body.expires_in), 3600, MAX_RECEIVED_ACCESS_TTL);
    const refreshTtl = lifetimeSeconds(
      Number(body.refresh_token_expires_in),
      604_800,
      MAX_RECEIVED_REFRESH_TTL,
    );
    const pair: TokenPair = {
      accessToken,
      refreshToken,
      accessTokenExpiresAt: receivedAt + accessTtl * 1000,
      refreshTokenExpiresAt: receivedAt + refreshTtl * 1000,
      accessTokenTtl: accessTtl,
      refreshTokenTtl: refreshTtl,
      scope: stringField(body.scope),
      ownerId: stringField(body.owner_id),
      issuedAt: receivedAt,
      ...(body.endpoint_id ? { endpointId: stringField(body.endpoint_id) } : {}),
      ...(body.session_id ? { sessionId: stringField(body.session_id) } : {}),
    };
    registerTokenSecrets(pair);
    return pair;
  }

  /**
   * Run one token request with RingCentral's rules: 4xx (other than 408/429) -> reject at once; 3xx -> an
   * error naming the target; 429 -> TokenEndpointRateLimitedError (the caller waits, outside the lock); an
   * untrusted certificate -> at once; network error, timeout, 408, 5xx -> a few tries with backoff. Never
   * clears anything on failure.
   */
  private withRetries<T>(
    what: string,
    server: string,
    signal: AbortSignal | undefined,
    request: () => Promise<T>,
    attempts = this.retry.attempts,
  ): Promise<T> {
    return callWithRetries(
      async () => {
        try {
          return await request();
        } catch (error) {
          // The server said yes, but unusably: asking again would open another session each time.
          if (error instanceof UnusableTokenAnswer) throw error;
          throw await failureOf(what, server, error);
        }
      },
      { ...this.retry, attempts },
      {
        signal,
        beforeCall: () => {
          if (signal?.aborted) throw new InterruptedError();
        },
        onRetry: (error, delayMs) =>
          this.log.debug(`${error.message}; retrying in ${Math.ceil(delayMs / 1000)} s`),
      },
    );
  }
}

/**
 * A failed token request as an error that carries its policy (see token-failure.ts for the sorting): only
 * TokenEndpointUnavailableError (network, timeout, 408, 5xx) is retried here.
 */
async function failureOf(what: string, server: string, error: unknown): Promise<Error> {
  const failure = await classify(error);
  if (failure.kind === "rejected") return failure.error;
  if (failure.kind === "redirected") {
    return new OperationError(
      `could not ${what}: the token endpoint answered HTTP ${failure.status} redirecting to ${failure.target}; not followed (nothing was sent there, nothing stored)`,
    );
  }
  if (failure.kind === "rate-limited") return new TokenEndpointRateLimitedError(what, failure.retryAfterMs);
  const untrusted = tlsTrustFailure(failure.cause, new URL(server));
  if (untrusted) return untrusted;
  return new TokenEndpointUnavailableError(`could not ${what}: ${failure.reason}`, { cause: failure.cause });
}

/** The access-token lifetime to ask for: the last granted one, within the documented 600–3600 s. */
export function requestedAccessTtl(lastGranted: number): number {
  const seconds = positiveSeconds(lastGranted, ACCESS_TTL_BOUNDS.max);
  return Math.min(ACCESS_TTL_BOUNDS.max, Math.max(ACCESS_TTL_BOUNDS.min, seconds));
}

/** A timeout that says what it was, not "This operation was aborted". */
class TokenTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
}

/** One token request: no redirects followed, the whole answer (headers and body) within `timeoutMs`. */
async function fetchBounded(
  input: string | URL | Request,
  init: RequestInit | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new TokenTimeoutError(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
    timeoutMs,
  );
  const forward = () => timeout.abort(signal?.reason);
  signal?.addEventListener("abort", forward, { once: true });
  try {
    const response = await globalThis.fetch(input, { ...init, redirect: "manual", signal: timeout.signal });
    // The body is small: read it under the same bound, so the SDK's `json()` cannot hang afterwards.
    const body = await response.arrayBuffer();
    return new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } catch (error) {
    throw timeout.signal.aborted && timeout.signal.reason instanceof Error ? timeout.signal.reason : error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", forward);
  }
}

function positiveSeconds(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : fallback;
}

/**
 * Far above what the platform grants (1 h access, 30 days refresh at most): a lifetime received is only ever cut
 * short by this, never a real one. Estimating a refresh token's life too SHORT would cost a needless re-login.
 */
const MAX_RECEIVED_ACCESS_TTL = 24 * 60 * 60;
const MAX_RECEIVED_REFRESH_TTL = 366 * 24 * 60 * 60;

function lifetimeSeconds(value: number, fallback: number, max: number): number {
  return Math.min(positiveSeconds(value, fallback), max);
}

/**
 * A 200 from the token endpoint that carries no usable pair (HTML from a proxy, `null`, `{}`, no refresh token).
 * Never retried: every try would open one more session.
 */
class UnusableTokenAnswer extends Error {
  /** The one-line error the user sees, with what became of the session the answer stands for. */
  final(aftermath: string): OperationError {
    return new OperationError(
      `the token endpoint answered 200 without a usable token pair (${this.message}); ${aftermath}`,
    );
  }
}

/**
 * Catches the token endpoint's 200 answer as the SDK received it, so that a body the SDK cannot digest (it parses
 * JSON and throws on HTML, without a response attached) is told apart from a network error and never retried.
 */
class AnswerTrap {
  private answer: Response | undefined;

  caught(response: Response): void {
    this.answer = response;
  }

  /** The answer's JSON object (undefined when it is none) after `request` ran, whether or not the SDK coped. */
  async bodyOf(request: () => Promise<unknown>): Promise<Record<string, unknown> | undefined> {
    try {
      await request();
    } catch (error) {
      if (!this.answer?.ok) throw error;
    }
    const answer = this.answer;
    if (!answer) throw new UnusableTokenAnswer("no answer");
    const text = await answer.text().catch(() => "");
    try {
      const json: unknown = JSON.parse(text);
      return typeof json === "object" && json !== null && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A Web Storage over a Map: the SDK's cache for one instance, gone with it. */
class MemoryStorage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  keys(): string[] {
    return [...this.items.keys()];
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}
