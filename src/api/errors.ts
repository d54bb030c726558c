import { OperationError } from "../errors.js";
import { isTransientStatus } from "../retry.js";

/**
 * A non-2xx answer the caller did not expect (getJson), or a 401/429 that retries could not overcome. A server's
 * own trouble (5xx, 408) is retryable.
 */
export class ApiError extends OperationError {
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    /** `errors[0].errorCode` of the body (or the legacy top-level `errorCode`), when present. */
    readonly errorCode: string | undefined,
    readonly serverMessage: string | undefined,
    /** Path only: a query may carry secrets and is noise in a one-line message. */
    readonly path: string,
  ) {
    const detail = [errorCode, serverMessage].filter(Boolean).join(" ");
    super(`GET ${path} failed: HTTP ${status}${detail ? ` ${detail}` : ""}`);
    this.retryable = isTransientStatus(status);
  }
}

/**
 * Still 429 after the bounded number of retries (each one waited out the group's penalty). Retryable, but counted
 * as a rate limit: a budget decides whether to wait it out once more (see `BUDGETS` in retry.ts).
 */
export class RateLimitedError extends ApiError {
  override readonly retryable = true;
  readonly rateLimited = true;
}

/**
 * A URL outside RingCentral (and outside the configured server): the request is refused and the bearer token
 * never leaves the process.
 */
export class ForeignHostError extends OperationError {
  readonly permanent = true;

  constructor(
    readonly url: string,
    reason = "not a RingCentral host",
  ) {
    super(`refusing to send the access token to ${url}: ${reason}`);
  }
}

/**
 * A request that some profiles of a pool refused (403/404) while a profile that might have answered could not be
 * asked (its login died): no verdict on the item. Neither retried now nor permanent: the next run asks again.
 */
export class UnsettledRefusalError extends OperationError {
  constructor(
    readonly path: string,
    refusedBy: readonly string[],
  ) {
    super(
      `${path}: refused by ${refusedBy.map((name) => `profile "${name}"`).join(", ")}, and no other profile could be asked; the next run tries again`,
    );
  }
}

/**
 * The server's TLS certificate is not trusted (unknown CA, wrong name, expired). Not retryable: it will not
 * change on its own. Certificate checks are never turned off; a network that inspects TLS has to name its CA.
 */
export class TlsTrustError extends OperationError {
  /** Every other request to that host would fail the same way. */
  readonly endsRun = true;

  constructor(host: string, code: string, detail: string) {
    super(
      `the TLS certificate of ${host} is not trusted (${code}: ${detail}); if your network inspects TLS, give its CA certificate in NODE_EXTRA_CA_CERTS`,
    );
  }
}

/** OpenSSL's verdicts on a certificate chain or name (Node puts them in `code`). */
const TLS_TRUST_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** A TlsTrustError when `error` (or its cause, as fetch wraps it) is a certificate failure; else undefined. */
export function tlsTrustFailure(error: unknown, target: URL): TlsTrustError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && TLS_TRUST_CODES.has(code)) return new TlsTrustError(target.host, code, e.message);
  }
  return undefined;
}

/** The request never got a response (DNS, refused, reset, timeout). Worth retrying with backoff. */
export class NetworkError extends OperationError {
  readonly retryable = true;

  constructor(path: string, cause: unknown) {
    const reason = cause instanceof Error ? causeText(cause) : String(cause);
    super(`GET ${path}: network error: ${reason}`, { cause });
  }
}

/** A wrapped error ("fetch failed" and the like) hides the useful part (ECONNRESET, ...) in `cause`. */
function causeText(error: Error): string {
  const inner = error.cause;
  if (inner instanceof Error) {
    const code = (inner as NodeJS.ErrnoException).code;
    return code ? `${code} ${inner.message}` : inner.message;
  }
  return error.message;
}

/** Parse the RingCentral error body (`{"errors":[{"errorCode","message"}]}`, legacy fields) leniently. */
export function parseErrorBody(text: string): { errorCode?: string; message?: string } {
  try {
    const body = JSON.parse(text) as {
      errors?: Array<{ errorCode?: unknown; message?: unknown }>;
      errorCode?: unknown;
      message?: unknown;
      error_description?: unknown;
    };
    const first = Array.isArray(body.errors) ? body.errors[0] : undefined;
    const errorCode = str(first?.errorCode) ?? str(body.errorCode);
    const message = str(first?.message) ?? str(body.message) ?? str(body.error_description);
    return { ...(errorCode ? { errorCode } : {}), ...(message ? { message } : {}) };
  } catch {
    return {};
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
