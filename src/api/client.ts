import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import { BUDGETS } from "../retry.js";
import { ApiError, ForeignHostError, NetworkError, parseErrorBody, RateLimitedError } from "./errors.js";
import { isTokenHost } from "./hosts.js";
import type { RateLimiter } from "./rate-limiter.js";
import { createHttpTransport, type Transport } from "./transport.js";
import type { AccessTokenProvider, ApiClient, ApiRequestInit, ApiResponse } from "./types.js";

export interface ApiClientOptions {
  tokens: AccessTokenProvider;
  limiter: RateLimiter;
  log: Logger;
  /** Node's `http`/`https` (see transport.ts) unless a test injects another. */
  transport?: Transport;
  /** 401 → recover → retry, at most this many times per request. */
  maxAuthRetries?: number;
  /** 429 → wait out the group's penalty → retry, at most this many times per request. */
  maxRateLimitRetries?: number;
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createApiClient(options: ApiClientOptions): ApiClient {
  const { tokens, limiter, log } = options;
  const send = options.transport ?? createHttpTransport();
  const maxAuthRetries = options.maxAuthRetries ?? BUDGETS.api.authRecoveries;
  const maxRateLimitRetries = options.maxRateLimitRetries ?? BUDGETS.api.rateLimitRetries;
  const maxRedirects = options.maxRedirects ?? BUDGETS.api.redirects;
  const server = new URL(tokens.server);

  async function get(url: string, init: ApiRequestInit = {}): Promise<ApiResponse> {
    let target = new URL(url, server);
    let authRetries = 0;
    let rateLimitRetries = 0;
    let redirects = 0;
    for (;;) {
      // Checked before anything leaves the process, and again for every redirect hop.
      if (!isTokenHost(target, server)) throw new ForeignHostError(target.origin + target.pathname);
      // The slot first, then the token: a token fetched before a long rate-limit pause could expire in it.
      const permit = await limiter.acquire(target, init.signal);
      let token: string;
      try {
        token = await tokens.getAccessToken();
      } catch (error) {
        permit.release();
        throw error;
      }
      registerSecret(token);
      let response: ApiResponse;
      try {
        response = await send(target, {
          headers: { ...init.headers, Authorization: `Bearer ${token}` },
          ...(init.signal ? { signal: init.signal } : {}),
        });
      } catch (error) {
        permit.abandon();
        if (init.signal?.aborted) throw init.signal.reason;
        throw new NetworkError(target.pathname, error);
      }
      permit.settle(response.status, response.headers);
      log.debug(`GET ${target.pathname} -> ${response.status} (${permit.group})`);

      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location) {
        response.discard();
        if (++redirects > maxRedirects)
          throw new ApiError(response.status, undefined, "too many redirects", target.pathname);
        target = new URL(location, target);
        continue;
      }
      if (response.status === 401) {
        const body = parseErrorBody(await response.text());
        if (authRetries++ >= maxAuthRetries)
          throw new ApiError(401, body.errorCode, body.message, target.pathname);
        log.debug(`access token rejected (${body.errorCode ?? "401"}); recovering`);
        await tokens.recover(token);
        continue;
      }
      if (response.status === 429) {
        const body = parseErrorBody(await response.text());
        if (rateLimitRetries++ >= maxRateLimitRetries) {
          throw new RateLimitedError(429, body.errorCode, body.message, target.pathname);
        }
        log.debug(
          `rate limited (${body.errorCode ?? "429"}) in group ${permit.group}; retrying after the pause`,
        );
        continue; // the limiter holds the whole group until the penalty is over
      }
      return response;
    }
  }

  async function getJsonWith<T>(
    url: string,
    init: ApiRequestInit | undefined,
    read: (response: ApiResponse) => Promise<T>,
  ): Promise<T> {
    const response = await get(url, { ...init, headers: { Accept: "application/json", ...init?.headers } });
    const path = new URL(response.url || url, server).pathname;
    try {
      if (!response.ok) {
        const body = parseErrorBody(await response.text());
        throw new ApiError(response.status, body.errorCode, body.message, path);
      }
      return await read(response);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (init?.signal?.aborted) throw init.signal.reason;
      if (error instanceof SyntaxError)
        throw new ApiError(response.status, undefined, "response is not JSON", path);
      // The connection broke mid-body: as retryable as one that broke before the headers.
      throw new NetworkError(path, error);
    } finally {
      response.discard(); // nothing left to drop once the body was read
    }
  }

  const getJson = <T>(url: string, init?: ApiRequestInit): Promise<T> =>
    getJsonWith(url, init, (response) => response.json<T>());

  return { get, getJson, getJsonWith };
}
