import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { ExternalsOptions, SDK } from "@ringcentral/sdk";
import { InterruptedError, OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import { BUDGETS, callWithRetries, type Retryable, type RetryBudget } from "../retry.js";
import { TokenEndpointUnavailableError } from "./errors.js";
import { type AppCredentials, registerTokenSecrets, type TokenPair } from "./profile.js";
import { classify, stringField, TokenRequestRejected } from "./token-failure.js";

/**
 * The token endpoint, and nothing else: JWT grant, refresh grant, revoke. Only the auth session and the
 * login/revoke services call it, always under the profile's lock.
 */
export interface TokenEndpoint {
  jwtGrant(app: AppCredentials, signal?: AbortSignal): Promise<TokenPair>;
  refreshGrant(app: AppCredentials, tokens: TokenPair, signal?: AbortSignal): Promise<TokenPair>;
  /** Ends the whole session the token belongs to (RingCentral revokes per session). */
  revoke(app: AppCredentials, token: string, signal?: AbortSignal): Promise<void>;
}

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
    private readonly retry: RetryBudget = BUDGETS.token,
    private readonly now: () => number = Date.now,
  ) {}

  async jwtGrant(app: AppCredentials, signal?: AbortSignal): Promise<TokenPair> {
    const response = await this.withRetries("log in", signal, async () => {
      const platform = (await this.sdkFor(app)).platform();
      return platform.login({ jwt: app.jwt });
    });
    return this.pairFrom(response);
  }

  async refreshGrant(app: AppCredentials, tokens: TokenPair, signal?: AbortSignal): Promise<TokenPair> {
    if (tokens.refreshTokenExpiresAt <= this.now()) {
      // The SDK would fail locally without a response; say what the server would say.
      throw new TokenRequestRejected(400, "invalid_grant", "", "the refresh token has expired");
    }
    const response = await this.withRetries("refresh the token", signal, async () => {
      const platform = (await this.sdkFor(app)).platform();
      // The SDK asks for `access_token_ttl = expires_in` and `refresh_token_ttl = refresh_token_expires_in` of
      // its cache: seed them with the lifetimes the server granted last time (always positive, never -1).
      await platform.auth().setData({
        token_type: "bearer",
        access_token: "",
        expire_time: 1,
        expires_in: String(positiveSeconds(tokens.accessTokenTtl, 3600)),
        refresh_token: tokens.refreshToken,
        refresh_token_expires_in: String(positiveSeconds(tokens.refreshTokenTtl, 604_800)),
        refresh_token_expire_time: tokens.refreshTokenExpiresAt,
      });
      return platform.refresh();
    });
    return this.pairFrom(response);
  }

  async revoke(app: AppCredentials, token: string, signal?: AbortSignal): Promise<void> {
    // RingCentral: do not retry a failed revoke; the caller keeps the pair so the user can run it again.
    await this.withRetries(
      "revoke the session",
      signal,
      async () => {
        const platform = (await this.sdkFor(app)).platform();
        await platform.auth().setData({ access_token: token }); // logout() revokes the cached access token
        await platform.logout();
      },
      1,
    );
  }

  private async sdkFor(app: AppCredentials): Promise<SDK> {
    const { SDK } = await import("@ringcentral/sdk");
    const sdk = new SDK({
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
      // Node's own fetch rather than the SDK's bundled node-fetch v2: one HTTP stack in the process.
      fetch: globalThis.fetch,
      Request: globalThis.Request,
      Response: globalThis.Response,
      Headers: globalThis.Headers,
    });
    const platform = sdk.platform();
    const send = platform.send.bind(platform);
    // `retry: true` tells the SDK "already retried": it never re-sends on 401 (no cancelAccessToken, no -1 TTL)
    // nor on 429; we handle both ourselves.
    platform.send = (options = {}) => send({ ...options, retry: true });
    return sdk;
  }

  private async pairFrom(response: Response): Promise<TokenPair> {
    const body = (await response.json()) as Record<string, unknown>;
    const receivedAt = this.now();
    const accessToken = stringField(body.access_token);
    const refreshToken = stringField(body.refresh_token);
    registerSecret(accessToken);
    registerSecret(refreshToken);
    if (!accessToken || !refreshToken) {
      throw new OperationError("the token endpoint answered without an access and refresh token");
    }
    // `expires_in` is the REMAINING life at the time of the answer: compute the expiry on receipt.
    const accessTtl = positiveSeconds(Number(body.expires_in), 3600);
    const refreshTtl = positiveSeconds(Number(body.refresh_token_expires_in), 604_800);
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
   * Run one token request with RingCentral's rules: 4xx (other than 408/429) -> reject at once; 429 -> wait
   * Retry-After (counted apart); network error, 408, 5xx -> a few tries with backoff. Never clears anything on
   * failure.
   */
  private withRetries<T>(
    what: string,
    signal: AbortSignal | undefined,
    request: () => Promise<T>,
    attempts = this.retry.attempts,
  ): Promise<T> {
    return callWithRetries(
      async () => {
        try {
          return await request();
        } catch (error) {
          throw await failureOf(what, error);
        }
      },
      { ...this.retry, attempts },
      {
        signal,
        beforeCall: () => {
          if (signal?.aborted) throw new InterruptedError();
        },
        onRetry: (error, delayMs) => {
          const seconds = Math.ceil(delayMs / 1000);
          if (error.rateLimited)
            this.log.warn(`token endpoint rate limit reached; waiting ${seconds} s (Retry-After)`);
          else this.log.debug(`${error.message}; retrying in ${seconds} s`);
        },
        giveUp: (error) =>
          error.rateLimited
            ? new OperationError(`could not ${what}: the token endpoint keeps answering 429 (rate limited)`)
            : error,
      },
    );
  }
}

/** A failed token request as an error that carries its policy (see token-failure.ts for the sorting). */
async function failureOf(what: string, error: unknown): Promise<Error> {
  const failure = await classify(error);
  if (failure.kind === "rejected") return failure.error;
  if (failure.kind === "rate-limited") return new TokenRateLimitedError(failure.retryAfterMs);
  return new TokenEndpointUnavailableError(`could not ${what}: ${failure.reason}`, { cause: failure.cause });
}

/** A 429 from the token endpoint (Auth group): waited out within the budget's `rateLimitWaits`. */
class TokenRateLimitedError extends OperationError implements Retryable {
  readonly retryable = true;
  readonly rateLimited = true;

  constructor(readonly retryAfterMs: number | undefined) {
    super("the token endpoint answered 429 (rate limited)");
  }
}

function positiveSeconds(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : fallback;
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
