import type { Readable } from "node:stream";

/** Rate-limit groups of the RingCentral API (compared case-insensitively; the server names them). */
export type RateLimitGroup = "auth" | "light" | "medium" | "heavy";

export interface ApiRequestInit {
  /** GET unless said otherwise; a POST carries no body (POST /restapi/oauth/wstoken). */
  method?: "GET" | "POST";
  /** Extra request headers, e.g. `Range`. Never `Authorization`: the client adds it. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** No response headers, or no body bytes, for this long: the request fails (NetworkError, retryable). */
  idleTimeoutMs?: number;
  /**
   * Aborts the request only while it still waits for the rate limiter (not yet sent): a time-boxed run stops
   * starting requests at its deadline but lets the ones already on the wire finish.
   */
  queueSignal?: AbortSignal;
}

/** Response headers; names are case-insensitive, repeated headers come joined with ", ". */
export interface ApiHeaders {
  get(name: string): string | null;
}

/**
 * One HTTP response with its body unread. The body must be consumed (`body`, `text()`, `json()`) or dropped
 * with `discard()`, which frees the connection.
 */
export interface ApiResponse {
  readonly status: number;
  /** 2xx. */
  readonly ok: boolean;
  /** The URL that answered (the last hop of a redirect chain). */
  readonly url: string;
  readonly headers: ApiHeaders;
  /** The body as a Node stream: chunks arrive as Buffers; an abort or a reset makes it error. */
  readonly body: Readable;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  discard(): void;
}

/**
 * Every API and media request goes through one ApiClient: it waits for the rate limiter of the request's
 * group, adds the bearer token (only for RingCentral hosts), hands 401s to the auth session's recovery and
 * retries, honours 429 + Retry-After for the whole group, and feeds X-Rate-Limit-* headers back to the limiter.
 */
export interface ApiClient {
  /**
   * GET an absolute URL or a path relative to the server. Resolves with the response (body unread) for any
   * status other than 401 and 429, which it handles itself; the caller decides what 2xx/4xx/5xx mean.
   */
  get(url: string, init?: ApiRequestInit): Promise<ApiResponse>;
  /** GET (or `init.method`) and parse JSON; a non-2xx status throws ApiError. */
  getJson<T>(url: string, init?: ApiRequestInit): Promise<T>;
  /**
   * getJson with a reader of its own: `read` gets the 2xx response and consumes its body. A SyntaxError from
   * `read` becomes ApiError ("not JSON"), any other error NetworkError (the connection broke mid-body).
   */
  getJsonWith<T>(
    url: string,
    init: ApiRequestInit | undefined,
    read: (response: ApiResponse) => Promise<T>,
  ): Promise<T>;
}

/**
 * What the API client needs from whoever owns the tokens (the auth session implements it). It lives here,
 * beside the client, so that `api/` never imports `auth/`.
 * Callers never see a refresh token, never refresh, never log in: they ask for an access token and report a
 * 401; the session does the rest under the profile's cross-process lock.
 */
export interface AccessTokenProvider {
  /** The configured API server origin, e.g. "https://platform.ringcentral.com" (no trailing slash). */
  readonly server: string;
  /**
   * A usable access token. When the stored one expires within a minute this refreshes first (under the
   * cross-process lock, re-reading the store before refreshing). Throws LoginRequiredError when no login
   * can be recovered.
   */
  getAccessToken(): Promise<string>;
  /**
   * A request sent with `rejectedToken` got 401 (OAU-213, OAU-129, OAU-128, ...). Recover once for all
   * concurrent callers: re-read the store, refresh, or log in again with the stored JWT. Resolves when
   * `getAccessToken()` will return a different token; throws LoginRequiredError when recovery is impossible
   * (also when fresh tokens keep being rejected: a run renews at most twice because of 401s). `errorCode` is
   * the 401's code (OAU-213, OAU-129, ...), for the diagnosis of its cause.
   */
  recover(rejectedToken: string, errorCode?: string): Promise<void>;
}
