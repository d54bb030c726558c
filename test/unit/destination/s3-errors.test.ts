import { describe, expect, it } from "vitest";
import { StorageFullError } from "../../../src/destination/errors.js";
import { storeError } from "../../../src/destination/s3/errors.js";
import { stopsNewWork } from "../../../src/errors.js";

/** An error shaped as the SDK throws them (name/Code, $metadata.httpStatusCode), for the classification only. */
function sdkError(name: string, status?: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe("store errors: one line naming the bucket, and whether a later attempt may help", () => {
  it.each([
    [sdkError("NoSuchBucket", 404), "s3://b: put: no such bucket", false],
    [sdkError("AccessDenied", 403), "s3://b: put: access denied (AccessDenied)", false],
    [sdkError("Forbidden", 403), "s3://b: put: access denied (Forbidden)", false],
    [sdkError("SignatureDoesNotMatch", 403), "s3://b: put: access denied (SignatureDoesNotMatch)", false],
    [
      sdkError("CredentialsProviderError", undefined, "Could not load credentials from any providers"),
      "s3://b: put: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)",
      false,
    ],
    [new Error("Region is missing"), "s3://b: put: no region (set AWS_REGION)", false],
    [sdkError("SlowDown", 503), "s3://b: put: the store is unavailable (SlowDown)", true],
    [sdkError("InternalError", 500), "s3://b: put: the store is unavailable (InternalError)", true],
    [
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      "s3://b: put: cannot reach the store (ECONNRESET)",
      true,
    ],
  ])("%s", (error, message, retryable) => {
    const mapped = storeError(error, "b", "put");
    expect(mapped.message).toBe(message);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.exitCode).toBe(1);
  });

  it.each([
    sdkError("XMinioStorageFull", 507),
    sdkError("XMinioAdminBucketQuotaExceeded", 400),
    sdkError("QuotaExceeded", 403),
    sdkError("Unknown", 507),
  ])("a store out of space or quota (%s) is the destination's StorageFullError: no new work", (error) => {
    const mapped = storeError(error, "b", "put");
    expect(mapped).toBeInstanceOf(StorageFullError);
    expect(stopsNewWork(mapped)).toBe(true);
    expect(mapped.message).toMatch(/^s3:\/\/b: put: the store is full or over its quota/);
  });

  it("one object too large for the store is not a full store", () => {
    expect(stopsNewWork(storeError(sdkError("EntityTooLarge", 400), "b", "put"))).toBe(false);
  });
});
