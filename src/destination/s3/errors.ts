import { OperationError } from "../../errors.js";
import { isTransientStatus } from "../../retry.js";
import { StorageFullError } from "../errors.js";

/**
 * The object store refused or failed a request. The SDK has already retried what is worth retrying (5xx,
 * SlowDown, resets, timeouts: see MAX_ATTEMPTS in client.ts); `retryable` says whether a later attempt of the
 * whole recording may still succeed.
 */
export class StoreError extends OperationError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const DENIED = new Set([
  "AccessDenied",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "AccountProblem",
]);
/**
 * A store out of space or over its quota: any new object would be refused too. MinIO answers XMinioStorageFull
 * (507) below its free-space threshold and XMinioAdminBucketQuotaExceeded (400) past a hard bucket quota; Ceph
 * RGW and stores built on it answer QuotaExceeded (403); 507 Insufficient Storage says the same whatever the code.
 * Not EntityTooLarge: that refuses one object above the store's size limit, and smaller ones still fit.
 */
const FULL = new Set([
  "XMinioStorageFull",
  "XMinioAdminBucketQuotaExceeded",
  "QuotaExceeded",
  "InsufficientStorage",
]);
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH)$/;

/**
 * One line naming the bucket and the cause, for any failure of a request to the store: no credentials, access
 * denied, no such bucket, no region, store unreachable, or the store's own error.
 */
export function storeError(error: unknown, bucket: string, action: string): StoreError | StorageFullError {
  if (error instanceof StoreError || error instanceof StorageFullError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkError;
  const code = e.Code ?? e.name ?? "";
  const status = e.$metadata?.httpStatusCode;
  const where = `s3://${bucket}`;
  const make = (why: string, retryable = false) =>
    new StoreError(`${where}: ${action}: ${why}`, retryable, { cause: error });
  if (code === "CredentialsProviderError" || /could not load credentials/i.test(e.message ?? "")) {
    return make("no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)");
  }
  if (/region is missing/i.test(e.message ?? "")) return make("no region (set AWS_REGION)");
  if (code === "NoSuchBucket") return make("no such bucket");
  if (FULL.has(code) || status === 507) {
    return new StorageFullError(
      `${where}: ${action}: the store is full or over its quota (${code || "HTTP 507"})`,
      {
        cause: error,
      },
    );
  }
  if (DENIED.has(code) || status === 403) return make(`access denied (${code || "HTTP 403"})`);
  const network = networkCode(error);
  if (network) return make(`cannot reach the store (${network})`, true);
  if (
    code === "SlowDown" ||
    code === "ServiceUnavailable" ||
    (status !== undefined && isTransientStatus(status))
  ) {
    return make(`the store is unavailable (${code || `HTTP ${status}`})`, true);
  }
  const detail = e.message && e.message !== code ? `${code}: ${e.message}` : code || String(error);
  return make(detail, e.$retryable !== undefined);
}

/** The errno code of a network failure, looked for in the error and its causes. */
function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The store's error code and HTTP status of an SDK error (either may be missing: a 404 HEAD has no body). */
function factsOf(error: unknown): { code: string | undefined; status: number | undefined } {
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkError;
  return { code: e.Code ?? e.name, status: e.$metadata?.httpStatusCode };
}

/** Whether the error is one of `codes`, or has one of `statuses` (a response without a body has no code). */
function isOneOf(error: unknown, codes: readonly string[], statuses: readonly number[]): boolean {
  const { code, status } = factsOf(error);
  return (code !== undefined && codes.includes(code)) || (status !== undefined && statuses.includes(status));
}

/** A 404 of a HEAD or GET: the object (or upload) is not there; a missing bucket is not that. */
export function isNotFoundError(error: unknown): boolean {
  if (factsOf(error).code === "NoSuchBucket") return false;
  return isOneOf(error, ["NotFound", "NoSuchKey", "NoSuchUpload"], [404]);
}

/** A conditional write lost: the object exists (If-None-Match: *) or changed (If-Match). */
export function isPreconditionFailed(error: unknown): boolean {
  return isOneOf(error, ["PreconditionFailed", "ConditionalRequestConflict"], [412]);
}

/** The store does not implement this request (s3rver has no AbortMultipartUpload, for one). */
export function isNotImplemented(error: unknown): boolean {
  return isOneOf(error, ["NotImplemented", "MethodNotAllowed"], [501, 405]);
}

/**
 * The bucket has no Object Lock: none configured (AWS and MinIO: ObjectLockConfigurationNotFoundError, 404), or
 * a store that does not offer it (501, 405).
 */
export function isNoObjectLock(error: unknown): boolean {
  if (factsOf(error).code === "NoSuchBucket") return false;
  return isOneOf(error, ["ObjectLockConfigurationNotFoundError"], [404]) || isNotImplemented(error);
}
