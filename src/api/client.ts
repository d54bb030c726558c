import { CliError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import { BUDGETS, parseRetryAfter, sleep } from "../retry.js";
import { announceWait } from "../waits.js";
import {
  ApiError,
  ForeignHostError,
  NetworkError,
  parseErrorBody,
  RateLimitedError,
  tlsTrustFailure,
  UnsettledRefusalError,
} from "./errors.js";
import { isTokenHost, mayFollowWithoutToken } from "./hosts.js";
import { type Lane, type LaneChooser, singleLane } from "./lanes.js";
import type { RateLimiter } from "./rate-limiter.js";
import { createHttpTransport, type Transport } from "./transport.js";
import type { AccessTokenProvider, ApiClient, ApiRequestInit, ApiResponse } from "./types.js";

/** One login and its limiter, or a chooser over several (a pool of profiles, see pool.ts). */
export type ApiClientOptions = (
  | { tokens: AccessTokenProvider; limiter: RateLimiter }
  | { lanes: LaneChooser }
) &
  ApiClientTuning;

interface ApiClientTuning {
  log: Logger;
  /** Node's `http`/`https` (see transport.ts) unless a test injects another. */
  transport?: Transport;
  /** 401 → recover → retry, at most this many times per request (the session bounds renewals per run). */
  maxAuthRetries?: number;
  /** 429 → wait out the group's penalty → retry, at most this many times per request. */
  maxRateLimitRetries?: number;
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * JSON requests (call-log pages, extension info) are small and answered at once: a server that accepted the
 * connection and then says nothing for this long is given up (and retried by the caller's budget). Media
 * transfers keep the transport's longer bound plus their own stall detection.
 */
export const JSON_IDLE_TIMEOUT_MS = 20_000;

/** CMN-304 "duplicate concurrent request" without Retry-After: the twin request is usually done by then. */
const DUPLICATE_RETRY_MS = 2_000;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const { log } = options;
  const lanes = "lanes" in options ? options.lanes : singleLane(options.tokens, options.limiter);
  const send = options.transport ?? createHttpTransport();
  const maxAuthRetries = options.maxAuthRetries ?? BUDGETS.api.authRecoveries;
  const maxRateLimitRetries = options.maxRateLimitRetries ?? BUDGETS.api.rateLimitRetries;
  const maxRedirects = options.maxRedirects ?? BUDGETS.api.redirects;
  const server = new URL(lanes.server);

  async function sendOrFail(target: URL, init: ApiRequestInit, headers: Record<string, string>) {
    try {
      return await send(target, {
        ...(init.method ? { method: init.method } : {}),
        headers,
        ...(init.signal ? { signal: init.signal } : {}),
        ...(init.idleTimeoutMs ? { idleTimeoutMs: init.idleTimeoutMs } : {}),
      });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw tlsTrustFailure(error, target) ?? new NetworkError(target.pathname, error);
    }
  }

  async function get(url: string, init: ApiRequestInit = {}): Promise<ApiResponse> {
    let target = new URL(url, server);
    let authRetries = 0;
    let rateLimitRetries = 0;
    let redirects = 0;
    // Once a redirect leaves the hosts that may see the token, no later hop gets it back (as in Fetch).
    let withToken = true;
    /** The lane and URL of the last request sent with a token: the one a redirect's final answer belongs to. */
    let via: { lane: Lane; url: URL } | undefined;
    /** Lanes that refused this request (403/404) where another lane might not (a pool's profiles). */
    const refused = new Map<Lane, number>();
    for (;;) {
      // Checked before anything leaves the process, and again for every redirect hop.
      if (withToken && !isTokenHost(target, server)) {
        // A URL we were handed (a contentUri) must be RingCentral's; only a redirect may lead elsewhere.
        if (redirects === 0) throw new ForeignHostError(target.origin + target.pathname);
        withToken = false;
      }
      if (!withToken) {
        if (!mayFollowWithoutToken(target, server)) {
          throw new ForeignHostError(target.origin + target.pathname, "redirect to plain HTTP refused");
        }
        // Storage elsewhere (a CDN, a presigned URL): no Authorization, no access_token, no rate limiter.
        target.searchParams.delete("access_token");
        const { Authorization: _dropped, ...headers } = init.headers ?? {};
        const response = await sendOrFail(target, init, headers);
        log.debug(
          `GET ${target.host}${target.pathname} -> ${response.status} (redirected, without the token)`,
        );
        const location = response.headers.get("location");
        if (!(REDIRECTS.has(response.status) && location)) {
          // Storage elsewhere answered for the lane whose request led there (a pool counts it as that profile's).
          if (via) lanes.responded?.(via.lane, via.url, response.status, refused);
          return response;
        }
        response.discard();
        if (++redirects > maxRedirects) throw tooManyRedirects(response.status, target);
        target = new URL(location, target);
        continue;
      }
      // The slot first, then the token: a token fetched before a long rate-limit pause could expire in it.
      const { lane, permit } = await acquireWhileQueued(lanes, target, init, refused);
      let token: string;
      try {
        token = await lane.tokens.getAccessToken();
      } catch (error) {
        permit.release();
        if (lanes.lost(lane, error)) continue;
        throw error;
      }
      registerSecret(token);
      let response: ApiResponse;
      try {
        response = await sendOrFail(target, init, { ...init.headers, Authorization: `Bearer ${token}` });
      } catch (error) {
        permit.abandon();
        throw error;
      }
      if (response.status === 429) {
        // The body names the limit (CMN-301/304/310...); the limiter needs it to pause the right thing.
        const body = parseErrorBody(await response.text().catch(() => ""));
        permit.settle(429, response.headers, body.errorCode);
        log.debug(`GET ${target.pathname} -> 429 ${body.errorCode ?? ""} (${permit.group})`);
        if (rateLimitRetries++ >= maxRateLimitRetries) {
          throw new RateLimitedError(429, body.errorCode, body.message, target.pathname);
        }
        if (body.errorCode === "CMN-304") {
          // The same request was in flight twice: wait a moment, then send this one again. The group's
          // budget is not spent, so nothing else pauses.
          const asked = parseRetryAfter(response.headers.get("retry-after")) ?? DUPLICATE_RETRY_MS;
          const waitMs = announceWait(log, asked, "duplicate concurrent request (CMN-304)");
          await sleep(waitMs, init.signal);
        } else {
          log.debug(`rate limited in group ${permit.group}; retrying after the pause`);
        }
        continue; // otherwise the limiter holds the whole group (or all of them) until the penalty is over
      }
      permit.settle(response.status, response.headers);
      log.debug(`GET ${target.pathname} -> ${response.status} (${permit.group})`);

      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location) {
        via = { lane, url: target };
        response.discard();
        if (++redirects > maxRedirects) throw tooManyRedirects(response.status, target);
        target = new URL(location, target);
        continue;
      }
      if (response.status === 401) {
        const body = parseErrorBody(await response.text());
        if (authRetries++ >= maxAuthRetries)
          throw new ApiError(401, body.errorCode, body.message, target.pathname);
        log.debug(`access token rejected (${body.errorCode ?? "401"}); recovering`);
        try {
          await lane.tokens.recover(token, body.errorCode);
        } catch (error) {
          if (!lanes.lost(lane, error)) throw error;
        }
        continue;
      }
      const refusal = lanes.refusal?.(lane, target, response.status, refused);
      if (refusal) {
        response.discard();
        refused.set(lane, response.status);
        log.debug(`GET ${target.pathname}: HTTP ${response.status} through profile "${lane.name}"`);
        if (refusal === "unsettled") {
          throw new UnsettledRefusalError(
            target.pathname,
            [...refused.keys()].map((l) => l.name),
          );
        }
        continue; // another lane may read it
      }
      lanes.responded?.(lane, target, response.status, refused);
      return response;
    }
  }

  async function getJsonWith<T>(
    url: string,
    init: ApiRequestInit | undefined,
    read: (response: ApiResponse) => Promise<T>,
  ): Promise<T> {
    const response = await get(url, {
      idleTimeoutMs: JSON_IDLE_TIMEOUT_MS,
      ...init,
      headers: { Accept: "application/json", ...init?.headers },
    });
    const path = new URL(response.url || url, server).pathname;
    try {
      if (!response.ok) {
        const body = parseErrorBody(await response.text());
        throw new ApiError(response.status, body.errorCode, body.message, path);
      }
      return await read(response);
    } catch (error) {
      // A typed verdict of the reader (a page too large, a malformed page) keeps its own retry policy.
      if (error instanceof CliError) throw error;
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

function tooManyRedirects(status: number, target: URL): ApiError {
  return new ApiError(status, undefined, "too many redirects (more than 5)", target.pathname);
}

/**
 * `lanes.acquire` under the request's signal and, while it waits in the limiter, also its `queueSignal`. One
 * short-lived controller per request, its listeners removed once a slot is granted (AbortSignal.any would
 * tie a dependent signal per request to the run's long-lived signals).
 */
async function acquireWhileQueued(
  lanes: LaneChooser,
  target: URL,
  init: ApiRequestInit,
  refused: ReadonlyMap<Lane, number>,
) {
  const { signal, queueSignal } = init;
  if (!queueSignal) return lanes.acquire(target, signal, refused);
  const queued = new AbortController();
  const sources = signal ? [signal, queueSignal] : [queueSignal];
  const forward = (source: AbortSignal) => () => queued.abort(source.reason);
  const listeners = sources.map((source) => {
    const listener = forward(source);
    if (source.aborted) listener();
    else source.addEventListener("abort", listener, { once: true });
    return () => source.removeEventListener("abort", listener);
  });
  try {
    return await lanes.acquire(target, queued.signal, refused);
  } finally {
    for (const remove of listeners) remove();
  }
}
