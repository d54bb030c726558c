// How a token request failed, sorted by what to do next (RingCentral's rules for the token endpoint).

import { isTransientStatus, parseRetryAfter } from "../retry.js";

/** The server answered the token request with a definite "no" (4xx): retrying the same request cannot help. */
export class TokenRequestRejected extends Error {
  constructor(
    readonly status: number,
    /** The OAuth `error`, e.g. "invalid_grant", "invalid_client"; empty when the body had none. */
    readonly oauthError: string,
    /** RingCentral's `errorCode`, e.g. "OAU-211". */
    readonly errorCode: string,
    description: string,
  ) {
    super(`${description || `HTTP ${status}`}${errorCode ? ` (${errorCode})` : ""}`);
    this.name = "TokenRequestRejected";
  }

  /** The grant itself is dead (expired/revoked/consumed refresh token, bad JWT): only a new login helps. */
  get invalidGrant(): boolean {
    return this.oauthError === "invalid_grant";
  }
}

export type TokenFailure =
  | { kind: "rejected"; error: TokenRequestRejected }
  | { kind: "rate-limited"; retryAfterMs: number | undefined }
  /** A 3xx: where it points (never followed). */
  | { kind: "redirected"; status: number; target: string }
  | { kind: "transient"; reason: string; cause: unknown };

/** Sort an SDK failure: a definite answer, a rate limit, or something worth retrying. */
export async function classify(error: unknown): Promise<TokenFailure> {
  const response = (error as { response?: Response } | null)?.response;
  if (!(response instanceof Response)) {
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    return { kind: "transient", reason: `network error: ${reason}`, cause: error };
  }
  const status = response.status;
  if (status >= 300 && status < 400) {
    const location = response.headers.get("location") ?? "";
    // The host only: a relative Location's path and query (an OAuth `code=`, say) never reach a message.
    const target = URL.canParse(location)
      ? new URL(location).host
      : location
        ? `${location.split("?")[0]} (relative)`
        : "nowhere (no Location)";
    return { kind: "redirected", status, target };
  }
  if (status === 429)
    return { kind: "rate-limited", retryAfterMs: parseRetryAfter(response.headers.get("retry-after")) };
  if (isTransientStatus(status)) return { kind: "transient", reason: `HTTP ${status}`, cause: error };
  const body: Record<string, unknown> = await response
    .clone()
    .json()
    .then((json: unknown) =>
      typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {},
    )
    .catch(() => ({}));
  const errors = Array.isArray(body.errors) ? (body.errors as Array<Record<string, unknown>>) : [];
  const first = errors[0] ?? {};
  const description =
    stringField(body.error_description) || stringField(first.message) || stringField(body.message);
  const errorCode = stringField(first.errorCode) || stringField(body.errorCode);
  return {
    kind: "rejected",
    error: new TokenRequestRejected(status, stringField(body.error), errorCode, description),
  };
}

export function stringField(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}
